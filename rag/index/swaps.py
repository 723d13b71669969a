"""Reads in one process beside a swap of its index by another thread (`Assistant.reset`, a re-index through the
Python API): the manifest file is closed, removed or replaced for a moment, and a read that met that moment fails in
SQLite ("no such table", "disk I/O error"). Such a read is tried again once the swap is over, on the new index (three
tries in all); a read that fails with no swap under way fails as it did."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Swaps:
    """Counts the starts and ends of this process's index swaps (odd: one is under way); `swapping()` holds one,
    which a failed read waits out."""

    def __init__(self) -> None:
        self._mu = threading.RLock()
        self.count = 0

    @contextmanager
    def swapping(self) -> Iterator[None]:
        """Hold while the index files are closed, removed or replaced."""
        with self._mu:
            self.count += 1
            try:
                yield
            finally:
                self.count += 1

    def swapped_since(self, count: int) -> bool:
        """Whether a swap was under way when `count` was read, or began since (waiting for one under way to end)."""
        with self._mu:
            return count % 2 == 1 or self.count != count


TRIES = 3


def retried_across_swaps(method: Callable[P, T]) -> Callable[P, T]:
    """A read of an object with a `swaps: Swaps`, tried again when it failed in SQLite while a swap happened (at
    most `TRIES` times in all: swaps back to back may catch the next try too)."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        swaps: Swaps = getattr(args[0], "swaps")  # noqa: B009 - the method's object, typed as its method says
        for _ in range(TRIES - 1):
            count = swaps.count
            try:
                return method(*args, **kwargs)
            except sqlite3.Error:
                if not swaps.swapped_since(count):
                    raise
        return method(*args, **kwargs)

    return wrapper
