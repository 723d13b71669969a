"""Cited references out: BibTeX and Markdown."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from rag.types import Answer, Citation

# Characters that never appear unencoded in a valid URL (RFC 3986) but do break out of HTML
# attributes, Markdown autolinks and BibTeX braces; whitespace and control characters included.
_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f<>\"'`{}|\\^]")


_MARKER = re.compile(r"\[(\d+)\]")
# Markup as character references: neither CommonMark nor HTML ever reads a reference as structure, so text from
# papers cannot form tags (`<script>`, `<img onerror>`), entities, links (`[x](javascript:...)`), images,
# autolinks, emphasis, code, maths or tables, and still reads the same once rendered. One table, one pass (escaping
# HTML first and Markdown after would break the references the first step wrote).
_INERT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {c: f"&#{ord(c)};" for c in "[]!*_`~$\\|"})
_LINK_AFTER = str.maketrans({"(": "&#40;", ":": "&#58;"})  # `[1](url)` and `[1]: url` would make a marker a link


def escape_markdown(text: str) -> str:
    """Untrusted text (a paper's title, abstract, authors or file name; a model's answer quoting them) for a text
    position in Markdown or HTML: every door that renders or returns Markdown or HTML uses this one function. Not
    for attribute values or URLs (links go through `safe_url`)."""
    return text.translate(_INERT)


def escape_cited(text: str, marker: Callable[[str], str] = lambda n: f"[{n}]") -> str:
    """`escape_markdown` of an answer's text, its `[n]` citation markers kept as they are (or as `marker(n)`
    renders them), and never followed by something that would turn them into a link."""
    parts = _MARKER.split(text)  # text, number, text, number, ..., text
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(marker(part))
        else:
            escaped = escape_markdown(part)
            out.append(escaped[:1].translate(_LINK_AFTER) + escaped[1:] if i else escaped)
    return "".join(out)


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


# Every LaTeX special: a title is typeset, so `\\input{...}` or `$...$` from a file must stay text. One pass.
_BIB = str.maketrans(
    {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_"}
    | {"^": r"\^{}", "~": r"\~{}"}
)


def _bib_escape(text: str) -> str:
    return text.translate(_BIB)


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
        fields["note"] = f"Source: {_bib_escape(Path(p.source).name)}"
        body = ",\n".join(f"  {k} = {{{v}}}" if not v.startswith("{") else f"  {k} = {v}" for k, v in fields.items())
        entries.append(f"@misc{{{_key(c)},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def to_markdown(answer: Answer) -> str:
    """The answer and its numbered references as Markdown (text from papers and the model made inert)."""
    lines = [f"**Q:** {escape_markdown(answer.question)}", "", escape_cited(answer.text), ""]
    if answer.citations:
        lines.append("**References**")
        lines.append("")
        for c in answer.citations:
            p = c.paper
            year = f" ({p.year})" if p.year else ""
            link = f" <{url}>" if (url := safe_url(p.url)) else ""
            lines.append(f"{c.number}. {escape_markdown(p.title)}{year}. {escape_markdown(Path(p.source).name)}{link}")
            if c.quote:
                lines.append(f"   > {escape_markdown(c.quote)}")
    return "\n".join(lines) + "\n"


def references_markdown(answer: Answer) -> str:
    """The numbered references, one per line: `[n] Title (year) <url>` (titles inert, only http(s) URLs linked)."""
    lines = []
    for c in answer.citations:
        p = c.paper
        year = f" ({p.year})" if p.year else ""
        url = safe_url(p.url)
        lines.append(f"[{c.number}] {escape_markdown(p.title)}{year}" + (f" <{url}>" if url else ""))
    return "\n".join(lines)
