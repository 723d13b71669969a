"""The embedded vector store's file lock: one process at a time in Chroma's files, re-entrant within a process, and
a wait that ends in one line (Chroma rewrites its HNSW files on reads too: see `rag.index.lock.StoreLock`)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rag.errors import IndexBusyError
from rag.index.lock import StoreLock

HOLD = """
import sys, time
from pathlib import Path
from rag.index.lock import StoreLock
with StoreLock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_another_process_waits_for_the_lock_and_gives_up_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "chroma.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexBusyError, match="RAG_STORE_WRITE_TIMEOUT") as failed, StoreLock(path, timeout=0.2):
            pass
        assert "\n" not in str(failed.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=60)
    with StoreLock(path, timeout=5):  # released with the process
        pass


def test_two_stores_of_one_process_exclude_each_other_but_its_threads_share_one(tmp_path: Path) -> None:
    path = tmp_path / "chroma.lock"
    first, second = StoreLock(path), StoreLock(path, timeout=0.2)
    with first:
        with pytest.raises(IndexBusyError), second:  # another client of the same files, as another process is
            pass
        entered = threading.Event()

        def enter() -> None:
            with first:  # a thread of the holder's store: Chroma orders the calls of one client itself
                entered.set()

        thread = threading.Thread(target=enter)
        thread.start()
        thread.join(timeout=30)
        assert entered.is_set()
        with first:  # re-entrant: a call made inside a call
            pass
    with second:  # all released
        pass


def test_a_failed_wait_leaves_no_descriptor_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import fcntl
    import os

    def no_locks(fd: int, how: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")  # a file system without flock, or Ctrl-C while waiting

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(fcntl, "flock", no_locks)
    for _ in range(5):
        with pytest.raises(OSError), StoreLock(tmp_path / "chroma.lock"):
            pass
    monkeypatch.undo()
    assert len(os.listdir("/proc/self/fd")) == before


def test_closing_a_closed_store_does_not_wait_for_the_lock(tmp_path: Path) -> None:
    from rag.config import Settings
    from rag.index.store import VectorStore

    store = VectorStore(Settings(data_dir=tmp_path, store_write_timeout=0.2))
    assert store.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "chroma.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert store.close()  # at exit too: a store closed before never waits (it waited the whole timeout)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=60)


def test_a_holder_killed_with_sigkill_leaves_the_lock_free(tmp_path: Path) -> None:
    path = tmp_path / "chroma.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
    holder.kill()  # kill -9 in the middle of a store call: the kernel drops its flock with the process
    holder.wait(timeout=60)
    with StoreLock(path, timeout=30):
        pass
