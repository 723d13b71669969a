"""Papers -> chunks: llama-index's SentenceSplitter with tiktoken counts, title in the embedded text."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from rag.tokens import encoding
from rag.types import Chunk, Paper

if TYPE_CHECKING:
    from llama_index.core.node_parser import SentenceSplitter


class Chunker:
    """Splits abstracts into token-bounded passages; most abstracts stay one chunk."""

    def __init__(self, chunk_size: int = 512, chunk_overlap: int = 32, embed_title: bool = True) -> None:
        self.chunk_size = chunk_size
        self.chunk_overlap = min(chunk_overlap, chunk_size // 4)
        self.embed_title = embed_title

    @cached_property
    def _splitter(self) -> SentenceSplitter:
        from llama_index.core.node_parser import SentenceSplitter  # seconds of imports: only when splitting

        enc = encoding()
        return SentenceSplitter(
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            tokenizer=lambda text: enc.encode(text, disallowed_special=()),
        )

    @property
    def max_header_tokens(self) -> int:
        """The most tokens of title a chunk carries (a quarter of the chunk), so a title never crowds out the text."""
        return self.chunk_size // 4

    def header(self, paper: Paper) -> str:
        """What is prepended to every chunk's embedded text: the title (unless made up), cut to `max_header_tokens`.

        The paper keeps its full title; only what is embedded with each chunk is cut.
        """
        if not self.embed_title or paper.title_derived:
            return ""
        enc = encoding()
        tokens = enc.encode(paper.title, disallowed_special=())
        if len(tokens) <= self.max_header_tokens:
            return paper.title
        return enc.decode(tokens[: self.max_header_tokens]).rstrip() + "…"

    def chunk(self, paper: Paper) -> list[Chunk]:
        """The chunks of one paper, ids `<paper id>:<n>`."""
        header = self.header(paper)
        enc = encoding()
        used = len(enc.encode(header, disallowed_special=())) + 8 if header else 0
        if used + len(enc.encode(paper.abstract, disallowed_special=())) <= self.chunk_size:
            texts = [paper.abstract]  # fits whole (most abstracts): no need to split
        elif header:
            texts = self._splitter.split_text_metadata_aware(paper.abstract, metadata_str=header)
        else:
            texts = self._splitter.split_text(paper.abstract)
        return [
            Chunk(
                id=f"{paper.id}:{i}",
                paper_id=paper.id,
                position=i,
                text=text,
                embed_text=f"{header}\n{text}" if header else text,
            )
            for i, text in enumerate(texts or [paper.abstract])
        ]
