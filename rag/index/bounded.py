"""Vector-store writes bounded in time, so a store that hangs (a full disk, a wedged server) cannot hold the
writer lock forever.

Each write runs in a daemon thread while the caller waits at most `timeout` seconds, saying every 30 s
that it still waits. A write cannot be killed: one that overruns runs on, and until it ends every other
write to that store from this process is refused at once (the store may still be busy), so the
failed batch stays in the manifest's journal for the next ingest to repair. Reads pass straight through.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.errors import StoreWriteTimeout

log = logging.getLogger(__name__)
WRITES = frozenset({"delete", "upsert", "update_metadata", "record_model"})
_PROGRESS_S = 30.0
_stuck: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_stuck_mu = threading.Lock()


class BoundedWrites:
    """A vector store whose writes (`WRITES`) each get at most `timeout` seconds; everything else is the store's."""

    def __init__(self, store: Any, timeout: float, where: Path) -> None:
        self._store, self._timeout, self._where = store, timeout, where

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name not in WRITES or not callable(attr):
            return attr
        return lambda *args, **kwargs: self._run(name, attr, args, kwargs)

    def _run(self, name: str, method: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        with _stuck_mu:
            if self._store in _stuck:
                raise StoreWriteTimeout(
                    f"an earlier write to the vector store in {self._where} has not finished: nothing was written; "
                    "restart this process, then run `rag ingest` again"
                )
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["value"] = method(*args, **kwargs)
            except BaseException as exc:  # handed to the waiting thread
                box["error"] = exc
            finally:
                with _stuck_mu:
                    done.set()
                    _stuck.pop(self._store, None)

        threading.Thread(target=work, name=f"store-{name}", daemon=True).start()
        waited = 0.0
        while not done.wait(min(_PROGRESS_S, self._timeout - waited)):
            waited = min(waited + _PROGRESS_S, self._timeout)
            if waited < self._timeout:
                log.warning("still waiting for a vector-store write (%.0f of %g s)", waited, self._timeout)
                continue
            with _stuck_mu:
                if not done.is_set():
                    _stuck[self._store] = name
                    raise StoreWriteTimeout(
                        f"the vector store in {self._where} did not finish a write in {self._timeout:g} s "
                        "(RAG_STORE_WRITE_TIMEOUT): the ingest stopped, nothing indexed was lost; check its disk, "
                        "then run `rag ingest` again"
                    )
        if "error" in box:
            raise box["error"]
        return box.get("value")
