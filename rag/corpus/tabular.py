"""JSONL, JSON and CSV files of papers, read from numbered lines (see `rag.corpus.stream`).

An error names its line, and a bad record costs that record only; where the file's structure is
lost (broken JSON inside a list, malformed CSV quoting) the reader stops with an error rather than
guess, so no paper is ever invented.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from rag.corpus.fields import ALIASES, kind_of, map_columns, object_to_paper, record_to_paper
from rag.corpus.records import RawPaper, clean_space
from rag.corpus.stream import ReadLimits, line_problem
from rag.types import FileError

_DELIMITERS = (",", "\t", ";", "|")
_PAPERS_FIRST = re.compile(r'\{\s*"papers"\s*:\s*\[')

Lines = Iterable[tuple[int, str] | FileError]
"""Numbered lines of a file, with errors for the lines that could not be read."""


def _loads(text: str) -> Any:
    """json.loads with nesting too deep for the parser reported as a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def read_jsonl(lines: Lines, source: str, limits: ReadLimits | None = None) -> Iterator[RawPaper | FileError]:
    """Stream JSON objects one a line; a broken line is reported and skipped. After
    `limits.max_skipped_in_a_row` lines in a row without a paper (blank ones too) the file is cut."""
    limits = limits or ReadLimits()
    barren = 0
    for item in lines:
        if barren >= limits.max_skipped_in_a_row:
            yield limits.skipped_cut(source, item.line if isinstance(item, FileError) else item[0])
            return
        barren += 1
        if isinstance(item, FileError):
            yield item
            continue
        number, text = item
        text = text.lstrip("\ufeff")  # a byte-order mark left by concatenating files
        if not text.strip():
            continue
        if problem := line_problem(text):
            yield FileError(path=source, line=number, message=problem)
            continue
        try:
            obj = _loads(text)
        except json.JSONDecodeError as exc:
            yield FileError(path=source, line=number, message=f"broken JSON: {exc.msg} (column {exc.colno})")
            continue
        except ValueError as exc:
            yield FileError(path=source, line=number, message=f"{exc}; skipped")
            continue
        paper = object_to_paper(obj, source, number)
        if isinstance(paper, RawPaper):
            barren = 0
        yield paper


