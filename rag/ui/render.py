"""HTML/Markdown rendering of answers and hits for the UI (pure functions, no gradio)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from rag.types import Answer, Hit

_MARK = re.compile(r"\[(\d+)\]")


def link_markers(text: str) -> str:
    """`[n]` -> a link to the n-th reference in the sources panel."""
    return _MARK.sub(lambda m: f'<a href="#ref-{m.group(1)}" class="cite">[{m.group(1)}]</a>', text)


def answer_markdown(answer: Answer) -> str:
    """The chat message for a finished answer; abstentions and notices look different."""
    parts = []
    if answer.notice:
        parts.append(f"> ℹ️ {answer.notice}")
    if answer.abstained:
        parts.append("> ⚠️ **Not answered from the indexed abstracts.**")
        parts.append(html.escape(answer.text))
    else:
        parts.append(link_markers(html.escape(answer.text, quote=False)))
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
        link = f" · <a href='{html.escape(p.url)}' target='_blank'>link</a>" if p.url else ""
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
    refs = answer.references_markdown()
    return answer.text + ("\n\nReferences:\n" + refs if refs else "")
