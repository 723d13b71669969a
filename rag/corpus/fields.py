"""One record (a JSON object or a CSV row) -> a paper: field aliases, dates, authors, and what is wrong with it.

Column names are matched case-insensitively and common aliases are accepted, so a BEIR
``corpus.jsonl`` or an arXiv export loads as it is. A field of the wrong JSON type (an abstract
that is a number or an object) is an error for that record, never text made up from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rag.corpus.arxiv import flatten_export
from rag.corpus.records import RawPaper, arxiv_id, clean_space, clean_text, derive_title
from rag.types import FileError

ALIASES: dict[str, tuple[str, ...]] = {
    "abstract": ("abstract", "summary", "text", "abstract_text", "body", "content", "description"),
    "title": ("title", "paper_title", "name", "headline"),
    "authors": ("authors", "author", "creators", "author_names"),
    "date": ("date", "published", "publication_date", "pub_date", "update_date", "created", "year"),
    "id": ("id", "_id", "paper_id", "arxiv_id", "doc_id", "docid", "corpus_id"),
    "url": ("url", "link", "abs_url", "pdf_url", "href"),
    "categories": ("categories", "category", "tags", "subjects"),
}
_YEAR_ONLY = re.compile(r"^\s*((?:19|20)\d\d)(?:\.0)?\s*$")
_ISO = re.compile(r"^\s*((?:19|20)\d\d)(?:[-/](\d{1,2}))?(?:[-/](\d{1,2}))?")


class BadRecord(ValueError):
    """A record that cannot become a paper; the message says why."""


def map_columns(names: Iterable[str]) -> dict[str, str]:
    """Map our field names to the file's column names, by alias, case-insensitively."""
    lower = {n.strip().lower(): n for n in names if isinstance(n, str) and n}
    found: dict[str, str] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[field] = lower[alias]
                break
    return found


def parse_date(value: Any) -> str | None:
    """An ISO date (or year) from the many ways files write dates."""
    if value is None or value == "" or isinstance(value, dict | list | bool):
        return None
    text = str(value)
    if m := _YEAR_ONLY.match(text):
        return m.group(1)
    if m := _ISO.match(text):
        year, month, day = m.groups()
        parts = [year] + [f"{int(p):02d}" for p in (month, day) if p]
        return "-".join(parts)
    return None


def parse_authors(value: Any) -> tuple[str, ...]:
    """Author names from a list or a 'A, B and C' / 'A; B' string."""
    if not value:
        return ()
    if isinstance(value, list):
        names = [
            " ".join(map(str, v)) if isinstance(v, list) else str(v.get("name", "")) if isinstance(v, dict) else str(v)
            for v in value
        ]
    else:
        text = re.sub(r"\s+and\s+", ", ", str(value))
        names = re.split(r"\s*[;,]\s*" if ";" not in text else r"\s*;\s*", text)
    return tuple(name for name in (clean_text(n) for n in names if n) if name)


def _categories(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value if v is not None)
    return tuple(str(value).split())


def kind_of(value: Any) -> str:
    """A JSON value's type in words ("a number", "an object")."""
    return {bool: "true/false", int: "a number", float: "a number", dict: "an object", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _text(value: Any, field: str, *, numbers: bool = False) -> str:
    """A field's text: a string, a list of strings (paragraphs), or (when allowed) a number."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadRecord(f"{field} is {kind_of(value)}, not text; record skipped")


def record_to_paper(row: dict[str, Any], columns: dict[str, str], source: str, line: int) -> RawPaper | FileError:
    """Turn one row/object into a paper, or say what is wrong with it."""
    try:
        abstract = clean_text(_text(row.get(columns["abstract"]), "abstract"))
        title = clean_text(_text(row.get(columns["title"]), "title", numbers=True)) if "title" in columns else ""
        given = clean_space(_text(row.get(columns["id"]), "id", numbers=True)) if "id" in columns else ""
    except BadRecord as exc:
        return FileError(path=source, line=line, message=str(exc))
    if not abstract:
        return FileError(path=source, line=line, message="empty abstract; record skipped")
    url = row.get(columns["url"]) if "url" in columns else None
    url = url.strip() if isinstance(url, str) and url.strip() else None
    aid = arxiv_id(given)
    if aid and not url:
        url = f"https://arxiv.org/abs/{aid}"
    authors = parse_authors(row.get(columns["authors"])) if "authors" in columns else ()
    return RawPaper(
        title=title or derive_title(abstract),
        title_derived=not title,
        abstract=abstract,
        source=source,
        line=line,
        authors=authors,
        author_count=len(authors) or None,
        date=parse_date(row.get(columns["date"])) if "date" in columns else None,
        url=url,
        given_id=given or None,
        categories=_categories(row.get(columns["categories"])) if "categories" in columns else (),
    )


def object_to_paper(obj: Any, source: str, line: int) -> RawPaper | FileError:
    """One decoded JSON value (an object with an abstract field) as a paper, or what is wrong with it."""
    if not isinstance(obj, dict):
        return FileError(path=source, line=line, message=f"expected a JSON object, found {kind_of(obj)}")
    row = flatten_export(obj)
    columns = map_columns(row)
    if "abstract" not in columns:
        return FileError(
            path=source,
            line=line,
            message="no abstract field (expected one of: " + ", ".join(ALIASES["abstract"]) + ")",
        )
    return record_to_paper(row, columns, source, line)
