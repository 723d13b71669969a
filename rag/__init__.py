"""Question answering over research-paper abstracts, with verified, numbered citations."""

from rag.assistant import Assistant
from rag.config import Settings
from rag.types import Chunk, FileError, Hit, IndexStats, IngestReport, Paper

__all__ = [
    "Assistant",
    "Chunk",
    "FileError",
    "Hit",
    "IndexStats",
    "IngestReport",
    "Paper",
    "Settings",
]
