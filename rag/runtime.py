"""CPU threads of the numeric libraries, chosen once per kind of process by its entry point.

torch runs MiniLM on an OpenMP pool of one thread per core by default, and its idle threads spin waiting for
work. On a machine other work keeps busy, a query then waits for pool threads that are not running: measured on
the 2-core machine under load, a query embedding took 10-30 times longer with torch's defaults than with one
thread or with sleeping idle threads (`eval/results/threads.md`). So a process that answers queries (`rag serve`,
`chat`, `mcp`, `search`, `ask`) runs them on `RAG_QUERY_THREADS` (default 1): concurrent requests use the cores
side by side instead of fighting over them. `rag ingest` is batch work and uses `RAG_INGEST_THREADS` (default 0:
one per core), its idle threads sleeping rather than spinning, so a server beside it keeps its share of the CPUs.
An upload ingesting inside a server keeps the server's setting (torch's pool is one per process), so it cannot
take the cores the queries run on.

Only entry points call `configure_threads`; importing a library module never changes process-wide state.
OMP_NUM_THREADS, MKL_NUM_THREADS and OMP_WAIT_POLICY only count when set before torch is imported: they are set
here when the user has not set them (inherited by child processes too), and when torch is already imported its
pool is resized as well (the wait policy then stays what it was). A user's own OMP_NUM_THREADS always wins: then
nothing is changed, and the libraries behave as they did before this module existed.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Literal

from rag.config import Settings

log = logging.getLogger(__name__)

Kind = Literal["serve", "cli", "ingest"]

#: Variables the OpenMP and MKL runtimes under torch read when they load.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")

_set_here: dict[str, str] = {}  # the variables this module set (and to what), so a user's own value is told apart


def user_threads() -> str | None:
    """OMP_NUM_THREADS as the user set it (None when unset, or when `configure_threads` set it)."""
    value = os.environ.get("OMP_NUM_THREADS")
    return None if value is None or _set_here.get("OMP_NUM_THREADS") == value else value


def cores() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_for(kind: Kind, settings: Settings) -> int:
    """The threads a kind of process runs on: RAG_QUERY_THREADS or RAG_INGEST_THREADS (0 = one per core)."""
    wanted = settings.ingest_threads if kind == "ingest" else settings.query_threads
    return wanted or cores()


def _set(var: str, value: str) -> None:
    """Set `var` unless the user set it (a value set here before may be replaced)."""
    if var not in os.environ or _set_here.get(var) == os.environ[var]:
        os.environ[var] = _set_here[var] = value


def configure_threads(kind: Kind, settings: Settings | None = None) -> int | None:
    """Set the threads of torch (OpenMP, MKL) and of the tokenizers for a `kind` of process; returns the number
    applied, or None when the user's OMP_NUM_THREADS leaves them to the libraries.

    Idle OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE, unless the user set it) instead of spinning on cores a
    query or another process needs. Call it from an entry point before the model loads; again is harmless."""
    settings = settings or Settings()
    explicit = user_threads()
    if explicit is not None:
        log.debug("threads for %s: left to the libraries (OMP_NUM_THREADS=%s)", kind, explicit)
        return None
    wanted = threads_for(kind, settings)
    for var in THREAD_VARS:
        _set(var, str(wanted))
    _set("OMP_WAIT_POLICY", "PASSIVE")
    if wanted == 1:
        _set("TOKENIZERS_PARALLELISM", "false")
    torch = sys.modules.get("torch")  # never imported here: an openai or hash embedder does not need it
    if torch is not None and torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    log.debug("threads for %s: %d", kind, wanted)
    return wanted
