"""HTML/Markdown rendering of answers and hits for the UI (pure functions, no gradio)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from rag.references import references_markdown, safe_url
from rag.types import Answer, Hit

_MARK = re.compile(r"\[(\d+)\]")
# Markdown syntax as character references: CommonMark never reads a reference as structure, so
# text from papers cannot form links (`[x](javascript:...)`), images, emphasis, code or maths.
# One table, one pass: escaping HTML first would leave `&#x27;` for this step to break.
_MD_SAFE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
    | {c: f"&#{ord(c)};" for c in "[]()!*_`~$\\|#"}
)


def md_text(text: str) -> str:
    """Untrusted text for a Markdown message: HTML escaped and Markdown syntax neutralised."""
    return text.translate(_MD_SAFE)


def link_markers(text: str) -> str:
    """`[n]` -> a link to the n-th reference in the sources panel; the text between is `md_text`."""
    parts = _MARK.split(text)  # text, number, text, number, ..., text
    return "".join(
        md_text(part) if i % 2 == 0 else f'<a href="#ref-{part}" class="cite">[{part}]</a>'
        for i, part in enumerate(parts)
    )


def answer_markdown(answer: Answer) -> str:
    """The chat message for a finished answer; abstentions and notices look different."""
    parts = []
    if answer.notice:
        parts.append(f"> ℹ️ {md_text(answer.notice)}")
    if answer.abstained:
        parts.append("> ⚠️ **Not answered from the indexed abstracts.**")
        parts.append(md_text(answer.text))
    elif answer.status == "partial":
        missing = f": the abstracts do not {md_text(answer.missing)}" if answer.missing else ""
        parts.append(f"> 🟡 **Partly answered{missing}.** What they do say:")
        parts.append(link_markers(answer.text))
    else:
        parts.append(link_markers(answer.text))
    return "\n\n".join(parts)


def _highlight(abstract: str, quote: str) -> str:
    escaped = html.escape(abstract)
    if quote and (q := html.escape(quote)) in escaped:
        return escaped.replace(q, f"<mark>{q}</mark>", 1)
    return escaped


def sources_html(answer: Answer | None) -> str:
    """The sources panel: each cited paper with its abstract expandable, the supporting sentence highlighted."""
    if answer is None:
        return "<div class='sources-empty'>Cited papers appear here.</div>"
    if not answer.citations:
        closest = "".join(f"<li>{html.escape(h.paper.title)}</li>" for h in answer.sources[:5])
        label = "Closest papers (none cited)" if answer.abstained else "No paper cited"
        return f"<div class='sources'><h4>{label}</h4><ul>{closest}</ul></div>"
    items = []
    for c in answer.citations:
        p = c.paper
        meta = [
            str(p.year) if p.year else "year unknown",
            f"{p.author_count} authors" if p.author_count else "authors unknown",
            html.escape(Path(p.source).name),
        ]
        url = safe_url(p.url)  # only http(s): a `javascript:` URL from a file never becomes a link
        link = f" · <a href='{html.escape(url)}' target='_blank' rel='noopener noreferrer'>link</a>" if url else ""
        items.append(
            f"<div class='ref' id='ref-{c.number}'><b>[{c.number}] {html.escape(p.title)}</b><br>"
            f"<small>{' · '.join(meta)}{link}</small>"
            f"<blockquote class='quote'>{html.escape(c.quote)}</blockquote>"
            f"<details><summary>Abstract</summary><p>{_highlight(p.abstract, c.quote)}</p></details></div>"
        )
    return "<div class='sources'><h4>Sources</h4>" + "".join(items) + "</div>"


def hits_table(hits: list[Hit]) -> list[list[object]]:
    """Rows for the search results table."""
    return [
        [i, round(h.score, 4), h.paper.year or "", h.paper.title, Path(h.paper.source).name, h.passage[:300]]
        for i, h in enumerate(hits, 1)
    ]


def api_markdown(answer: Answer) -> str:
    """The `/ask` API's reply: the answer with [n] markers, then the numbered references."""
    refs = references_markdown(answer)
    status = f"Status: {answer.status}" + (f" (the abstracts do not {answer.missing})" if answer.missing else "")
    return answer.text + ("\n\nReferences:\n" + refs if refs else "") + "\n\n" + status
