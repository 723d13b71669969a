"""A full disk (or a hung store) during an ingest (issue 17, item 6).

Faults are injected into the real Ingestor over a real embedded Chroma: a disk that reports no free
space, a store or manifest write that raises ENOSPC or SQLite's "database or disk is full", a store
that cannot undo, a COMMIT that fails, a store write that never returns. Each must end the ingest with
one line, release the writer lock, keep every committed batch, and leave what it could not undo to the
next run, which must end with the index a clean run builds. One test fills a real (tiny tmpfs) disk
under `rag ingest` when this machine lets the tests mount one.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections import namedtuple
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import Assistant, Settings
from rag.errors import DiskFullError, StoreWriteTimeout
from rag.index import lock, space
from rag.index.bm25 import BM25Index
from rag.index.lock import WriterLock
from rag.index.manifest import Manifest

FULL = "is full ({free} MB free{margin}): free space and run `rag ingest` again; nothing indexed was lost"
Usage = namedtuple("Usage", "total used free")


def papers_file(path: Path, prefix: str, n: int) -> Path:
    rows = (
        json.dumps(
            {"id": f"{prefix}-{i}", "title": f"Paper {prefix} {i}", "abstract": f"Disk case {prefix} {i}. Fine."}
        )
        for i in range(n)
    )
    path.write_text("".join(r + "\n" for r in rows))
    return path


@pytest.fixture()
def assistant(tmp_path: Path) -> Iterator[Assistant]:
    a = Assistant(Settings(data_dir=tmp_path / "data", embed="hash"))
    yield a
    a.close()


def check_consistent(a: Assistant, papers: int) -> None:
    """The manifest, the vector store and BM25 agree, with nothing left to repair."""
    s = a.stats()
    assert (s.papers, s.chunks, s.vectors, s.bm25_entries) == (papers,) * 4
    assert a.store.ids() == {c.id for c in a.manifest.iter_chunks()}
    assert a.manifest.journal() == []


def lock_is_free(a: Assistant) -> bool:
    return WriterLock(a.settings.data_dir).writer() is None


def failing(method: Callable[..., Any], exc: BaseException, *, on_call: int, after: bool = False) -> Callable:
    """`method`, raising `exc` on its `on_call`-th call (before doing anything, or `after` doing it)."""
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == on_call and not after:
            raise exc
        result = method(*args, **kwargs)
        if calls[0] == on_call:
            raise exc
        return result

    return wrapper


def test_no_free_space_stops_the_ingest_before_it_writes(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant.ingest([papers_file(tmp_path / "a.jsonl", "a", 3)], progress=False)
    monkeypatch.setattr(space.shutil, "disk_usage", lambda _: Usage(10 << 30, 10 << 30, 0))
    with pytest.raises(DiskFullError) as caught:
        assistant.ingest([papers_file(tmp_path / "b.jsonl", "b", 5)], progress=False)
    data = assistant.settings.data_dir
    assert str(caught.value) == f"the disk holding {data} " + FULL.format(free=0, margin=", RAG_MIN_FREE_MB is 100")
    assert lock_is_free(assistant)
    check_consistent(assistant, 3)
    monkeypatch.undo()
    assert assistant.ingest([tmp_path / "b.jsonl"], progress=False).papers_added == 5
    check_consistent(assistant, 8)


def test_free_space_is_checked_before_each_batch(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = papers_file(tmp_path / "big.jsonl", "c", 600)
    looks = [0]

    def usage(_: object) -> Usage:  # plenty at the start and for the first batch, then none
        looks[0] += 1
        return Usage(10 << 30, 0, (10 << 30) if looks[0] <= 2 else 0)

    monkeypatch.setattr(space.shutil, "disk_usage", usage)
    with pytest.raises(DiskFullError, match=r"is full \(0 MB free, RAG_MIN_FREE_MB is 100\)"):
        assistant.ingest([big], progress=False)
    s = assistant.stats()
    assert (s.papers, s.chunks, s.vectors) == (256, 256, 256) and assistant.manifest.journal() == []
    assert lock_is_free(assistant)


def test_a_full_disk_while_rebuilding_bm25_is_one_line_and_the_next_run_rebuilds(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BM25Index, "save", failing(BM25Index.save, OSError(errno.ENOSPC, "No space"), on_call=1))
    with pytest.raises(DiskFullError):
        assistant.ingest([papers_file(tmp_path / "a.jsonl", "r", 4)], progress=False)
    assert assistant.manifest.count_papers() == 4 and assistant.manifest.lexical_dirty()
    monkeypatch.undo()
    assistant.ingest([tmp_path / "a.jsonl"], progress=False)
    check_consistent(assistant, 4)


def test_a_checkpoint_on_a_full_disk_does_not_fail_a_finished_ingest(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(assistant.manifest, "checkpoint", failing(assistant.manifest.checkpoint, full, on_call=1))
    assert assistant.ingest([papers_file(tmp_path / "a.jsonl", "k", 3)], progress=False).papers_added == 3
    check_consistent(assistant, 3)


def test_the_writer_lock_works_when_its_pid_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    writer = WriterLock(tmp_path)
    with monkeypatch.context() as patched:
        patched.setattr(lock.os, "write", no_space)
        writer.__enter__()
    try:
        assert WriterLock(tmp_path).writer() == "another process"
    finally:
        writer.__exit__(None, None, None)
    assert WriterLock(tmp_path).writer() is None


def test_enospc_from_the_store_keeps_the_batches_before_it(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = papers_file(tmp_path / "big.jsonl", "e", 600)  # three batches of at most 256
    enospc = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(assistant.store, "upsert", failing(assistant.store.upsert, enospc, on_call=2))
    with pytest.raises(DiskFullError) as caught:
        assistant.ingest([big], progress=False)
    assert str(caught.value).startswith(f"the disk holding {assistant.settings.data_dir} is full (")
    assert lock_is_free(assistant)
    s = assistant.stats()
    assert (s.papers, s.chunks, s.vectors) == (256, 256, 256)
    # no store write after a full disk in this process (Chroma may still hold the failed write's lock): the next
    # run undoes the batch the journal names
    assert len(assistant.manifest.journal()) == 256
    monkeypatch.undo()
    report = assistant.ingest([big], progress=False)
    assert report.papers_added == 344 and report.repaired == 0  # nothing of the failed batch reached the store
    check_consistent(assistant, 600)


def test_sqlite_full_after_the_store_write_leaves_the_batch_to_the_next_run(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = papers_file(tmp_path / "big.jsonl", "s", 600)
    full = sqlite3.OperationalError("database or disk is full")
    manifest = assistant.manifest
    monkeypatch.setattr(manifest, "journal_clear", failing(manifest.journal_clear, full, on_call=2))
    with pytest.raises(DiskFullError):
        assistant.ingest([big], progress=False)
    assert lock_is_free(assistant)
    s = assistant.stats()
    assert (s.papers, s.chunks, s.vectors) == (256, 256, 512)  # the second batch's vectors wait for the next run
    assert len(manifest.journal()) == 256  # which the journal names
    monkeypatch.undo()
    assert assistant.ingest([big], progress=False).papers_added == 344
    check_consistent(assistant, 600)


def test_a_store_that_cannot_undo_leaves_the_journal_for_the_next_run(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    big = papers_file(tmp_path / "big.jsonl", "u", 600)
    enospc = OSError(errno.ENOSPC, "No space left on device")
    store = assistant.store
    monkeypatch.setattr(store, "upsert", failing(store.upsert, enospc, on_call=2, after=True))  # written, then fails
    monkeypatch.setattr(store, "delete", failing(store.delete, enospc, on_call=3))  # the undo fails too
    with caplog.at_level(logging.WARNING), pytest.raises(DiskFullError):
        assistant.ingest([big], progress=False)
    assert lock_is_free(assistant)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("rag")] == []  # the error is the one line
    assert assistant.manifest.count_papers() == 256 and assistant.store.count() == 512  # 256 vectors to undo
    assert len(assistant.manifest.journal()) == 256
    monkeypatch.undo()
    report = assistant.ingest([big], progress=False)
    assert report.papers_added == 344
    check_consistent(assistant, 600)


class _CommitFails:
    """A SQLite connection whose next COMMIT fails as on a full disk (the transaction stays open, as SQLite may
    leave it)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db, self.armed = db, True

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT" and self.armed:
            self.armed = False
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_a_failed_commit_is_rolled_back_and_the_manifest_stays_usable(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "m.sqlite3")
    manifest._db = _CommitFails(manifest.db)  # type: ignore[assignment]
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        manifest.set_meta("k", "lost")
    assert manifest.get_meta("k") is None
    manifest.set_meta("k", "kept")  # a new transaction starts: the failed one is over
    assert manifest.get_meta("k") == "kept"
    manifest.close()