def _line_counter(text: str) -> Any:
    """A function pos -> 1-based line number, fast for increasing positions."""
    state = [0, 1]  # last position, its line

    def line_at(pos: int) -> int:
        if pos < state[0]:
            state[0], state[1] = 0, 1
        state[1] += text.count("\n", state[0], pos)
        state[0] = pos
        return state[1]

    return line_at


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _array_items(
    text: str, start: int, source: str, limits: ReadLimits, *, inside: bool = False
) -> Iterator[RawPaper | FileError]:
    """The objects of a JSON list (top-level, or `inside` an object), each read on its own so one bad item costs
    that item; the list is cut after `limits.max_records` items."""
    decoder = json.JSONDecoder()
    line_at = _line_counter(text)
    pos = _skip_space(text, start + 1)
    items = barren = 0
    while pos < len(text) and text[pos] != "]":
        line = line_at(pos)
        if items >= limits.max_records:
            yield limits.records_cut(source, line, "items")
            return
        if barren >= limits.max_skipped_in_a_row:
            yield limits.skipped_cut(source, line, "items")
            return
        items += 1
        barren += 1
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            msg = f"broken JSON: {exc.msg} (column {exc.colno}); the rest of the file is not read"
            yield FileError(path=source, line=exc.lineno, message=msg)
            return
        except RecursionError:
            msg = "JSON nested too deeply; the rest of the file is not read"
            yield FileError(path=source, line=line, message=msg)
            return
        problem = line_problem(text[pos:end])
        paper = FileError(path=source, line=line, message=problem) if problem else object_to_paper(obj, source, line)
        if isinstance(paper, RawPaper):
            barren = 0
        yield paper
        pos = _skip_space(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
        elif pos < len(text) and text[pos] != "]":
            msg = "broken JSON: expected ',' or ']' after an item; the rest of the file is not read"
            yield FileError(path=source, line=line_at(pos), message=msg)
            return
    if pos >= len(text):
        yield FileError(path=source, line=line_at(len(text)), message="broken JSON: the list is never closed")
    elif not inside and text[pos + 1 :].strip():
        yield FileError(path=source, line=line_at(pos + 1), message="extra data after the list; ignored")


def _lines_of(text: str, source: str, limits: ReadLimits) -> Iterator[tuple[int, str] | FileError]:
    """The numbered lines of a text held whole, cut after `limits.max_records` lines."""
    pos = number = 0
    while pos < len(text):
        if number >= limits.max_records:
            yield limits.records_cut(source, number + 1)
            return
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end + 1
        number += 1
        yield number, text[pos:end]
        pos = end


def read_json_document(text: str, source: str, limits: ReadLimits | None = None) -> Iterator[RawPaper | FileError]:
    """A .json file: a list of objects, {"papers": [...]}, one paper object, or one object a line.

    At most `limits.max_records` list items (or lines) are read; the rest is cut with an error.
    """
    limits = limits or ReadLimits()
    start = _skip_space(text.lstrip("\ufeff"), 0) + (len(text) - len(text.lstrip("\ufeff")))
    if start >= len(text):
        return
    if (containers := text.count("{") + text.count("[")) > limits.max_json_containers:
        yield FileError(
            path=source,
            message=f"{containers:,} JSON objects and lists, more than the {limits.max_json_containers:,} a .json "
            "document may hold (twice RAG_MAX_RECORDS_PER_FILE); refused (JSONL is streamed at any size)",
        )
        return
    if text[start] == "[":
        yield from _array_items(text, start, source, limits)
        return
    if papers := _PAPERS_FIRST.match(text, start):  # the usual {"papers": [...]}: streamed like a list
        yield from _array_items(text, papers.end() - 1, source, limits, inside=True)
        return
    try:
        data = _loads(text)
    except json.JSONDecodeError:
        yield from read_jsonl(_lines_of(text, source, limits), source, limits)
        return
    except ValueError as exc:
        yield FileError(path=source, line=1, message=str(exc))
        return
    if isinstance(data, dict) and isinstance(data.get("papers"), list):
        barren = 0
        for i, obj in enumerate(data["papers"], start=1):
            if i > limits.max_records:
                yield limits.records_cut(source, None, "papers items")
                return
            if barren >= limits.max_skipped_in_a_row:
                yield limits.skipped_cut(source, None, "papers items")
                return
            item = object_to_paper(obj, source, 0)
            if isinstance(item, FileError):
                barren += 1
                yield item.model_copy(update={"message": f"papers item {i}: {item.message}"})
            else:
                barren = 0
                yield item
    elif isinstance(data, dict):
        yield object_to_paper(data, source, 1)
    else:
        yield FileError(path=source, message=f"expected a JSON list of paper objects, found {kind_of(data)}")


def _choose_delimiter(header: str, preferred: str) -> str:
    """The delimiter that makes the header name an abstract column (else the one giving most columns)."""
    candidates = [preferred] + [d for d in _DELIMITERS if d != preferred]
    best, best_count = preferred, 0
    for delimiter in candidates:
        if delimiter not in header:
            continue
        fields = next(csv.reader([header], delimiter=delimiter), [])
        if "abstract" in map_columns(fields):
            return delimiter
        if len(fields) > best_count:
            best, best_count = delimiter, len(fields)
    return best


class _Feed:
    """The text lines of a CSV for the csv module; remembers the last line number and any read error."""

    def __init__(self, lines: Iterator[tuple[int, str] | FileError]) -> None:
        self.lines = lines
        self.number = 0
        self.error: FileError | None = None

    def __iter__(self) -> Iterator[str]:
        for item in self.lines:
            if isinstance(item, FileError):
                self.error = item  # the structure is lost: what follows cannot be parsed safely
                return
            self.number, text = item
            yield text


def _stop(error: FileError) -> FileError:
    """A line error that ends a CSV: the record structure after it cannot be trusted."""
    message = error.message.removesuffix("; skipped")
    if "rest of the file" not in message:
        message += "; the rest of the file is not read"
    return error.model_copy(update={"message": message})


def read_csv(
    lines: Lines, source: str, *, tsv: bool = False, field_limit: int = 1_000_000, limits: ReadLimits | None = None
) -> Iterator[RawPaper | FileError]:
    """A CSV/TSV file with a header row, parsed as standard CSV (``""`` escapes, quoted newlines).

    The delimiter is the file type's (comma, or tab for .tsv) unless the header only names an
    abstract column when split on another one (``;`` or ``|``). Quoting is always the standard
    one: a dialect sniffer can switch off ``""`` escaping and turn one paper into two. After
    `limits.max_skipped_in_a_row` rows in a row without a paper (blank ones too) the file is cut.
    """
    limits = limits or ReadLimits()
    feed = _Feed(iter(lines))
    texts = iter(feed)
    header_line = next(texts, None)
    if header_line is None:
        if feed.error:
            yield _stop(feed.error)
        return
    header_line = header_line.lstrip("\ufeff")
    delimiter = _choose_delimiter(header_line, "\t" if tsv else ",")
    csv.field_size_limit(field_limit)
    reader = csv.reader(_chain(header_line, texts), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        unreadable = FileError(path=source, line=1, message=f"unreadable CSV header: {exc}")
        yield _stop(feed.error) if feed.error else unreadable
        return
    columns = map_columns(header)
    if "abstract" not in columns:
        yield FileError(
            path=source,
            line=1,
            message="no abstract column in the header (expected one of: "
            + ", ".join(ALIASES["abstract"])
            + f"; found: {_shorten(', '.join(map(clean_space, header)))})",
        )
        return
    rows, stopped = yield from _csv_rows(reader, feed, header, columns, source, limits)
    if stopped:
        return
    if feed.error is not None:
        yield _stop(feed.error)
    elif rows == 0:
        yield FileError(path=source, line=1, message="no rows after the header")


def _csv_rows(
    reader: Iterator[list[str]],
    feed: _Feed,
    header: list[str],
    columns: dict[str, str],
    source: str,
    limits: ReadLimits,
) -> Generator[RawPaper | FileError, None, tuple[int, bool]]:
    """The papers (and per-row errors) of the rows after the header; returns how many non-blank rows were read,
    and whether the file was cut (too many rows in a row without a paper, or malformed CSV)."""
    rows = barren = 0
    while True:
        line = feed.number + 1
        if barren >= limits.max_skipped_in_a_row:
            yield limits.skipped_cut(source, line, "rows")
            return rows, True
        barren += 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if feed.error is None:
                msg = f"malformed CSV ({exc}); the rest of the file is not read"
                yield FileError(path=source, line=line, message=msg)
                return rows, True
            break
        if feed.error is not None:
            break  # a record cut short by a read error is not a paper
        if not any(fields):
            continue
        rows += 1
        if problem := next((p for p in map(line_problem, fields) if p), None):
            yield FileError(path=source, line=line, message=problem.replace("skipped", "record skipped"))
            continue
        paper = record_to_paper(dict(zip(header, fields, strict=False)), columns, source, line)
        if isinstance(paper, RawPaper):
            barren = 0
        yield paper
    return rows, False


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
