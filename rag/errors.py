"""A small exception tree; the CLI and UI turn these into one-line messages."""

from __future__ import annotations


class RagError(Exception):
    """Base of every error the user can act on."""


class InputError(RagError):
    """A file or line could not be read; carries where."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}" if where else message)


class IndexMismatchError(RagError):
    """The index was built with another embedding model than the one configured."""


class ConfigError(RagError):
    """Settings are inconsistent or incomplete."""


class BackendUnavailableError(RagError):
    """An LLM or embedding service could not be reached."""


class IndexBusyError(RagError):
    """Another process (or thread) is writing to the index."""


class DiskFullError(RagError):
    """The disk holding the index is (nearly) full; the ingest stopped with nothing indexed lost."""


class StoreWriteTimeout(BackendUnavailableError):
    """A vector-store write of an ingest did not finish in time (or an earlier one still has not)."""
