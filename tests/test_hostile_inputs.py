"""Hostile and broken input files, through `Assistant.ingest` on a hash-embedded index.

Every case checks that: the error names the file (and the line where there is one) in one line;
the good records of the same file are ingested; the index counts (papers, chunks, vectors, BM25
entries) move by exactly those records; and a good file indexed before stays fully indexed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.index.chunking import Chunker
from rag.tokens import encoding
from rag.types import IngestReport, Paper
from tests.conftest import FIXTURES

BASE_IDS = ("p-001", "p-002")  # from tests/fixtures/papers.jsonl, indexed first


@dataclass
class Lab:
    """One hash-embedded index shared by the module; each test adds its own files (unique ids)."""

    assistant: Assistant
    base_papers: int


def make_lab(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Lab]:
    """A hash-embedded index of the three fixture papers in a folder of its own, for a module's tests."""
    assistant = Assistant(Settings(data_dir=tmp_path_factory.mktemp(name), embed="hash"))
    report = assistant.ingest([FIXTURES / "papers.jsonl"], progress=False)
    assert report.papers_added == 3 and not report.errors
    yield Lab(assistant, 3)
    assistant.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from make_lab(tmp_path_factory, "hostile-index")


def counts(assistant: Assistant) -> tuple[int, int, int, int]:
    s = assistant.stats()
    return s.papers, s.chunks, s.vectors, s.bm25_entries


def record(key: str, **fields: object) -> str:
    """One JSONL line of a distinct, valid paper."""
    base = {
        "id": key,
        "title": f"Paper {key} on hostile input handling",
        "abstract": f"We study robust ingestion case {key}. The reader keeps every good record of a bad file.",
    }
    return json.dumps(base | fields, ensure_ascii=False)


def lines(*items: str) -> str:
    return "".join(i + "\n" for i in items)


def ingest(
    lab: Lab,
    paths: list[Path],
    *,
    added: int,
    errors: list[tuple[Path, int | None, str]],
    chunks: int | None = None,
) -> IngestReport:
    """Ingest `paths` and check the report's errors, the papers added and the index counts before and after."""
    before = counts(lab.assistant)
    report = lab.assistant.ingest(paths, progress=False)
    after = counts(lab.assistant)
    new_chunks = added if chunks is None else chunks
    assert report.papers_added == added, report
    assert after == (before[0] + added, before[1] + new_chunks, before[2] + new_chunks, before[3] + new_chunks)
    assert all(lab.assistant.paper(pid) is not None for pid in BASE_IDS)
    messages = [str(e) for e in report.errors]
    assert len(messages) == len(errors), messages
    for path, line, text in errors:
        prefix = f"{path}:{line}: " if line else f"{path}: "
        assert any(m.startswith(prefix) and text in m for m in messages), (prefix, text, messages)
    assert all("\n" not in m and "Traceback" not in m for m in messages)
    return report


# --- item 8: a title longer than the chunk --------------------------------------------------


def test_title_longer_than_the_chunk_keeps_the_paper_with_a_cut_header(lab: Lab, tmp_path: Path) -> None:
    title = "An extremely long title " * 400  # ~2,400 tokens against a 512-token chunk
    path = tmp_path / "long-title.jsonl"
    path.write_text(lines(record("lt-1", title=title), record("lt-2")))
    ingest(lab, [path], added=2, errors=[])
    paper = lab.assistant.paper("lt-1")
    assert paper is not None and paper.title == title.strip()


def test_a_long_title_is_cut_in_the_embedded_text_only() -> None:
    chunker = Chunker(chunk_size=128)
    paper = Paper(id="x", title="Word " * 600, abstract="A short abstract. " * 40)
    chunks = chunker.chunk(paper)
    tokens = [len(encoding().encode(c.embed_text)) for c in chunks]
    assert len(chunks) > 1 and max(tokens) <= 128 + 2
    assert all(c.embed_text.startswith("Word Word") and c.embed_text.split("\n")[0].endswith("…") for c in chunks)
    assert "".join(c.text for c in chunks).count("A short abstract.") >= 40


