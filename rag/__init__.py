"""Question answering over research-paper abstracts, with verified, numbered citations.

Everything a user of the Python API receives is importable from here: the `Assistant` façade, its
`Settings`, the types it returns (`Answer`, `Citation`, `Hit`, `Paper`, ...) and the errors it raises
(all subclasses of `RagError`).
"""

from importlib.metadata import PackageNotFoundError, version

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
from rag.types import Answer, Chunk, Citation, FileError, Hit, IndexStats, IngestReport, Paper, SentenceCheck

try:
    __version__ = version("rag-abstracts")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"

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
    "RagError",
    "SentenceCheck",
    "Settings",
    "StoreWriteTimeout",
    "__version__",
]
