"""JSONL and CSV files of papers (a BEIR ``corpus.jsonl`` loads as it is).

Column names are matched case-insensitively and common aliases are accepted.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from rag.corpus.records import RawPaper, arxiv_id, clean_space, derive_title
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


def map_columns(names: Iterable[str]) -> dict[str, str]:
    """Map our field names to the file's column names, by alias, case-insensitively."""
    lower = {n.strip().lower(): n for n in names if n}
    found: dict[str, str] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[field] = lower[alias]
                break
    return found


def parse_date(value: Any) -> str | None:
    """An ISO date (or year) from the many ways files write dates."""
    if value is None or value == "":
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
            " ".join(v) if isinstance(v, list) else str(v.get("name", "")) if isinstance(v, dict) else str(v)
            for v in value
        ]
    else:
        text = re.sub(r"\s+and\s+", ", ", str(value))
        names = re.split(r"\s*[;,]\s*" if ";" not in text else r"\s*;\s*", text)
    return tuple(clean_space(n) for n in names if n and n.strip())


def _categories(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return tuple(str(value).split())


def record_to_paper(row: dict[str, Any], columns: dict[str, str], source: str, line: int) -> RawPaper | FileError:
    """Turn one row/object into a paper, or say what is wrong with it."""
    abstract = clean_space(str(row.get(columns["abstract"]) or ""))
    if not abstract:
        return FileError(path=source, line=line, message="empty abstract; row skipped")
    title = clean_space(str(row.get(columns.get("title", ""), "") or ""))
    given = str(row[columns["id"]]).strip() if "id" in columns and row.get(columns["id"]) else None
    url = row.get(columns["url"]) if "url" in columns else None
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
        url=str(url) if url else None,
        given_id=given,
        categories=_categories(row.get(columns["categories"])) if "categories" in columns else (),
    )


def read_jsonl(lines: Iterable[tuple[int, bytes]], source: str) -> Iterator[RawPaper | FileError]:
    """Stream JSON objects one a line; a broken line is reported and skipped."""
    columns: dict[str, str] | None = None
    for number, raw in lines:
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield FileError(path=source, line=number, message=f"not UTF-8 text ({exc.reason})")
            continue
        except json.JSONDecodeError as exc:
            yield FileError(path=source, line=number, message=f"broken JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(obj, dict):
            yield FileError(path=source, line=number, message="expected a JSON object")
            continue
        cols = map_columns(obj)
        if "abstract" not in cols:
            yield FileError(
                path=source,
                line=number,
                message="no abstract field (expected one of: " + ", ".join(ALIASES["abstract"]) + ")",
            )
            continue
        columns = cols if columns is None or cols.keys() != columns.keys() else columns
        yield record_to_paper(obj, columns, source, number)


def read_json_array(text: str, source: str) -> Iterator[RawPaper | FileError]:
    """A .json file holding a list of objects (or one object a line)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        yield from read_jsonl(((i, ln.encode()) for i, ln in enumerate(text.splitlines(), 1)), source)
        return
    items = data if isinstance(data, list) else data.get("papers") if isinstance(data, dict) else None
    if not isinstance(items, list):
        yield FileError(path=source, message="expected a JSON list of paper objects")
        return
    for i, obj in enumerate(items, start=1):
        line = (i, json.dumps(obj).encode())
        yield from read_jsonl([line], source)


def read_csv(text: str, source: str) -> Iterator[RawPaper | FileError]:
    """A CSV/TSV file with a header row; the delimiter is sniffed."""
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel_tab if source.endswith(".tsv") else csv.excel
    csv.field_size_limit(1 << 24)
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    try:
        columns = map_columns(reader.fieldnames or [])
    except csv.Error as exc:
        yield FileError(path=source, line=1, message=f"unreadable CSV header: {exc}")
        return
    if "abstract" not in columns:
        yield FileError(
            path=source,
            line=1,
            message="no abstract column in the header (expected one of: "
            + ", ".join(ALIASES["abstract"])
            + f"; found: {', '.join(reader.fieldnames or [])})",
        )
        return
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield FileError(path=source, line=line, message=f"unreadable CSV row: {exc}")
            return
        yield record_to_paper(row, columns, source, line)
