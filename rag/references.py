"""Cited references out: BibTeX and Markdown."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from rag.types import Answer, Citation

# Characters that never appear unencoded in a valid URL (RFC 3986) but do break out of HTML
# attributes, Markdown autolinks and BibTeX braces; whitespace and control characters included.
_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f<>\"'`{}|\\^]")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|])")
_MARKER = re.compile(r"(\[\d+\])")


def markdown_text(text: str) -> str:
    """Text from papers for a Markdown file: syntax backslash-escaped (no links, images or HTML), `[n]` kept."""
    parts = _MARKER.split(text)
    return "".join(part if i % 2 else _MD_SPECIAL.sub(r"\\\1", part) for i, part in enumerate(parts))


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) link with a host, else None (never `javascript:`, `data:`, ...).

    Paper URLs come from the files users ingest, so they are data: anything that could run code
    or escape the markup it is put in is dropped rather than repaired.
    """
    if not url:
        return None
    url = url.strip()
    if _UNSAFE_URL_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _key(citation: Citation) -> str:
    paper = citation.paper
    first = re.sub(r"[^a-z]", "", (paper.authors[0].split()[-1] if paper.authors else "").lower())
    word = next((w for w in re.findall(r"[a-z]+", paper.title.lower()) if len(w) > 3), "paper")
    return f"{first or 'ref'}{paper.year or ''}{word}{citation.number}"


def _bib_escape(text: str) -> str:
    return text.replace("{", "\\{").replace("}", "\\}").replace("&", "\\&").replace("%", "\\%")


def to_bibtex(answer: Answer) -> str:
    """The cited papers as BibTeX entries (@misc, arXiv fields when the id is one)."""
    entries = []
    for c in answer.citations:
        p = c.paper
        fields = {"title": "{" + _bib_escape(p.title) + "}"}
        if p.authors:
            fields["author"] = " and ".join(_bib_escape(a) for a in p.authors)
        if p.year:
            fields["year"] = str(p.year)
        if url := safe_url(p.url):
            fields["url"] = url
        if re.fullmatch(r"\d{4}\.\d{4,5}", p.id):
            fields |= {"eprint": p.id, "archivePrefix": "arXiv"}
        fields["note"] = f"Source: {Path(p.source).name}"
        body = ",\n".join(f"  {k} = {{{v}}}" if not v.startswith("{") else f"  {k} = {v}" for k, v in fields.items())
        entries.append(f"@misc{{{_key(c)},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def to_markdown(answer: Answer) -> str:
    """The answer and its numbered references as Markdown."""
    lines = [f"**Q:** {markdown_text(answer.question)}", "", markdown_text(answer.text), ""]
    if answer.citations:
        lines.append("**References**")
        lines.append("")
        for c in answer.citations:
            p = c.paper
            year = f" ({p.year})" if p.year else ""
            link = f" <{url}>" if (url := safe_url(p.url)) else ""
            lines.append(f"{c.number}. {markdown_text(p.title)}{year}. {markdown_text(Path(p.source).name)}{link}")
            if c.quote:
                lines.append(f"   > {markdown_text(c.quote)}")
    return "\n".join(lines) + "\n"


def references_markdown(answer: Answer) -> str:
    """The numbered references, one per line: `[n] Title (year) <url>` (only http(s) URLs)."""
    lines = []
    for c in answer.citations:
        p = c.paper
        year = f" ({p.year})" if p.year else ""
        url = safe_url(p.url)
        lines.append(f"[{c.number}] {p.title}{year}" + (f" <{url}>" if url else ""))
    return "\n".join(lines)
