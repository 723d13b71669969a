"""Numbered sources [1]..[k], with title and year, packed into the model's token budget."""

from __future__ import annotations

from dataclasses import dataclass

from rag.tokens import count_tokens, encoding
from rag.types import Hit


@dataclass(frozen=True)
class Source:
    """One numbered source as the model sees it."""

    number: int
    hit: Hit
    text: str

    def render(self) -> str:
        """The source block put in the prompt."""
        paper = self.hit.paper
        year = f" ({paper.year})" if paper.year else ""
        title = paper.title if not paper.title_derived else "untitled abstract"
        return f"[{self.number}] {title}{year}\n{self.text}"


def _truncate(text: str, max_tokens: int) -> str:
    enc = encoding()
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    return enc.decode(tokens[:max_tokens]).rsplit(" ", 1)[0] + " …"


def pack_sources(hits: list[Hit], budget_tokens: int, max_source_tokens: int = 400) -> list[Source]:
    """Number the hits in rank order and fit as many as the budget allows.

    Each passage is cut to `max_source_tokens`; a source that does not fit whole is cut to the
    space left if at least 60 tokens remain, else packing stops.
    """
    sources: list[Source] = []
    left = budget_tokens
    for hit in hits:
        text = _truncate(hit.passage or hit.paper.abstract, max_source_tokens)
        source = Source(len(sources) + 1, hit, text)
        cost = count_tokens(source.render()) + 2
        if cost > left:
            if left < 60:
                break
            source = Source(source.number, hit, _truncate(text, left - 30))
            cost = count_tokens(source.render()) + 2
        sources.append(source)
        left -= cost
        if left <= 0:
            break
    return sources


def render_sources(sources: list[Source]) -> str:
    """All sources as one prompt block."""
    return "\n\n".join(s.render() for s in sources)