# --- item 9: huge records -----------------------------------------------------------------------


def test_a_line_of_millions_of_characters_costs_only_that_line(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "huge-line.jsonl"
    path.write_text(lines(record("hl-1"), record("hl-2", abstract="word " * 1_200_000), record("hl-3")))
    ingest(lab, [path], added=2, errors=[(path, 2, "characters (limit 1,000,000); skipped")])


def test_an_abstract_over_the_field_cap_is_refused_per_record(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "huge-abstract.jsonl"
    path.write_text(lines(record("ha-1"), record("ha-2", abstract="Long. " * 30_000), record("ha-3")))
    ingest(lab, [path], added=2, errors=[(path, 2, "abstract of 179,999 characters (limit 100,000)")])


def test_a_text_dump_with_one_giant_line(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "giant-line.txt"
    prose = "We present giant line handling for listing dumps. " * 5
    path.write_text(f"Giant Line Listing Paper\n{prose}\n\n" + "x" * 1_500_000 + "\n")
    ingest(lab, [path], added=1, errors=[(path, 4, "line of 1,500,000 characters")])


# --- item 10: encodings, bad bytes, NUL, BOM ----------------------------------------------------


def test_valid_utf8_straddling_the_8k_boundary_is_read(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "straddle.jsonl"
    head = record("st-1", comment="")[:-2].encode()  # up to the opening quote of the comment's value
    pad = 8191 - len(head)  # "é" (2 bytes) then starts at byte 8191 and ends at 8192
    first = record("st-1", comment="a" * pad + "é" * 10)
    assert first.encode()[8191:8193] == "é".encode()
    path.write_text(lines(first, record("st-2")), encoding="utf-8")
    ingest(lab, [path], added=2, errors=[])


@pytest.mark.parametrize(
    ("bad", "where", "message"),
    [(b"\xff", 1, "not UTF-8 text (byte 0xff)"), (b"\x00", 1, "NUL byte"), (b"\xe9", 3, "byte 0xe9")],
    ids=["bad-byte-first-line", "nul-first-line", "bad-byte-last-line"],
)
def test_a_bad_byte_or_nul_rejects_only_its_line(
    lab: Lab, tmp_path: Path, bad: bytes, where: int, message: str
) -> None:
    key = f"bb-{bad.hex()}-{where}"
    rows = [record(f"{key}-{i}").encode() for i in (1, 2, 3)]
    rows[where - 1] = rows[where - 1][:30] + bad + rows[where - 1][30:]
    path = tmp_path / "bad-byte.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")
    ingest(lab, [path], added=2, errors=[(path, where, message)])


@pytest.mark.parametrize("hole", [4096, 20000], ids=["inside-the-head", "past-the-head"])
def test_a_block_of_nul_bytes_rejects_only_its_line(lab: Lab, tmp_path: Path, hole: int) -> None:
    """What a crash mid-write leaves (a run of zeros where a record was) costs that line, not the file."""
    path = tmp_path / f"hole-{hole}.jsonl"
    path.write_bytes(
        record(f"ho-{hole}-1").encode() + b"\n" + b"\x00" * hole + b"\n" + record(f"ho-{hole}-3").encode() + b"\n"
    )
    ingest(lab, [path], added=2, errors=[(path, 2, "NUL byte")])


def test_an_archive_or_database_holding_text_is_still_binary(lab: Lab, tmp_path: Path) -> None:
    # helper-52: with NUL runs set aside, a tar of JSONL files read as text (49 papers) and so did an SQLite file
    import io
    import sqlite3
    import tarfile

    inner = lines(*(record(f"tar-{i}") for i in range(5))).encode()
    archive = tmp_path / "papers.tar.jsonl"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("papers.jsonl")
        info.size = len(inner)
        tar.addfile(info, io.BytesIO(inner))
    database = tmp_path / "papers.db.jsonl"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA page_size=512")
        db.execute("CREATE TABLE t(x TEXT)")
        db.executemany("INSERT INTO t VALUES (?)", [(record(f"db-{i}"),) for i in range(5)])
    db.close()
    for path in (archive, database):
        ingest(lab, [path], added=0, errors=[(path, None, "binary file")])


def test_a_file_of_nul_bytes_only_is_binary(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "zeros.jsonl"
    path.write_bytes(b"\x00" * 10000)
    ingest(lab, [path], added=0, errors=[(path, None, "binary file")])


def test_a_byte_order_mark_keeps_the_first_record(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + lines(record("bom-1"), record("bom-2")).encode())
    ingest(lab, [path], added=2, errors=[])
    assert lab.assistant.paper("bom-1") is not None


def test_utf16_with_a_byte_order_mark_is_read(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "utf16.jsonl"
    path.write_text(lines(record("u16-1", title="Ça marche"), record("u16-2")), encoding="utf-16")
    ingest(lab, [path], added=2, errors=[])
    assert lab.assistant.paper("u16-1").title == "Ça marche"


def test_a_latin1_csv_row_costs_only_that_row(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"title,abstract\n"
        b"Latin One Good,A good abstract about latin one encodings in csv files.\n"
        b"Caf\xe9 Paper,An abstract written in Latin-1 by a legacy tool.\n"
        b"Latin Two Good,Another good abstract about csv files with one bad row.\n"
    )
    ingest(lab, [path], added=2, errors=[(path, 3, "not UTF-8 text (byte 0xe9); record skipped")])


def test_a_binary_file_named_jsonl(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "image.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    ingest(lab, [path], added=0, errors=[(path, None, "binary file")])


def test_control_characters_and_lone_surrogates_are_cleaned(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "control.jsonl"
    path.write_text(
        lines(
            record("cc-1", title="Bell\x07 and \x1b[1mescape\x1b[0m", abstract="Tab\tand form\x0cfeed text. Fine."),
            '{"id": "cc-2", "title": "Lone \\ud83d surrogate", "abstract": "A \\ud800 lone surrogate escape."}',
        )
    )
    ingest(lab, [path], added=2, errors=[])
    first, second = lab.assistant.paper("cc-1"), lab.assistant.paper("cc-2")
    assert first.title == "Bell and [1mescape [0m" and first.abstract == "Tab and form feed text. Fine."
    assert second.title == "Lone surrogate" and second.abstract == "A lone surrogate escape."


# --- item 11: CSV ---------------------------------------------------------------------------------


def test_csv_writer_quotes_and_newlines_make_exactly_the_papers_written(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "title", "abstract", "year"])
    writer.writerow(["csv-1", "Plain", "A plain abstract before the tricky one.", "2020"])
    writer.writerow(["csv-2", "The Quoted Title", 'He said "stop" twice\nand then went on.', "2021"])
    writer.writerow(["csv-3", "Third", "A plain abstract after the tricky one.", "2022"])
    path.write_text(buffer.getvalue())  # csv.Sniffer guesses doublequote=False for this file
    ingest(lab, [path], added=3, errors=[])
    tricky = lab.assistant.paper("csv-2")
    assert tricky.title == "The Quoted Title" and tricky.year == 2021
    assert tricky.abstract == 'He said "stop" twice and then went on.'


def test_csv_with_only_a_header(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "header-only.csv"
    path.write_text("title,abstract\n")
    ingest(lab, [path], added=0, errors=[(path, 1, "no rows after the header")])


def test_csv_cut_inside_a_quoted_field_invents_no_paper(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text('id,title,abstract\ncut-1,Kept,A complete first row.\ncut-2,Cut,"An abstract that never\nends')
    ingest(lab, [path], added=1, errors=[(path, 3, "malformed CSV")])


# --- item 12: deep nesting ------------------------------------------------------------------------


def test_deeply_nested_json_document(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    ingest(lab, [path], added=0, errors=[(path, 1, "nested too deeply")])


def test_deeply_nested_jsonl_line_costs_only_that_line(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(lines(record("dn-1"), "[" * 200_000 + "]" * 200_000, record("dn-2")))
    ingest(lab, [path], added=2, errors=[(path, 2, "nested too deeply")])


# --- JSON records that are not papers ----------------------------------------------------------


def test_non_string_and_empty_abstracts_are_reported_per_record(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "types.jsonl"
    path.write_text(
        lines(
            record("ty-1", abstract=12345),
            record("ty-2", abstract={"text": "nested"}),
            record("ty-3", abstract=""),
            record("ty-4", abstract=["First paragraph of a list abstract.", "Second paragraph."]),
            "[1, 2, 3]",
        )
    )
    ingest(
        lab,
        [path],
        added=1,
        errors=[
            (path, 1, "abstract is a number"),
            (path, 2, "abstract is an object"),
            (path, 3, "empty abstract"),
            (path, 5, "expected a JSON object"),
        ],
    )
    assert lab.assistant.paper("ty-4").abstract == "First paragraph of a list abstract. Second paragraph."


def test_json_list_with_a_broken_item_keeps_the_items_before_it(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[\n" + ",\n".join([record("jl-1"), record("jl-2"), '{"id": "jl-3", "abstract": "cut']) + "\n]")
    ingest(lab, [path], added=2, errors=[(path, 4, "broken JSON")])


def test_truncated_last_jsonl_line_without_newline(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "truncated.jsonl"
    path.write_text(record("tr-1") + "\n" + record("tr-2")[:-20])
    ingest(lab, [path], added=1, errors=[(path, 2, "broken JSON")])


def test_too_many_bad_lines_are_summarised(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "noisy.jsonl"
    path.write_text(lines(record("ns-1"), *["{broken"] * 50, record("ns-2")))
    report = lab.assistant.ingest([path], progress=False)
    assert report.papers_added == 2
    assert len(report.errors) == 21 and str(report.errors[-1]) == f"{path}: 30 more errors not listed"


# --- empty and junk text ---------------------------------------------------------------------


def test_zero_byte_file(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "zero.jsonl"
    path.write_bytes(b"")
    ingest(lab, [path], added=0, errors=[(path, None, "empty file")])


def test_listing_page_of_only_junk(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_text("Subscribe\nDaily Papers\nGet trending papers in your email inbox!\nNew\n\n12\n")
    ingest(lab, [path], added=0, errors=[(path, None, "no abstracts found")])


# --- item 13 and 15: special files and directory walks ------------------------------------------


def test_a_fifo_is_refused_without_hanging(lab: Lab, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    result: list[IngestReport] = []
    worker = threading.Thread(target=lambda: result.append(lab.assistant.ingest([fifo], progress=False)))
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():  # unblock the reader before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("ingesting a FIFO hung")
    assert [str(e) for e in result[0].errors] == [f"{fifo}: a FIFO (named pipe), not a regular file; refused"]
    ingest(lab, [Path("/dev/null")], added=0, errors=[(Path("/dev/null"), None, "a character device")])


def test_directory_walk_reports_skipped_types_special_files_and_symlink_loops(lab: Lab, tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.jsonl").write_text(lines(record("dw-1")))
    (folder / "sub" / "more.jsonl").write_text(lines(record("dw-2")))
    for name in ("paper.pdf", "scan.PDF", "notes.docx", "archive.tar.gz", "README"):
        (folder / name).write_bytes(b"%PDF-1.4 not a supported type")
    os.mkfifo(folder / "pipe.csv")
    (folder / "sub" / "up").symlink_to(folder)  # a directory cycle
    (folder / "self.jsonl").symlink_to(folder / "self.jsonl")  # a symlink loop
    report = ingest(
        lab,
        [folder],
        added=2,
        errors=[
            (folder / "pipe.csv", None, "a FIFO (named pipe), not a regular file; refused"),
            (folder / "self.jsonl", None, "cannot read: Too many levels of symbolic links"),
        ],
    )
    assert report.skipped_unsupported == {".pdf": 2, ".docx": 1, ".tar.gz": 1, "(no extension)": 1}


# --- compressed input (issue 11) -------------------------------------------------------------------


def test_truncated_gzip_keeps_the_records_before_the_damage(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(lines(*(record(f"gz-{i}") for i in range(400))).encode(), mtime=0)
    path.write_bytes(data[: len(data) // 2])
    report = lab.assistant.ingest([path], progress=False)
    kept = report.papers_added
    assert 50 < kept < 400 and lab.assistant.paper(f"gz-{kept - 1}") is not None
    assert lab.assistant.paper(f"gz-{kept}") is None
    assert [str(e) for e in report.errors] == [
        f"{path}:{kept + 1}: compressed data is damaged or truncated "
        "(Compressed file ended before the end-of-stream marker was reached); the rest of the file is not read"
    ]


def test_a_gzip_damaged_after_indexing_loses_nothing(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "papers.jsonl.gz"
    data = gzip.compress(lines(*(record(f"gd-{i}") for i in range(300))).encode(), mtime=0)
    path.write_bytes(data)
    ingest(lab, [path], added=300, errors=[])
    damaged = bytearray(data)
    damaged[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    path.write_bytes(bytes(damaged))
    # deflate often decodes damaged data into plausible garbage before the CRC fails: none of it may land
    report = ingest(lab, [path], added=0, errors=[(path, None, "compressed data is corrupt")])
    assert report.papers_updated == 0
    for i in range(300):
        assert lab.assistant.paper(f"gd-{i}").abstract.startswith(f"We study robust ingestion case gd-{i}.")


def test_not_gzip_data_behind_a_gz_name(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl.gz"
    path.write_text(lines(record("ng-1")))
    ingest(lab, [path], added=0, errors=[(path, None, "compressed data is corrupt (Not a gzipped file")])


def test_a_jsonl_overwritten_with_binary_keeps_its_papers(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "was-good.jsonl"
    path.write_text(lines(record("wg-1"), record("wg-2")))
    ingest(lab, [path], added=2, errors=[])
    path.write_bytes(os.urandom(4096))
    ingest(lab, [path], added=0, errors=[(path, None, "binary file")])
    assert lab.assistant.paper("wg-1") is not None and lab.assistant.paper("wg-2") is not None


# --- the real command -------------------------------------------------------------------------------


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_rag_ingest_cli_exits_1_with_one_line_per_error_and_no_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.jsonl").write_text(lines(record("cli-1"), "[" * 100_000 + "]" * 100_000, record("cli-2")))
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "notes.pdf").write_bytes(b"%PDF")
    os.mkfifo(tmp_path / "pipe.jsonl")
    env = os.environ | {"RAG_DATA_DIR": str(tmp_path / "data"), "RAG_EMBED": "hash"}
    rag = Path(sys.executable).parent / "rag"
    proc = subprocess.run(
        [str(rag), "ingest", str(folder), str(tmp_path / "pipe.jsonl")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("skipped")]
    assert errors == [
        f"skipped {tmp_path / 'pipe.jsonl'}: a FIFO (named pipe), not a regular file; refused",
        f"skipped {folder / 'deep.json'}:1: JSON nested too deeply; the rest of the file is not read",
        f"skipped {folder / 'good.jsonl'}:2: JSON nested too deeply; skipped",
    ]
    assert "2 papers added" in proc.stdout
    assert "not read (unsupported type): 1 .pdf" in proc.stdout
