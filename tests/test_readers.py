"""JSONL, CSV, BEIR and arXiv-snapshot readers, and every kind of bad input."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path

import pytest

from rag.corpus.arxiv import is_arxiv_snapshot
from rag.corpus.load import expand_paths, read_file
from rag.corpus.records import RawPaper
from rag.corpus.stream import ReadLimits
from rag.corpus.tabular import read_csv
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


def test_arxiv_export_with_nested_metadata_reads_every_field() -> None:
    papers, errors = read(FIXTURES / "arxiv_export.jsonl.gz")
    assert not errors and len(papers) == 3
    first = papers[0]
    assert (first.given_id, first.title, first.date) == (
        "arXiv:1804.06498",
        "Deep Multimodal Subspace Clustering Networks",
        "2018-04",
    )
    assert first.abstract.startswith("We present convolutional neural network (CNN) based approaches")
    assert first.authors == ("Mahdi Abavisani", "Vishal M. Patel") and first.author_count == 2
    assert first.categories[:3] == ("cs.LG", "cs.AI", "cs.CV")
    assert first.url == "https://arxiv.org/abs/1804.06498"
    assert [p.date for p in papers] == ["2018-04", "2018-12", "2019-04"] and [p.line for p in papers] == [1, 2, 3]


@pytest.mark.parametrize("name", ["x.jsonl.gz", "x.ndjson.gz", "x.json.gz", "x.csv.gz", "x.tsv.gz"])
def test_gzipped_inputs_read_like_plain_ones(tmp_path: Path, name: str) -> None:
    rows = [{"id": f"g{i}", "title": f"Gzip Paper {i}", "abstract": f"Abstract {i}, compressed."} for i in (1, 2)]
    if name.startswith("x.json."):
        text = json.dumps(rows, indent=1)
    elif ".jsonl" in name or ".ndjson" in name:
        text = "".join(json.dumps(r) + "\n" for r in rows)
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter="\t" if ".tsv" in name else ",")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    (tmp_path / name).write_bytes(gzip.compress(text.encode()))
    papers, errors = read(tmp_path / name)
    assert not errors
    assert [(p.given_id, p.title, p.abstract) for p in papers] == [(r["id"], r["title"], r["abstract"]) for r in rows]


def test_semicolon_csv_is_read_by_its_header() -> None:
    path = FIXTURES / "papers.csv"
    rows = list(csv.reader(path.read_text().splitlines()))
    papers, errors = read_rows(rows, delimiter=";")
    assert not errors and [p.title for p in papers] == ["Quantum Annealing for Timetabling", "Beekeeping Vision"]


def read_rows(rows: list[list[str]], delimiter: str) -> tuple[list[RawPaper], list[FileError]]:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    items = list(read_csv(enumerate(buffer.getvalue().splitlines(keepends=True), start=1), "s.csv"))
    return [i for i in items if isinstance(i, RawPaper)], [i for i in items if isinstance(i, FileError)]


def test_csv_quoting_survives_a_sample_that_fools_the_sniffer() -> None:
    # csv.Sniffer reads this sample as doublequote=False, which split the first row in two
    rows = [
        ["id", "title", "abstract", "year"],
        ["1", "Plain", "A simple abstract.", "2020"],
        ["2", "Quoted", 'He said "stop" twice\nand then a new line.', "2021"],
        ["3", "Third", "Another abstract.", "2022"],
    ]
    papers, errors = read_rows(rows, delimiter=",")
    assert not errors
    assert [(p.given_id, p.abstract, p.date) for p in papers] == [
        ("1", "A simple abstract.", "2020"),
        ("2", 'He said "stop" twice and then a new line.', "2021"),
        ("3", "Another abstract.", "2022"),
    ]
    assert [p.line for p in papers] == [2, 3, 5]


def test_a_listing_dump_with_an_undecodable_line_keeps_the_rest(tmp_path: Path) -> None:
    prose = "We present a method for robust reading of listing dumps with bad bytes. " * 3
    (tmp_path / "dump.txt").write_bytes(
        f"Good Title\n{prose}\n\nBad Title\n".encode() + b"Caf\xe9 " * 40 + f"\n\nOther Title\n{prose}\n".encode()
    )
    papers, errors = read(tmp_path / "dump.txt")
    assert [p.title for p in papers] == ["Good Title", "Other Title"]
    assert [(e.line, e.message) for e in errors] == [(5, "not UTF-8 text (byte 0xe9); skipped")]


def test_a_file_that_is_not_regular_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    found = expand_paths([fifo, tmp_path])
    assert not found.files
    assert [str(e) for e in found.errors] == [
        f"{fifo}: a FIFO (named pipe), not a regular file; refused",
        f"{fifo}: a FIFO (named pipe), not a regular file; refused",
        f"{tmp_path}: no supported files in directory",
    ]
    papers, errors = read(fifo)  # a FIFO that replaced a listed file is refused at open, without blocking
    assert not papers and errors[0].message == "a FIFO (named pipe), not a regular file; refused"


def test_read_limits_are_applied(tmp_path: Path) -> None:
    limits = ReadLimits(max_line_chars=200, max_field_chars=100, max_whole_file_chars=1000, max_errors_per_file=1)
    ok = '{"title": "T", "abstract": "short"}'
    (tmp_path / "a.jsonl").write_text("\n".join([ok, '{"abstract": "' + "x" * 150 + '"}', "y" * 300, ok]) + "\n")
    items = list(read_file(tmp_path / "a.jsonl", limits))
    assert [i.abstract for i in items if isinstance(i, RawPaper)] == ["short", "short"]
    assert [str(i).split(": ", 1)[1] for i in items if isinstance(i, FileError)] == [
        "abstract of 150 characters (limit 100); record skipped",
        "1 more errors not listed",
    ]
    (tmp_path / "b.json").write_text(json.dumps([json.loads(ok)] * 40))
    assert [str(e) for e in read_file(tmp_path / "b.json", limits)] == [
        f"{tmp_path / 'b.json'}: larger than 1,000 characters, the most read whole for this file type "
        "(JSONL and CSV are streamed at any size)"
    ]
    prose = "word " * 46  # prose: at least 45 words
    (tmp_path / "c.txt").write_text(f"Title\n{prose}\n\n" * 20)
    items = list(read_file(tmp_path / "c.txt", ReadLimits(max_whole_file_chars=1000)))
    assert [str(e).split(": ", 1)[1] for e in items if isinstance(e, FileError)] == [
        "larger than 1,000 characters, the most read for a listing dump; the rest of the file is not read"
    ]
    assert [p.line for p in items if isinstance(p, RawPaper)] == [1, 4, 7, 10]  # 4 blocks of 238 characters
