"""JSONL, CSV, BEIR and arXiv-snapshot readers, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

from rag.corpus.arxiv import is_arxiv_snapshot
from rag.corpus.load import expand_paths, read_file
from rag.corpus.records import RawPaper
from rag.types import FileError
from tests.conftest import CORPUS, FIXTURES


def read(path: Path) -> tuple[list[RawPaper], list[FileError]]:
    items = list(read_file(path))
    return [i for i in items if isinstance(i, RawPaper)], [i for i in items if isinstance(i, FileError)]


def test_jsonl_columns_match_case_insensitively_with_aliases() -> None:
    papers, errors = read(FIXTURES / "papers.jsonl")
    assert not errors
    first, second, third = papers
    assert (first.given_id, first.title, first.date, first.url) == (
        "p-001",
        "Sparse Mixture Routers for Protein Folding",
        "2021",
        "https://example.org/p1",
    )
    assert first.authors == ("Ada Lovelace", "Alan Turing")
    assert second.given_id == "p-002" and second.abstract.startswith("Graph neural networks over sensor")
    assert second.authors == ("Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")
    assert second.date == "2019-06-02" and second.line == 2
    assert third.given_id is None and third.title == "A Paper With No Identifier"


def test_csv_reader() -> None:
    papers, errors = read(FIXTURES / "papers.csv")
    assert not errors
    assert [p.title for p in papers] == ["Quantum Annealing for Timetabling", "Beekeeping Vision"]
    assert papers[0].authors == ("Marie Curie", "Niels Bohr")
    assert papers[0].date == "2022" and papers[1].url is None
    assert [p.line for p in papers] == [2, 3]


def test_beir_corpus_loads_as_it_is() -> None:
    papers, errors = read(FIXTURES / "beir_corpus.jsonl")
    assert not errors
    assert [p.given_id for p in papers] == ["4983", "5836"]
    assert papers[0].abstract.startswith("Alterations of the architecture")


def test_arxiv_snapshot_is_streamed_with_ids_urls_and_authors() -> None:
    path = FIXTURES / "arxiv_snapshot.jsonl"
    assert is_arxiv_snapshot(path.read_bytes().splitlines()[0])
    papers, errors = read(path)
    assert not errors
    diphoton, lora = papers
    assert diphoton.given_id == "0704.0001" and diphoton.url == "https://arxiv.org/abs/0704.0001"
    assert diphoton.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert diphoton.date == "2008-11-13" and diphoton.categories == ("hep-ph",)
    assert lora.authors[0] == "Edward J. Hu" and len(lora.authors) == 8
    assert "\n" not in lora.abstract and lora.abstract.startswith("We propose Low-Rank Adaptation")


def test_directory_is_read_recursively(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "x.jsonl").write_bytes((FIXTURES / "papers.jsonl").read_bytes())
    (tmp_path / "y.csv").write_bytes((FIXTURES / "papers.csv").read_bytes())
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    found = expand_paths([tmp_path, CORPUS])
    assert {p.name for p in found.files} >= {"x.jsonl", "y.csv"}
    assert len(found.files) == 6 and not found.errors


def test_missing_path_is_an_error_naming_it(tmp_path: Path) -> None:
    found = expand_paths([tmp_path / "nope.jsonl"])
    assert not found.files
    assert str(found.errors[0]) == f"{tmp_path / 'nope.jsonl'}: no such file or directory"


def test_empty_binary_and_non_utf8_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "blob.jsonl").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes(b"Title\n" + ("Caf\xe9 " * 80).encode("latin-1"))
    for name, message in [
        ("empty.txt", "empty file"),
        ("blob.jsonl", "binary file"),
        ("latin1.txt", "not UTF-8"),
    ]:
        papers, errors = read(tmp_path / name)
        assert not papers
        assert len(errors) == 1 and message in errors[0].message, errors
    assert read(tmp_path / "latin1.txt")[1][0].line == 2


def test_broken_json_line_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    good = (FIXTURES / "papers.jsonl").read_text().splitlines()
    (tmp_path / "mixed.jsonl").write_text("\n".join([good[0], '{"title": "oops", "abstract": ', good[1]]) + "\n")
    papers, errors = read(tmp_path / "mixed.jsonl")
    assert [p.given_id for p in papers] == ["p-001", "p-002"]
    assert len(errors) == 1 and errors[0].line == 2 and "broken JSON" in errors[0].message


def test_csv_without_an_abstract_column(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("title,year\nSomething,2020\n")
    papers, errors = read(tmp_path / "bad.csv")
    assert not papers
    assert errors[0].line == 1 and "no abstract column" in errors[0].message
    assert "title, year" in errors[0].message
