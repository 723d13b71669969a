"""CPU threads of the numeric libraries, chosen once per kind of process by its entry point.

torch runs MiniLM on an OpenMP pool of one thread per core by default, and its idle threads spin waiting for
work. On a machine other work keeps busy, a query then waits for pool threads that are not running: measured on
the 2-core machine at load 8-10, a query embedding took several times longer with two threads than with one
(`eval/results/threads.md`). So a process that answers queries (`rag serve`, `chat`, `mcp`, `search`, `ask`)
runs them on `RAG_QUERY_THREADS` (default 1): concurrent requests use the cores side by side instead of
fighting over them. `rag ingest` is batch work and uses `RAG_INGEST_THREADS` (default 0: the libraries' own
default, one per core). An upload ingesting inside a server keeps the server's setting (torch's pool is one per
process), so it cannot take the cores the queries run on.

Only entry points call `configure_threads`; importing a library module never changes process-wide state.
OMP_NUM_THREADS and MKL_NUM_THREADS only count when set before torch is imported: they are set here when the
user has not set them (inherited by child processes too), and when torch is already imported its pool is resized
as well. A user's own OMP_NUM_THREADS always wins: then torch is left as that value made it.
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


def threads_for(kind: Kind, settings: Settings) -> int:
    """The threads a kind of process asks for: RAG_QUERY_THREADS or RAG_INGEST_THREADS (0 = the default)."""
    return settings.ingest_threads if kind == "ingest" else settings.query_threads


def configure_threads(kind: Kind, settings: Settings | None = None) -> int | None:
    """Set the threads of torch (OpenMP, MKL) and of the tokenizers for a `kind` of process; returns the number
    applied, or None when the libraries are left alone (the setting is 0, or the user set OMP_NUM_THREADS).

    Call it from an entry point before the model loads; calling it again is harmless."""
    settings = settings or Settings()
    wanted = threads_for(kind, settings)
    explicit = user_threads()
    if wanted == 0 or explicit is not None:
        log.debug("threads for %s: left to the libraries (setting %d, OMP_NUM_THREADS=%s)", kind, wanted, explicit)
        return None
    for var in THREAD_VARS:
        if var not in os.environ or _set_here.get(var) == os.environ[var]:
            os.environ[var] = _set_here[var] = str(wanted)
    if wanted == 1 and "TOKENIZERS_PARALLELISM" not in os.environ:
        os.environ["TOKENIZERS_PARALLELISM"] = _set_here["TOKENIZERS_PARALLELISM"] = "false"
    torch = sys.modules.get("torch")  # never imported here: an openai or hash embedder does not need it
    if torch is not None and torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    log.debug("threads for %s: %d", kind, wanted)
    return wanted
