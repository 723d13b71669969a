"""One SQLite file shared by the threads of a process and by other processes: WAL mode (readers go on while one
process writes), one connection under a lock, writes only inside `transaction()` (all or nothing, nested calls
join the outer one), and a check whether another process replaced the file."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path


def read_only(path: Path) -> closing[sqlite3.Connection]:
    """A read-only connection to the SQLite file at `path`, closed on leaving `with` (another process's file: it is
    never created or written here)."""
    return closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10))


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class Database:
    """A SQLite database in WAL mode behind one connection and a lock; a transaction holds the lock until it ends,
    so readers in other threads wait for one batch at most."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._mu = threading.RLock()
        self._depth = 0
        self._db: sqlite3.Connection | None = None
        with self._mu:
            self.db.execute("SELECT 1")
        self._file_id = _file_id(path)

    @property
    def db(self) -> sqlite3.Connection:
        """The connection; opened again when the database is used after `close()`."""
        with self._mu:
            if self._db is None:
                self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            return self._db

    def replaced(self) -> bool:
        """Whether the database file was removed or replaced since it was opened (another process re-indexed). Asked
        while this process swaps the file (`closed()`), it waits for the swap: a reader that saw the file missing
        would create a database of its own beside the writer's."""
        with self._mu:
            return _file_id(self.path) != self._file_id

    def close(self) -> None:
        """Close the database (a later use opens it again)."""
        with self._mu:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def closed(self) -> Iterator[None]:
        """Closed while the block runs (its files are removed or replaced there): other threads' uses of this
        database wait for the block to end, then open whatever database is at the path by then. A use that opened
        it mid-swap would hold the removed file, or meet its log beside the new one ("disk I/O error")."""
        with self._mu:
            self.close()
            yield

    def _q(self, sql: str, args: Iterable[object] = ()) -> list[tuple]:
        with self._mu:
            return self.db.execute(sql, tuple(args)).fetchall()

    def _one(self, sql: str, args: Iterable[object] = ()) -> tuple | None:
        with self._mu:
            return self.db.execute(sql, tuple(args)).fetchone()

    def _count(self, sql: str) -> int:
        row = self._one(sql)  # an aggregate query always returns one row
        return int(row[0]) if row else 0

    def _w(self, sql: str, args: Iterable[object] = ()) -> None:
        if self._depth == 0:
            raise RuntimeError("manifest writes happen inside transaction()")
        self.db.execute(sql, tuple(args))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together, or not at all (rolled back on any exception)."""
        with self._mu:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
                self.db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            finally:
                self._depth = 0

    def _rollback(self) -> None:
        """End a failed transaction. SQLite may have rolled it back already (a full disk, a failed COMMIT), and a
        rollback that fails must not hide the error that caused it."""
        if self.db.in_transaction:
            with suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")

    def checkpoint(self) -> None:
        """Fold the write-ahead log back into the database file (after an ingest: keeps the disk tidy)."""
        with self._mu:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
