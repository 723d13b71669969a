"""Papers -> chunks: llama-index's SentenceSplitter with tiktoken counts, title in the embedded text."""

from __future__ import annotations

from functools import cached_property

from llama_index.core.node_parser import SentenceSplitter

from rag.tokens import encoding
from rag.types import Chunk, Paper


class Chunker:
    """Splits abstracts into token-bounded passages; most abstracts stay one chunk."""

    def __init__(self, chunk_size: int = 512, chunk_overlap: int = 32, embed_title: bool = True) -> None:
        self.chunk_size = chunk_size
        self.chunk_overlap = min(chunk_overlap, chunk_size // 4)
        self.embed_title = embed_title

    @cached_property
    def _splitter(self) -> SentenceSplitter:
        enc = encoding()
        return SentenceSplitter(
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            tokenizer=lambda text: enc.encode(text, disallowed_special=()),
        )

    def header(self, paper: Paper) -> str:
        """What is prepended to every chunk's embedded text (the title, unless made up)."""
        return paper.title if self.embed_title and not paper.title_derived else ""

    def chunk(self, paper: Paper) -> list[Chunk]:
        """The chunks of one paper, ids `<paper id>:<n>`."""
        header = self.header(paper)
        if header:
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
