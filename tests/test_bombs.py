"""Decompression and parse bombs, through `Assistant.ingest` on a hash-embedded index (issue 17, item 5).

Each bomb must be refused or cut with one line naming the file (and the line where there is one), with
the work bounded (checked by counting what was inflated, read or parsed, never by the clock), the
writer lock released, and the good records of the other files still ingested.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.corpus import load, stream, tabular
from rag.index.lock import WriterLock
from tests.test_hostile_inputs import BASE_IDS, Lab, counts, lines, make_lab, record

MB = 1 << 20
SKIPPED = 100_000  # RAG_MAX_SKIPPED_IN_A_ROW by default
RATIO = "inflates more than 100 times its size (RAG_MAX_INFLATION_RATIO): a decompression bomb; refused"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from make_lab(tmp_path_factory, "bomb-index")


@pytest.fixture()
def inflated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The bytes each gzip stream had inflated at each check (the most is what the bomb cost)."""
    seen: list[int] = []
    check = stream.Inflating._check

    def spy(self: stream.Inflating) -> None:
        seen.append(self.inflated)
        check(self)

    monkeypatch.setattr(stream.Inflating, "_check", spy)
    return seen


@pytest.fixture()
def lines_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many lines (and line errors) the readers took from the text streams, all files together."""
    count = [0]
    numbered = load.numbered_lines

    def spy(*args: object, **kwargs: object) -> Iterator[object]:
        for item in numbered(*args, **kwargs):  # type: ignore[arg-type]
            count[0] += 1
            yield item

    monkeypatch.setattr(load, "numbered_lines", spy)
    return count


@pytest.fixture()
def items_parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many JSON values were turned into papers (or errors)."""
    count = [0]
    to_paper = tabular.object_to_paper

    def spy(*args: object) -> object:
        count[0] += 1
        return to_paper(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(tabular, "object_to_paper", spy)
    return count


def gzip_bomb(path: Path, byte: bytes, inflated_mb: int) -> Path:
    """A gzip of `inflated_mb` MB of one repeated byte, written as repeated 16 MB members (a valid gzip)."""
    member = gzip.compress(byte * (16 * MB), compresslevel=9, mtime=0)
    path.write_bytes(member * (inflated_mb // 16))
    return path


def messages(lab: Lab, paths: list[Path], added: int) -> list[str]:
    """Ingest `paths`; check the papers added, the index counts, the base papers and the lock; the error lines."""
    before = counts(lab.assistant)
    report = lab.assistant.ingest(paths, progress=False)
    assert report.papers_added == added, report
    after = counts(lab.assistant)
    assert after == tuple(n + added for n in before)
    assert all(lab.assistant.paper(pid) is not None for pid in BASE_IDS)
    with WriterLock(lab.assistant.settings.data_dir, timeout=0):  # the lock was released: it is free to take
        pass
    out = [str(e) for e in report.errors]
    assert all("\n" not in m and "Traceback" not in m for m in out)
    return out


def test_a_1mb_gzip_of_newlines_is_refused_before_a_line_is_read(
    lab: Lab, tmp_path: Path, inflated: list[int], lines_read: list[int]
) -> None:
    bomb = gzip_bomb(tmp_path / "newlines.jsonl.gz", b"\n", 1024)  # 1 GB of newlines
    assert bomb.stat().st_size < 1.2 * MB
    assert messages(lab, [bomb], added=0) == [f"{bomb}: compressed data {RATIO}, nothing of it is read"]
    assert max(inflated) < 32 * MB and lines_read[0] == 0


def test_a_gzip_inflating_to_gigabytes_is_refused(lab: Lab, tmp_path: Path, inflated: list[int]) -> None:
    bomb = gzip_bomb(tmp_path / "zeros.csv.gz", b"0", 4096)  # 4 GB
    assert messages(lab, [bomb], added=0) == [f"{bomb}: compressed data {RATIO}, nothing of it is read"]
    assert max(inflated) < 32 * MB


def test_the_inflated_size_cap(tmp_path: Path, inflated: list[int]) -> None:
    path = tmp_path / "big.jsonl.gz"
    rows = lines(*(record(f"big-{i}", pad=os.urandom(1200).hex()) for i in range(500)))  # ~1.3 MB, ratio ~2
    path.write_bytes(gzip.compress(rows.encode(), mtime=0))
    assistant = Assistant(Settings(data_dir=tmp_path / "data", embed="hash", max_inflated_mb=1))
    report = assistant.ingest([path], progress=False)
    assert report.papers_added == 0
    assert [str(e) for e in report.errors] == [
        f"{path}: compressed data inflates to more than 1 MB (RAG_MAX_INFLATED_MB); refused, nothing of it is read"
    ]
    assert max(inflated) <= 2 * MB
    ok = Assistant(Settings(data_dir=tmp_path / "data2", embed="hash", max_inflated_mb=2))
    assert ok.ingest([path], progress=False).papers_added == 500


@pytest.mark.parametrize(("empty", "name"), [("{}", "objects"), ("[]", "lists")])
def test_a_json_list_of_millions_of_empty_items_is_cut(
    lab: Lab, tmp_path: Path, items_parsed: list[int], empty: str, name: str
) -> None:
    path = tmp_path / f"empty-{name}.json"
    path.write_text("[" + record(f"je-{name}") + "," + ",".join([empty] * 2_000_000) + "]")
    out = messages(lab, [path], added=1)
    cut = f"{path}:1: {SKIPPED:,} items in a row without a paper (blank, unreadable or no abstract; "
    assert any(m.startswith(cut) and m.endswith("the rest of the file is not read") for m in out), out
    assert out[-1] == f"{path}: {SKIPPED - 20:,} more errors not listed"
    assert items_parsed[0] == SKIPPED + 1


def test_a_papers_object_of_millions_of_empty_items_is_cut(lab: Lab, tmp_path: Path, items_parsed: list[int]) -> None:
    path = tmp_path / "papers-object.json"
    path.write_text('{"papers": [' + record("po-1") + "," + ",\n".join(["{}"] * 1_000_000) + "]}")
    out = messages(lab, [path], added=1)
    assert f"{path}:{SKIPPED + 1}: {SKIPPED:,} items in a row without a paper" in " ".join(out)
    assert items_parsed[0] == SKIPPED + 1


@pytest.mark.parametrize(
    ("name", "head", "blank"),
    [
        ("blank.jsonl", "", "\n"),
        ("blank.csv", "id,title,abstract\n", "\n"),
        ("empty-rows.csv", "id,title,abstract\n", ",,\n"),
        ("blank.txt", "", "\n"),
    ],
)
def test_a_file_of_millions_of_blank_lines_is_cut(
    lab: Lab, tmp_path: Path, lines_read: list[int], name: str, head: str, blank: str
) -> None:
    path = tmp_path / name
    key = name.replace(".", "-")
    if name.endswith(".jsonl"):
        first = record(key) + "\n"
    elif name.endswith(".csv"):
        first = f"{key},Blank lines paper {key},We study bombs of blank lines in {key}. Only this row is real.\n"
    else:
        first = "Blank Lines In Listing Dumps\n" + "We present a listing dump that ends in blank lines. " * 5 + "\n"
    path.write_text(head + first + blank * 3_000_000)
    out = messages(lab, [path], added=1)
    unit = "rows" if name.endswith(".csv") else "lines"
    start = 2 + bool(head) + name.endswith(".txt")
    assert out == [
        f"{path}:{start + SKIPPED}: {SKIPPED:,} {unit} in a row without a paper (blank, unreadable or no abstract; "
        "RAG_MAX_SKIPPED_IN_A_ROW); the rest of the file is not read"
    ]
    assert lines_read[0] <= start + SKIPPED


@pytest.mark.parametrize("kind", ["jsonl", "csv", "json", "txt"])
def test_only_skipped_records_in_a_row_count(tmp_path: Path, kind: str) -> None:
    """Good records between blank ones reset the count: twenty papers each after four blanks are all read (the
    cap is five), and six blanks in a row end the file."""
    path = tmp_path / f"gaps.{kind}"
    keys = [f"gap-{kind}-{i}" for i in range(20)]
    if kind == "jsonl":
        body, unit = "".join("\n" * 4 + record(k) + "\n" for k in keys) + "\n" * 6 + record("late") + "\n", "lines"
    elif kind == "csv":
        rows = "".join(",,\n" * 4 + f"{k},Gap {k},An abstract of {k} between empty rows.\n" for k in keys)
        body, unit = "id,title,abstract\n" + rows + ",,\n" * 6 + "late,Late,Never read.\n", "rows"
    elif kind == "json":
        items = ",".join(",".join(["{}"] * 4 + [record(k)]) for k in keys)
        body, unit = "[" + items + "," + ",".join(["{}"] * 6) + "," + record("late") + "]", "items"
    else:
        prose = "We present a listing dump with gaps of blank lines between its papers, one after another. " * 3
        body = "".join("\n" * 4 + f"Gap Paper {k}\n{k}: {prose}\n" for k in keys) + "\n" * 6 + "Late\n" + prose
        unit = "lines"
    path.write_text(body)
    assistant = Assistant(Settings(data_dir=tmp_path / "data", embed="hash", max_skipped_in_a_row=5))
    report = assistant.ingest([path], progress=False)
    assert report.papers_added == 20, report.errors
    cut = [str(e) for e in report.errors if "in a row without a paper" in str(e)]
    assert len(cut) == 1 and f" 5 {unit} in a row without a paper" in cut[0], report.errors


@pytest.mark.parametrize("name", ["lead.jsonl", "lead.jsonl.gz"])
def test_blank_lines_before_the_first_record_are_not_an_empty_file(lab: Lab, tmp_path: Path, name: str) -> None:
    text = "\n" * 10_000 + lines(record(f"lead-{name}"))  # more blank bytes than a read buffer holds
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode(), mtime=0) if name.endswith(".gz") else text.encode())
    assert messages(lab, [path], added=1) == []


def test_the_record_cap_cuts_a_long_file(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(lines(*(record(f"rc-{i}") for i in range(80))))
    assistant = Assistant(Settings(data_dir=tmp_path / "data", embed="hash", max_records_per_file=50))
    report = assistant.ingest([path], progress=False)
    assert report.papers_added == 50 and assistant.paper("rc-49") is not None and assistant.paper("rc-50") is None
    assert [str(e) for e in report.errors] == [
        f"{path}:51: more than 50 lines (RAG_MAX_RECORDS_PER_FILE); the rest of the file is not read"
    ]


def test_a_json_document_with_too_many_objects_is_refused_unparsed(tmp_path: Path, items_parsed: list[int]) -> None:
    path = tmp_path / "nested.json"
    path.write_text(json.dumps([{"abstract": "A real abstract about nesting.", "pad": [[]] * 200}]))
    assistant = Assistant(Settings(data_dir=tmp_path / "data", embed="hash", max_records_per_file=50))
    report = assistant.ingest([path], progress=False)
    assert report.papers_added == 0 and items_parsed[0] == 0
    assert [str(e) for e in report.errors] == [
        f"{path}: 203 JSON objects and lists, more than the 100 a .json document may hold (twice "
        "RAG_MAX_RECORDS_PER_FILE); refused (JSONL is streamed at any size)"
    ]


def test_bombs_among_good_files_cost_only_themselves(lab: Lab, tmp_path: Path) -> None:
    good_a, good_b = tmp_path / "a.jsonl", tmp_path / "b.csv"
    good_a.write_text(lines(record("mix-1"), record("mix-2")))
    good_b.write_text("id,title,abstract\nmix-3,Mixed Bag,An abstract read after three bombs in one ingest.\n")
    gz = gzip_bomb(tmp_path / "bomb.txt.gz", b"\n", 512)
    items = tmp_path / "bomb.json"
    items.write_text("[" + ",".join(["{}"] * 300_000) + "]")
    blank = tmp_path / "bomb.jsonl"
    blank.write_text("\n" * 1_000_000)
    out = messages(lab, [good_a, gz, items, blank, good_b], added=3)
    assert f"{gz}: compressed data {RATIO}, nothing of it is read" in out
    assert any(m.startswith(f"{items}:1: {SKIPPED:,} items in a row") for m in out)
    assert any(m.startswith(f"{blank}:{SKIPPED + 1}: {SKIPPED:,} lines in a row") for m in out)


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_rag_ingest_cli_refuses_a_bomb_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.jsonl").write_text(lines(record("cb-1")))
    bomb = gzip_bomb(folder / "bomb.jsonl.gz", b"\n", 1024)
    env = os.environ | {"RAG_DATA_DIR": str(tmp_path / "data"), "RAG_EMBED": "hash"}
    rag = Path(sys.executable).parent / "rag"
    proc = subprocess.run([str(rag), "ingest", str(folder)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout
    assert [ln for ln in proc.stderr.splitlines() if ln.startswith("skipped")] == [
        f"skipped {bomb}: compressed data {RATIO}, nothing of it is read"
    ]
    assert "1 papers added" in proc.stdout
