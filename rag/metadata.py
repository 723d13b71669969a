"""Questions about a paper's record rather than its findings: who wrote it, when, where it appeared, where its
code is. They are answered from the record's fields (or the abstract's own link / venue sentence) when it has
them, and otherwise named as what the record does not give: an abstract's nearest sentence is not an answer.
"""

from __future__ import annotations

import re
from typing import Literal

from rag.support import content_words, sentences_of
from rag.types import Paper

Field = Literal["authors", "year", "venue", "code"]

_ASKS: tuple[tuple[Field, re.Pattern[str]], ...] = (
    (
        "authors",
        re.compile(
            r"\bwho (?:wrote|authored|are the authors|were the authors|is the author|was the author)\b"
            r"|\b(?:which|what|who) (?:are|were|is|was) the authors?\b|\bauthors? (?:list|names?)\b"
            r"|^\W*(?:the )?authors? of\b|\b(?:name|list|give|tell me) (?:me )?(?:all )?the authors\b"
            r"|\bwritten by whom\b|\bby whom\b",
            re.I,
        ),
    ),
    (
        "code",
        re.compile(
            r"\b(?:code|source code|implementation|github|repository|repo)\b.{0,40}?"
            r"\b(?:available|released|public|open[- ]?sourced?|link|url|online|find|download|anywhere)\b"
            r"|\b(?:link|url) (?:to|of|for) (?:the |its |their )?(?:code|repo|repository|implementation)\b"
            r"|\b(?:toolbox|toolkit|software|project) (?:link|url|homepage)s?(?=\s*(?:[?.!]|$)|\s+(?:for|of|to)\b)"
            r"|\bwhere (?:can i|could i|do i|to) (?:find|get|download) (?:the |its |their )?(?:code|implementation)\b",
            re.I,
        ),
    ),
    (
        "venue",
        re.compile(
            r"\b(?:which|what) (?:venue|conference|journal|workshop|proceedings)\b|\bvenue\b"
            r"|\bwhere (?:was|were|is|did) .{0,80}?\b(?:published|presented|appear)\b",
            re.I,
        ),
    ),
    (
        "year",
        re.compile(
            r"\b(?:when|what year|which year|in what year)\b.{0,80}?"
            r"\b(?:published|released|appear(?:ed)?|came out|come out|written|submitted|posted)\b"
            r"|\b(?:publication|release) (?:year|date)\b|\b(?:year|date) of (?:publication|release)\b",
            re.I,
        ),
    ),
)

_URL = re.compile(r"https?://\S+|\b(?:github|gitlab|bitbucket)\.(?:com|org|io)/\S+", re.I)
_VENUE = re.compile(
    r"\b(?:accepted|published|to appear|appears|presented)\s+(?:at|in|to|as)\b|\b(?:proceedings|conference|workshop)\b",
    re.I,
)
WORDS: dict[Field, str] = {"authors": "authors", "year": "year", "venue": "venue", "code": "code link"}
"""How an answer names each field."""


def asks_metadata(question: str) -> Field | None:
    """The record field a question asks for, if it asks for one (not "what do the authors propose?")."""
    for field, pattern in _ASKS:
        if pattern.search(question):
            return field
    return None


def record_field(text: str, clause: str, asks: str = "") -> Field | None:
    """The record field a question asks for, read from its question proper (`clause`, without the reader's
    preamble: "I need an implementation. Which package ...?" asks for a name); from the whole `text` when the
    clause asks no name, number or list (`asks`: "... I could not find the code. Do the authors provide a GitHub
    repository?") or says too little on its own ("The GraphPoolNet code is what I need. Is there a link?")."""
    field = asks_metadata(clause or text)
    if field is None and (asks not in ("name", "number", "list") or len(content_words(clause)) <= 2):
        field = asks_metadata(text)
    return field


def stated(field: Field, paper: Paper) -> str | None:
    """The field as the record gives it: the authors, the date, or the abstract's sentence that gives a code link
    or a venue; None when the record does not give it."""
    if field == "authors":
        if not paper.authors:
            return None
        names = list(paper.authors)
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"The authors are {listed}."
    if field == "year":
        return f"It is dated {paper.date}." if paper.date else None
    pattern = _URL if field == "code" else _VENUE
    found = next((s for s in sentences_of(paper.abstract) if pattern.search(s)), None)
    if found is None and field == "code" and paper.url and re.search(r"github|gitlab", paper.url, re.I):
        return f"Its code is at {paper.url}."
    return found


_FIELD_WORDS = re.compile(
    r"\b(?:authors?|wrote|written|whom|who|code|source|implementation|github|repository|repo|available|released|"
    r"public|link|url|online|download|anywhere|venue|conference|journal|workshop|proceedings|published|presented|"
    r"appear(?:ed)?|year|date|publication|release|when|where)\b",
    re.I,
)


def without_field_words(question: str) -> str:
    """The question without the words that ask for a record field: what is left says which paper it is about."""
    return " ".join(_FIELD_WORDS.sub(" ", question).split())
