"""Plain-text dumps of paper listing pages, in any of the shapes seen in the wild.

Shapes handled (detected per file, parsed by one state machine):
- ``one-per-line``: one abstract per line, no titles;
- ``pairs``: a title line then an abstract line, page junk glued to the first title;
- ``blocks``: blank-line separated title / abstract blocks;
- ``blocks-with-metadata``: the same with "• N authors", "·" and a date line after each abstract.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime

from rag.corpus.records import RawPaper, clean_text, derive_title

log = logging.getLogger(__name__)

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_JUNK_LINES = [
    re.compile(p, re.I)
    for p in (
        r"^new$",
        r"^subscribe$",
        r"^daily papers$",
        r"^by\s*ak and the research community$",
        r"^get trending papers in your email inbox.*$",
        r"^(?:submitted by|upvote|share|copy link)\b.*$",
        rf"^{_MONTH} \d{{1,2}}$",  # the listing page's own date, no year
        r"^\d+$",
    )
]
_JUNK_PREFIXES = re.compile(
    r"^(?i:subscribe|get trending papers in your email inbox(?: once a day)?!|daily papers)"
    r"(?=[A-Z0-9\"'(])"
)
_AUTHORS = re.compile(r"^[•·*\-]?\s*(\d+)\s+authors?$", re.I)
_SEPARATOR = re.compile(r"^[·•\-|]+$")
_DATE = re.compile(rf"^({_MONTH} \d{{1,2}}, \d{{4}})(?:\s+\d+)*$")
_SENTENCE_BREAK = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bet al)\.\s+[A-Z]")


def _parse_date(text: str) -> str | None:
    for fmt in ("%b %d, %Y", "%B %d, %Y"):
        try:
            return datetime.strptime(text.replace("Sept", "Sep").replace(".", ""), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def is_prose(line: str) -> bool:
    """Whether a line reads as an abstract (sentences) rather than a title."""
    words = len(line.split())
    if words >= 45:
        return True
    return words >= 20 and line.rstrip().endswith((".", "!", ")")) and bool(_SENTENCE_BREAK.search(line))


def classify(line: str) -> tuple[str, str]:
    """Classify one stripped line as junk, blank, authors, separator, date, prose or title."""
    if not line:
        return "blank", line
    if any(p.match(line) for p in _JUNK_LINES):
        return "junk", line
    while (m := _JUNK_PREFIXES.match(line)) is not None:
        line = line[m.end() :].strip()
    if m := _AUTHORS.match(line):
        return "authors", m.group(1)
    if _SEPARATOR.match(line):
        return "separator", line
    if m := _DATE.match(line):
        return "date", m.group(1)
    return ("prose" if is_prose(line) else "title"), line


def detect_shape(lines: Sequence[str | None]) -> str:
    """Name the dump's shape from the kinds of its lines (None: an unreadable line)."""
    kinds = [classify(ln.strip())[0] if ln is not None else "junk" for ln in lines]
    blank, title = kinds.count("blank"), kinds.count("title")
    meta = kinds.count("authors") + kinds.count("date")
    if title == 0:
        return "one-per-line"
    if blank * 3 < len(kinds):
        return "pairs"
    return "blocks-with-metadata" if meta else "blocks"


def looks_like_listing(lines: Sequence[str | None]) -> bool:
    """Whether a text file's lines hold abstracts (at least one prose line in the first 2,000)."""
    return any(is_prose(ln.strip()) for ln in lines[:2000] if ln is not None)


def parse_listing(text: str, source: str) -> Iterator[RawPaper]:
    """Yield the papers of one listing-page dump; junk lines never become papers."""
    return parse_listing_lines(text.splitlines(), source)


def parse_listing_lines(lines: Sequence[str | None], source: str) -> Iterator[RawPaper]:
    """The papers of a dump given as lines; an unreadable line (None) is passed over like junk."""
    joins_paragraphs = detect_shape(lines).startswith("blocks")
    title: tuple[str, int] | None = None
    current: RawPaper | None = None
    previous_kind = "blank"

    for number, raw in enumerate(lines, start=1):
        if raw is None:
            continue
        kind, value = classify(clean_text(raw))
        if kind in ("junk", "separator"):
            continue
        if kind == "blank":
            previous_kind = kind
            continue
        if kind == "authors" and current is not None:
            current.author_count = int(value)
        elif kind == "date" and current is not None:
            current.date = _parse_date(value)
        elif kind == "title":
            if title is not None:
                log.debug("%s:%d: title without an abstract skipped: %s", source, title[1], title[0])
            title = (value, number)
        elif kind == "prose":
            if joins_paragraphs and previous_kind == "prose" and current is not None:
                current.abstract += " " + value  # a second paragraph of the same abstract
            else:
                if current is not None:
                    yield current
                start = title[1] if title else number
                current = RawPaper(
                    title=title[0] if title else derive_title(value),
                    abstract=value,
                    source=source,
                    line=start,
                    title_derived=title is None,
                )
                title = None
        previous_kind = kind
    if current is not None:
        yield current
