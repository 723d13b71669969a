"""One writer per data dir: an exclusive lock file that holds the writer's process id.

Readers (search, ask, stats) never take it; a second writer waits for the first, saying so, and
gives up with a one-line error after `timeout` seconds. And one process at a time in an embedded
vector store's files (`StoreLock`), readers included: Chroma rewrites them on reads too.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from rag.errors import IndexBusyError

log = logging.getLogger(__name__)


def lock_file(
    path: Path,
    deadline: float,
    poll: float,
    busy: Callable[[], Exception],
    waiting: Callable[[], None] | None = None,
) -> int:
    """An open descriptor of `path` holding an exclusive flock, tried every `poll` seconds until `deadline`
    (`time.monotonic()`), calling `waiting` at each failed try; past the deadline `busy()` is raised. The file is
    closed on any failure (a timeout, Ctrl-C while waiting, a file system without locks)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                if waiting is not None:
                    waiting()
                time.sleep(poll)
    except BaseException:
        os.close(fd)
        raise


class WriterLock:
    """`with WriterLock(data_dir, timeout):` around anything that changes the index."""

    def __init__(self, data_dir: Path, timeout: float = 60.0, poll: float = 0.2) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "writer.lock"
        self.timeout = timeout
        self.poll = poll
        self._fd: int | None = None
        self._local = threading.Lock()  # threads of one process queue here first

    def holder(self) -> str:
        """The process id written by the current holder ('' when unknown)."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def _who(self) -> str:
        return self.holder() or "another process"

    def __enter__(self) -> WriterLock:
        deadline = time.monotonic() + self.timeout
        if not self._local.acquire(timeout=max(self.timeout, 0.001)):
            raise IndexBusyError(f"the index in {self.data_dir} is being updated by this process; try again later")
        try:
            self._acquire_file(deadline)
        except BaseException:
            self._local.release()
            raise
        return self

    def _acquire_file(self, deadline: float) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        said = False

        def waiting() -> None:
            nonlocal said
            if not said:
                log.warning("waiting: the index in %s is being updated by process %s", self.data_dir, self._who())
                said = True

        def busy() -> IndexBusyError:
            return IndexBusyError(
                f"the index in {self.data_dir} is being updated by process {self._who()}; try again when it is done"
            )

        fd = lock_file(self.path, deadline, self.poll, busy, waiting)
        self._fd = fd
        try:  # the pid only tells others who holds the lock: a full disk must not stop the writer here
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError as exc:
            log.debug("could not write the pid into %s: %s", self.path, exc)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        fd, self._fd = self._fd, None
        try:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                os.close(fd)  # closing releases the lock
        finally:
            self._local.release()

    def writer(self) -> str | None:
        """Who holds the lock right now (a process id, or 'another process' when it wrote none); None when no
        one does. Only looks: never waits, never takes the lock from a writer."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None  # no lock file: no writer ever ran here
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return self.holder() or "another process"
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


class StoreLock:
    """`with StoreLock(path, timeout):` around every call into an embedded Chroma store, in every process. Chroma
    writes its vector index files (HNSW) when a process loads them for a query or adds to them: a reader's rewrite
    racing a writer's corrupts them (an index file grew to 58 GB beside `rag serve`). Re-entrant within a process:
    its threads share one client, and Chroma orders their calls itself. Each call waits `timeout` seconds at most,
    however many threads queue (`held(timeout)` for another limit)."""

    def __init__(self, path: Path, timeout: float = 300.0, poll: float = 0.01) -> None:
        self.path = path
        self.timeout = timeout
        self.poll = poll
        self._fd: int | None = None
        self._depth = 0
        self._mu = threading.Lock()

    def __enter__(self) -> StoreLock:
        self._enter(self.timeout)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exit()

    @contextlib.contextmanager
    def held(self, timeout: float) -> Iterator[None]:
        """The lock, waiting `timeout` seconds at most (a process about to exit waits briefly)."""
        self._enter(timeout)
        try:
            yield
        finally:
            self._exit()

    def _enter(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self._mu.acquire(timeout=max(timeout, 0.001)):  # another thread of this process is waiting
            raise self._busy(timeout)
        try:
            if self._depth == 0:
                self._fd = lock_file(self.path, deadline, self.poll, lambda: self._busy(timeout))
            self._depth += 1
        finally:
            self._mu.release()

    def _busy(self, timeout: float) -> IndexBusyError:
        return IndexBusyError(
            f"the vector store beside {self.path} stayed busy in another process for {timeout:g} s"
            " (RAG_STORE_WRITE_TIMEOUT); try again"
        )

    def _exit(self) -> None:
        with self._mu:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)  # closing releases the lock
