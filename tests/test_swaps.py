"""Reads in one process while another of its threads resets or re-indexes: a read that met the moment the manifest
file was closed, removed or replaced was a raw SQLite error ("no such table: meta", "disk I/O error"; 152 of 303
reads in a loop of resets); now it is tried again once the swap is over."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.index.manifest import Manifest
from rag.index.swaps import TRIES, Swaps, retried_across_swaps
from tests.test_crash_safety import write_files


class Reader:
    """A read that fails in SQLite `fails` times, each time while a swap is under way (or not)."""

    def __init__(self, fails: int, during_swap: bool) -> None:
        self.swaps, self.fails, self.during_swap, self.calls = Swaps(), fails, during_swap, 0

    @retried_across_swaps
    def read(self) -> str:
        self.calls += 1
        if self.calls <= self.fails:
            if self.during_swap:
                with self.swaps.swapping():
                    raise sqlite3.OperationalError("no such table: meta")
            raise sqlite3.OperationalError("no such table: meta")
        return "read"


def test_a_read_that_failed_during_a_swap_is_tried_again() -> None:
    reader = Reader(fails=TRIES - 1, during_swap=True)
    assert reader.read() == "read" and reader.calls == TRIES


def test_a_read_that_failed_with_no_swap_fails_as_it_did() -> None:
    reader = Reader(fails=1, during_swap=False)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        reader.read()
    assert reader.calls == 1


def test_a_read_begun_while_a_swap_was_under_way_is_tried_again() -> None:
    reader = Reader(fails=1, during_swap=False)
    with reader.swaps.swapping():  # the read starts inside the swap, and fails there
        pass
    reader.swaps.count += 1  # an odd count: a swap under way when the read began
    assert reader.read() == "read" and reader.calls == 2


@pytest.mark.parametrize(
    ("read", "after"),
    [(lambda m: m.get_meta("generation"), "new"), (lambda m: m.replaced(), True)],
    ids=["get", "replaced"],
)
def test_a_database_closed_for_a_swap_is_used_by_other_threads_only_after_it(
    tmp_path: Path, read: Callable[[Manifest], object], after: object
) -> None:
    # CI under load: the writer's `reset` met "disk I/O error" from a reader that, between the removal of the old
    # database's files and the creation of the new one, opened the old one again or, finding it missing
    # (`replaced`), created a database of its own beside the writer's
    path = tmp_path / "index.sqlite3"
    old, seen = Manifest(path), []
    started = threading.Event()

    def reader() -> None:
        started.set()
        seen.append(read(old))

    with old.closed(), path.open("rb"):  # held open: the new file cannot take the old one's inode number
        for file in tmp_path.glob("index.sqlite3*"):  # the database and its logs
            file.unlink()
        thread = threading.Thread(target=reader)
        thread.start()
        assert started.wait(timeout=60)
        thread.join(timeout=0.2)
        assert thread.is_alive()  # waiting for the swap, however long it takes
        Manifest(path).set_meta("generation", "new")
    thread.join()
    assert seen == [after]


def errors_while_swapping(tmp_path: Path, read: Callable[[Assistant], object], reindex: bool) -> list[str]:
    """What two threads calling `read` met while the main thread reset the index six times (every other time a
    re-index instead, with `reindex`), each swap waiting for a read since the last one. The index holds 60 papers
    after it."""
    files = write_files(tmp_path / "files", files=1, per_file=60)
    assistant = Assistant(Settings(data_dir=tmp_path / "data", embed="hash", llm="extractive"))
    assistant.ingest(files, progress=False)
    errors: list[str] = []
    done, did_read = threading.Event(), threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                read(assistant)
            except Exception as exc:  # the test reports what the thread met
                errors.append(f"{type(exc).__name__}: {exc}")
            did_read.set()

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(6):
        assert did_read.wait(timeout=60)  # a read ran since the last swap
        did_read.clear()
        if reindex and i % 2:
            assistant.ingest(files, reindex=True, progress=False)
        else:
            assistant.reset()
            assistant.ingest(files, progress=False)
    done.set()
    for t in threads:
        t.join()
    assert assistant.stats().papers == 60
    assistant.close()
    return errors


def test_readers_in_other_threads_see_no_error_while_the_index_is_reset_and_reindexed(tmp_path: Path) -> None:
    assert errors_while_swapping(tmp_path, lambda a: (a.search("zq0x5", k=3), a.stats()), reindex=True) == []


def test_streamed_answers_in_other_threads_see_no_error_while_the_index_is_reset(tmp_path: Path) -> None:
    # helper-53: `stream` (the CLI's, the UI's and the API's way to answer) read the manifest before its retried
    # search: 335 raw "no such table: meta" in 15 resets
    assert errors_while_swapping(tmp_path, lambda a: list(a.stream("What is reported for zq0x5?")), reindex=False) == []