def test_a_hung_store_write_stops_the_ingest_and_frees_the_lock(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant.ingest([papers_file(tmp_path / "warm.jsonl", "w", 2)], progress=False)
    assistant.settings = assistant.settings.model_copy(update={"store_write_timeout": 0.5})
    store, release, finished = assistant.store, threading.Event(), threading.Event()
    upsert = store.upsert

    def hangs(*args: Any, **kwargs: Any) -> None:
        release.wait()
        upsert(*args, **kwargs)
        finished.set()

    monkeypatch.setattr(store, "upsert", hangs)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            assistant.ingest([papers_file(tmp_path / "h.jsonl", "h", 5)], progress=False)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=120)
    if worker.is_alive():
        release.set()
        pytest.fail("a hung store write held the ingest (and the writer lock)")
    data = assistant.settings.data_dir
    assert isinstance(outcome[0], StoreWriteTimeout)
    assert str(outcome[0]) == (
        f"the vector store in {data} did not finish a write in 0.5 s (RAG_STORE_WRITE_TIMEOUT): the ingest "
        "stopped, nothing indexed was lost; check its disk, then run `rag ingest` again"
    )
    assert lock_is_free(assistant) and len(assistant.manifest.journal()) == 5
    with pytest.raises(StoreWriteTimeout, match=r"an earlier write to the vector store .* has not finished"):
        assistant.ingest([tmp_path / "h.jsonl"], progress=False)  # the store may still be busy: no write now
    release.set()
    assert finished.wait(timeout=120)
    for thread in threading.enumerate():
        if thread.name.startswith("store-"):
            thread.join(timeout=120)  # the late write is over: the store takes writes again
    monkeypatch.undo()
    assistant.ingest([tmp_path / "h.jsonl"], progress=False)
    check_consistent(assistant, 7)


