"""Question answering over research-paper abstracts, with verified, numbered citations.

Everything a user of the Python API receives is importable from here: the `Assistant` façade, its
`Settings`, the types it returns (`Answer`, `Citation`, `Hit`, `Paper`, ...) and the errors it raises
(all subclasses of `RagError`).

The names are loaded on first use, so that `import rag.types` (or the CLI asking a running server) does not pay
for the index and the models (`rag.assistant` brings chromadb and torch).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.config import Settings
    from rag.errors import (
        BackendUnavailableError,
        ConfigError,
        DiskFullError,
        IndexBusyError,
        IndexMismatchError,
        InputError,
        RagError,
        StoreWriteTimeout,
    )
    from rag.generation.prompts import NO_ANSWER
    from rag.types import (
        Answer,
        Chunk,
        Citation,
        FileError,
        Hit,
        IndexStats,
        IngestReport,
        Paper,
        QueryOptions,
        SentenceCheck,
    )

_WHERE = {
    "Assistant": "rag.assistant",
    "Settings": "rag.config",
    **dict.fromkeys(
        (
            "BackendUnavailableError",
            "ConfigError",
            "DiskFullError",
            "IndexBusyError",
            "IndexMismatchError",
            "InputError",
            "RagError",
            "StoreWriteTimeout",
        ),
        "rag.errors",
    ),
    "NO_ANSWER": "rag.generation.prompts",
    **dict.fromkeys(
        (
            "Answer",
            "Chunk",
            "Citation",
            "FileError",
            "Hit",
            "IndexStats",
            "IngestReport",
            "Paper",
            "QueryOptions",
            "SentenceCheck",
        ),
        "rag.types",
    ),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rag-abstracts")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    globals()[name] = value  # loaded once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "NO_ANSWER",
    "Answer",
    "Assistant",
    "BackendUnavailableError",
    "Chunk",
    "Citation",
    "ConfigError",
    "DiskFullError",
    "FileError",
    "Hit",
    "IndexBusyError",
    "IndexMismatchError",
    "IndexStats",
    "IngestReport",
    "InputError",
    "Paper",
    "QueryOptions",
    "RagError",
    "SentenceCheck",
    "Settings",
    "StoreWriteTimeout",
    "__version__",
]
