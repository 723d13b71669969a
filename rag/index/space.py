"""Free space on the disk that holds the index: checked before each ingest batch, and what a full disk looks like.

A full disk shows up in many forms: `OSError(ENOSPC)` from our own files, SQLite's "database or
disk is full" from the manifest, and whatever Chroma wraps those in. Any of them (or any write
failure while free space is under the margin) becomes one `DiskFullError` line telling the user
what to do; the batch that failed is rolled back, so nothing indexed is lost.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
from contextlib import suppress
from pathlib import Path

from rag.errors import BackendUnavailableError, DiskFullError, RagError
from rag.index.database import read_only

MB = 1 << 20
NEARLY_FULL_MB = 16.0
"""A write that failed with an unexplained error while less than this was free is blamed on the disk, whatever
RAG_MIN_FREE_MB says (Chroma's compaction can fail on a full disk with no word of it)."""
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded", "disk is full")
_SQLITE_FULL = getattr(sqlite3, "SQLITE_FULL", 13)


def says_disk_full(exc: BaseException) -> bool:
    """Whether an exception, or one it was raised from, says the disk is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if isinstance(current, sqlite3.Error) and getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL:
            return True
        if any(words in str(current).lower() for words in _FULL_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


class DiskSpace:
    """The free space of the disk holding `data_dir`, against a margin of `min_free_mb`."""

    def __init__(self, data_dir: Path, min_free_mb: float) -> None:
        self.data_dir = data_dir
        self.min_free_mb = min_free_mb

    def free_mb(self) -> float | None:
        """MB free for this user on the disk holding the data dir (None when it cannot be told)."""
        try:
            return shutil.disk_usage(self.data_dir).free / MB
        except OSError:
            return None

    def low(self, floor_mb: float = 0.0) -> bool:
        """Whether free space is under the margin (or under `floor_mb`, when that is more)."""
        free = self.free_mb()
        return free is not None and free < max(self.min_free_mb, floor_mb)

    def full_error(self) -> DiskFullError:
        """The one line that tells the user the disk is full and what to do."""
        free = self.free_mb()
        amount = "unknown MB free" if free is None else f"{free:,.0f} MB free"
        if free is not None and free < self.min_free_mb:
            amount += f", RAG_MIN_FREE_MB is {self.min_free_mb:,.0f}"
        return DiskFullError(
            f"the disk holding {self.data_dir} is full ({amount}): free space and run `rag ingest` again; "
            "nothing indexed was lost"
        )

    def check(self) -> None:
        """Raise `DiskFullError` when free space is under the margin (before a batch writes anything)."""
        if self.low():
            raise self.full_error()

    def explains(self, exc: BaseException) -> bool:
        """Whether a failure is the disk being full: it says so, or it is a store failure or an unexpected error
        (not a `RagError` that says what it is) while the disk is nearly full."""
        if isinstance(exc, DiskFullError) or says_disk_full(exc):
            return True
        unexplained = isinstance(exc, BackendUnavailableError) or not isinstance(exc, RagError)
        return isinstance(exc, Exception) and unexplained and self.low(NEARLY_FULL_MB)


def bytes_used(folder: Path) -> int:
    """The bytes of the files under `folder`. Another process may remove files meanwhile (a Chroma journal, a
    replaced BM25 generation): those count nothing, and the walk goes on."""
    total = 0
    for root, _, names in os.walk(folder):  # a folder removed during the walk is skipped
        for name in names:
            with suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


_SEGMENT_DIR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def remove_orphan_segments(chroma_dir: Path) -> int:
    """Remove the vector-index folders of an embedded Chroma that its database no longer lists: Chroma leaves a
    deleted collection's folder behind (chroma-core/chroma#5520), so every re-index would leave the old index's
    files. How many; none when Chroma's table of segments cannot be read. Call it holding the store's file lock."""
    try:
        with read_only(chroma_dir / "chroma.sqlite3") as db:
            live = {str(row[0]) for row in db.execute("SELECT id FROM segments")}
    except sqlite3.Error:
        return 0
    gone = [d for d in chroma_dir.iterdir() if _SEGMENT_DIR.fullmatch(d.name) and d.is_dir() and d.name not in live]
    for folder in gone:
        shutil.rmtree(folder, ignore_errors=True)
    return len(gone)
