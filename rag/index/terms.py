"""Index-wide word counts for the sufficiency check: how many indexed chunks hold a word, whether the index holds a
word one edit away or starting with a prefix, and the acronyms the indexed abstracts define, all read from the
persisted BM25 index (reloaded when another process commits a new generation)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from rag.acronyms import AcronymMap

if TYPE_CHECKING:
    from rag.index.bm25 import BM25Index

MAX_COUNTS = 4096
"""Words and names whose chunk counts `CorpusTerms` remembers (least recently used dropped first)."""


class CorpusTerms:
    """How many indexed chunks contain a word, read from the persisted BM25 index (reloaded when it changes)."""

    def __init__(self, bm25_dir: Path) -> None:
        self.bm25_dir = bm25_dir
        self._index: BM25Index | None = None
        self._stamp: str | None = None
        self._counts: dict[str, int] = {}  # in order of use, at most MAX_COUNTS
        self._counts_mu = threading.Lock()
        self._acronyms = AcronymMap()

    def _load(self):
        from rag.index.bm25 import BM25Index

        ids = self.bm25_dir / "ids.json"  # an index saved before generations existed
        stamp = BM25Index.current_generation(self.bm25_dir) or (str(ids.stat().st_mtime) if ids.exists() else "")
        if stamp != self._stamp:
            self._index = BM25Index.load(self.bm25_dir) if stamp else None
            acronyms = AcronymMap.from_json(self._index.acronyms) if self._index is not None else AcronymMap()
            self._stamp, self._counts, self._acronyms = stamp, {}, acronyms
        return self._index

    @property
    def acronyms(self) -> AcronymMap:
        """The acronyms and long forms the indexed abstracts define (saved with the BM25 index)."""
        self._load()
        return self._acronyms

    def has_prefix(self, prefix: str) -> bool:
        """Whether an indexed term starts with `prefix` (an abbreviation of a word the index holds: "params")."""
        index = self._load()
        return index is not None and index.has_prefix(prefix)

    def has_typo_of(self, word: str) -> bool:
        """Whether one edit makes `word` a word the index holds (`BM25Index.has_typo_of`)."""
        index = self._load()
        return index is not None and index.has_typo_of(word)

    @property
    def size(self) -> int:
        """Number of indexed chunks (0 when there is no index)."""
        index = self._load()
        return len(index.ids) if index is not None else 0

    def count(self, text: str) -> int | None:
        """Chunks matching `text` (any of its words); None when no index is available."""
        index = self._load()
        if index is None or not index.ids:
            return None
        counts = self._counts
        with self._counts_mu:
            count = counts.pop(text, None)
        if count is None:
            count = int((index.scores(text) > 0).sum())
        with self._counts_mu:  # the words come from questions: keep the most recently used ones only
            counts[text] = count
            while len(counts) > MAX_COUNTS:
                del counts[next(iter(counts))]
        return count
