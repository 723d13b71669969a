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
