"""Numbered sources [1]..[k], each fenced in the prompt, packed into the model's token budget.

Paper text is data, never instructions. Each source sits between an opening and a closing tag that
carry a nonce drawn afresh for every request, so an abstract cannot close its own fence or open a
new source: it cannot know the nonce, and tag-like text (`<source`, `</sources>`, `<|im_start|>`) and
citation markers (`[3]`) inside a title or abstract are neutralised before they reach the prompt.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from rag.tokens import count_tokens, encoding
from rag.types import Hit

NONCE_CHARS = 16
"""Hex digits of a fence nonce (64 random bits)."""

_TAG_OPEN = re.compile(r"<(?=\s*/?\s*[A-Za-z!?|])")  # "<tag", "</tag", "<!--", "<|special|>"; not "x < 5"
_CITATION_LIKE = re.compile(r"\[(\s*(?:sources?\s*)?\d+(?:\s*(?:[,;]|[-–]|and)\s*\d+)*\s*)\]", re.I)


def new_nonce() -> str:
    """A fresh random fence nonce."""
    return secrets.token_hex(NONCE_CHARS // 2)


def neutralise(text: str, nonce: str = "") -> str:
    """Paper text made unable to forge prompt structure.

    Tag openers become `‹` (so no `</source ...>` or chat-template token can appear), `[n]` markers
    become `(n)` (only the fence ids look like source numbers), and the nonce, should the text
    contain it, is dropped.
    """
    text = _TAG_OPEN.sub("‹", text)
    text = _CITATION_LIKE.sub(r"(\1)", text)
    return text.replace(nonce, "") if nonce else text


def open_tag(number: int, nonce: str) -> str:
    """The line that opens source `number`'s fence."""
    return f'<source id="{number}" nonce="{nonce}">'


def close_tag(nonce: str) -> str:
    """The line that closes a source's fence."""
    return f'</source nonce="{nonce}">'


@dataclass(frozen=True)
class Source:
    """One numbered source as the model sees it."""

    number: int
    hit: Hit
    text: str

    def render(self, nonce: str) -> str:
        """The fenced source block put in the prompt: a `[n] Title (year)` header line, then the passage."""
        paper = self.hit.paper
        year = f" ({paper.year})" if paper.year else ""
        title = " ".join(paper.title.split()) if not paper.title_derived else "untitled abstract"
        header = f"[{self.number}] {neutralise(title, nonce)}{year}"
        return f"{open_tag(self.number, nonce)}\n{header}\n{neutralise(self.text, nonce)}\n{close_tag(nonce)}"


def _truncate(text: str, max_tokens: int) -> str:
    enc = encoding()
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    return enc.decode(tokens[:max_tokens]).rsplit(" ", 1)[0] + " …"


def pack_sources(hits: list[Hit], budget_tokens: int, max_source_tokens: int = 400) -> list[Source]:
    """Number the hits in rank order and fit as many as the budget allows (fences included).

    Each passage is cut to `max_source_tokens`; a source that does not fit whole is cut to the
    space left if at least 60 tokens remain, else packing stops.
    """
    sizing_nonce = "0" * NONCE_CHARS  # fences cost the same whatever the nonce
    sources: list[Source] = []
    left = budget_tokens
    for hit in hits:
        text = _truncate(hit.passage or hit.paper.abstract, max_source_tokens)
        source = Source(len(sources) + 1, hit, text)
        cost = count_tokens(source.render(sizing_nonce)) + 2
        if cost > left:
            if left < 60:
                break
            overhead = cost - count_tokens(text)
            source = Source(source.number, hit, _truncate(text, max(left - overhead - 2, 1)))
            cost = count_tokens(source.render(sizing_nonce)) + 2
            if cost > left:
                break
        sources.append(source)
        left -= cost
        if left <= 0:
            break
    return sources


def render_sources(sources: list[Source], nonce: str | None = None) -> str:
    """All sources as one prompt block, fenced with `nonce` (default: a fresh one)."""
    nonce = nonce or new_nonce()
    return "\n\n".join(s.render(nonce) for s in sources)
