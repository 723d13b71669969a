"""arXiv metadata exports: Kaggle's snapshot and the nested ``{"_id", "title", "text", "metadata"}`` shape.

The snapshot (``arxiv-metadata-oai-snapshot.json``) holds one JSON object a line with ``id``,
``title``, ``abstract``, ``authors``, ``categories`` and ``update_date``; the nested export (BEIR
style, as in ``arxiv-118k.jsonl.gz``) keeps authors, categories, year, month and url under
``metadata``. Both are JSONL, streamed line by line (a multi-GB file never sits in memory); the
generic field aliases map their names, the arXiv id becomes the paper id and its abs page the url.
"""

from __future__ import annotations

import json
from typing import Any

SNAPSHOT_KEYS = {"id", "abstract", "update_date", "categories"}
_DATE_KEYS = ("date", "published", "publication_date", "pub_date", "update_date", "created")


def is_arxiv_snapshot(first_line: bytes) -> bool:
    """Whether the first object of a JSONL file has the arXiv snapshot's fields."""
    try:
        obj = json.loads(first_line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(obj, dict) and obj.keys() >= SNAPSHOT_KEYS


def _month(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 12:
        return value
    if isinstance(value, str) and value.strip().isdigit() and 1 <= int(value) <= 12:
        return int(value)
    return None


def flatten_export(obj: dict[str, Any]) -> dict[str, Any]:
    """One record's fields with a nested ``metadata`` object merged in (top-level names win).

    A ``year`` with a ``month`` (and no other date) becomes a ``YYYY-MM`` date.
    """
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not meta:
        return obj
    row = {k: v for k, v in meta.items() if isinstance(k, str)}
    row.update((k, v) for k, v in obj.items() if k != "metadata")
    lower = {k.lower() for k in row}
    month = _month(row.get("month"))
    year = row.get("year")
    if month and not lower & set(_DATE_KEYS) and isinstance(year, int | str) and str(year).strip().isdigit():
        row["date"] = f"{int(year):04d}-{month:02d}"
    return row
