"""HTML/Markdown rendering of answers and hits for the UI (pure functions, no gradio)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Literal

from rag.references import escape_cited, escape_markdown, references_markdown, safe_url
from rag.types import Answer, Hit


def link_markers(text: str) -> str:
    """`[n]` -> a link to the n-th reference in the sources panel; the text between is `escape_markdown`."""
    return escape_cited(text, lambda n: f'<a href="#ref-{n}" class="cite">[{n}]</a>')


def answer_markdown(answer: Answer) -> str:
    """The chat message for a finished answer; abstentions and notices look different."""
    parts = []
    if answer.notice:
        parts.append(f"> ℹ️ {escape_markdown(answer.notice)}")
    if answer.abstained:
        parts.append("> ⚠️ **Not answered from the indexed abstracts.**")
        parts.append(escape_markdown(answer.text))
    elif answer.status == "partial":
        missing = f": the abstracts do not {escape_markdown(answer.missing)}" if answer.missing else ""
        parts.append(f"> 🟡 **Partly answered{missing}.** What they do say:")
        parts.append(link_markers(answer.text))
    else:
        parts.append(link_markers(answer.text))
    if answer.standalone_question:  # a follow-up rewritten for retrieval: say what was searched for
        parts.append(f"<small class='searched-for'>searched for: {escape_markdown(answer.standalone_question)}</small>")
    return "\n\n".join(parts)


def _highlight(abstract: str, quote: str) -> str:
    escaped = escape_markdown(abstract)
    if quote and (q := escape_markdown(quote)) in escaped:
        return escaped.replace(q, f"<mark>{q}</mark>", 1)
    return escaped


def sources_html(answer: Answer | None) -> str:
    """The sources panel: each cited paper with its abstract expandable, the supporting sentence highlighted."""
    if answer is None:
        return "<div class='sources-empty'>Cited papers appear here.</div>"
    if not answer.citations:
        closest = "".join(f"<li>{escape_markdown(h.paper.title)}</li>" for h in answer.sources[:5])
        label = "Closest papers (none cited)" if answer.abstained else "No paper cited"
        return f"<div class='sources'><h4>{label}</h4><ul>{closest}</ul></div>"
    items = []
    for c in answer.citations:
        p = c.paper
        meta = [
            str(p.year) if p.year else "year unknown",
            f"{p.author_count} authors" if p.author_count else "authors unknown",
            escape_markdown(Path(p.source).name),
        ]
        url = safe_url(p.url)  # only http(s): a `javascript:` URL from a file never becomes a link
        # an attribute value: html.escape escapes quotes too (safe_url already refuses them)
        link = f" · <a href='{html.escape(url)}' target='_blank' rel='noopener noreferrer'>link</a>" if url else ""
        items.append(
            f"<div class='ref' id='ref-{c.number}'><b>[{c.number}] {escape_markdown(p.title)}</b><br>"
            f"<small>{' · '.join(meta)}{link}</small>"
            f"<blockquote class='quote'>{escape_markdown(c.quote)}</blockquote>"
            f"<details><summary>Abstract</summary><p>{_highlight(p.abstract, c.quote)}</p></details></div>"
        )
    return "<div class='sources'><h4>Sources</h4>" + "".join(items) + "</div>"


HITS_HEADERS = ["title", "year", "score", "passage"]
# text from papers: escaped Markdown
HITS_TYPES: list[Literal["str", "number", "markdown"]] = ["markdown", "str", "number", "markdown"]
# gradio's `column_widths` (a % is of the table's width): the year and score columns fit "2024" and "0.123"; the
# passage gets the most room, so at 1280 px wide every column is on screen and the passage wraps
HITS_WIDTHS: list[str | int] = ["30%", "64px", "72px", "54%"]
# on a phone (a screen under `NARROW_SCREEN_PX`) the table scrolls sideways to the passage, each column wide enough
# to read
HITS_WIDTHS_NARROW: list[str | int] = ["140px", "64px", "72px", "240px"]
NARROW_SCREEN_PX = 700


def hits_columns(screen_width: float | None) -> list[str | int]:
    """The search table's `column_widths` for a browser window `screen_width` px wide."""
    return HITS_WIDTHS_NARROW if screen_width and screen_width < NARROW_SCREEN_PX else HITS_WIDTHS


NO_YEAR = "—"


def hits_table(hits: list[Hit]) -> list[list[object]]:
    """Rows for the search results table (`HITS_TYPES`): title (with its source file under it), year, score and
    passage; titles, file names and passages made inert."""
    return [
        [
            f"{escape_markdown(h.paper.title)}<br><small>{escape_markdown(Path(h.paper.source).name)}</small>",
            str(h.paper.year) if h.paper.year else NO_YEAR,
            round(h.score, 3),
            escape_markdown(h.passage if len(h.passage) <= 300 else h.passage[:300].rstrip() + "…"),
        ]
        for h in hits
    ]


def api_markdown(answer: Answer) -> str:
    """The `/ask` API's reply: the answer with [n] markers, then the numbered references (all of it inert)."""
    refs = references_markdown(answer)
    missing = f" (the abstracts do not {escape_markdown(answer.missing)})" if answer.missing else ""
    status = f"Status: {answer.status}{missing}"
    return escape_cited(answer.text) + ("\n\nReferences:\n" + refs if refs else "") + "\n\n" + status
