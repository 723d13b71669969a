"""The arXiv metadata snapshot (Kaggle's ``arxiv-metadata-oai-snapshot.json``), streamed.

One JSON object a line with ``id``, ``title``, ``abstract``, ``authors``, ``categories`` and
``update_date``; the file can be several GB, so it is read line by line from the binary stream
and never held in memory. The generic field aliases map these names; the arXiv id becomes the
paper id and its abs page the url.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from rag.corpus.records import RawPaper
from rag.corpus.tabular import read_jsonl
from rag.types import FileError

SNAPSHOT_KEYS = {"id", "abstract", "update_date", "categories"}


def is_arxiv_snapshot(first_line: bytes) -> bool:
    """Whether the first object of a JSONL file has the arXiv snapshot's fields."""
    try:
        obj = json.loads(first_line)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(obj, dict) and obj.keys() >= SNAPSHOT_KEYS


def read_jsonl_file(path: Path, source: str) -> Iterator[RawPaper | FileError]:
    """Stream any JSONL file (the arXiv snapshot included) line by line from disk."""
    with path.open("rb") as fh:
        yield from read_jsonl(enumerate(fh, start=1), source)