# --- a real full disk ------------------------------------------------------------------------------------


@pytest.fixture()
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs (skipped where this process may not mount one)."""
    where = tmp_path / "disk"
    where.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def rag(*args: str, data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {"RAG_DATA_DIR": str(data), "RAG_EMBED": "hash"} | env
    command = [str(Path(sys.executable).parent / "rag"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=environ, timeout=600)


@pytest.mark.slow  # five `rag ingest` processes
def test_rag_ingest_on_a_full_disk_says_so_in_one_line_and_the_next_run_repairs(tiny_disk: Path) -> None:
    data = tiny_disk / "data"
    refused = rag("ingest", data=data)  # the margin (RAG_MIN_FREE_MB=100) is more than the whole disk
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().startswith(f"error: the disk holding {data} is full (")
    assert refused.stderr.strip().endswith(", RAG_MIN_FREE_MB is 100): " + FULL.split("): ", 1)[1])
    one_line = re.compile(rf"error: the disk holding {re.escape(str(data))} is full \(\d+ MB free\): free space")
    for _ in range(2):  # no margin: the writes themselves meet the full disk (and the second run its leftovers)
        full = rag("ingest", data=data, RAG_MIN_FREE_MB="0")
        assert full.returncode == 1, full.stdout
        assert len(full.stderr.splitlines()) == 1 and one_line.match(full.stderr), full.stderr
    subprocess.run(["mount", "-o", "remount,size=256m", str(tiny_disk)], check=True)
    again = rag("ingest", data=data)
    assert again.returncode == 0, again.stderr
    stats = json.loads(rag("stats", "--json", data=data).stdout)
    assert stats["papers"] == stats["chunks"] == stats["vectors"] == stats["bm25_entries"] == 410
