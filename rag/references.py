"""Cited references out: BibTeX and Markdown."""

from __future__ import annotations

import re
from pathlib import Path

from rag.types import Answer, Citation


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
        if p.url:
            fields["url"] = p.url
        if re.fullmatch(r"\d{4}\.\d{4,5}", p.id):
            fields |= {"eprint": p.id, "archivePrefix": "arXiv"}
        fields["note"] = f"Source: {Path(p.source).name}"
        body = ",\n".join(f"  {k} = {{{v}}}" if not v.startswith("{") else f"  {k} = {v}" for k, v in fields.items())
        entries.append(f"@misc{{{_key(c)},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def to_markdown(answer: Answer) -> str:
    """The answer and its numbered references as Markdown."""
    lines = [f"**Q:** {answer.question}", "", answer.text, ""]
    if answer.citations:
        lines.append("**References**")
        lines.append("")
        for c in answer.citations:
            p = c.paper
            year = f" ({p.year})" if p.year else ""
            link = f" <{p.url}>" if p.url else ""
            lines.append(f"{c.number}. {p.title}{year}. {Path(p.source).name}{link}")
            if c.quote:
                lines.append(f"   > {c.quote}")
    return "\n".join(lines) + "\n"
