"""A bm25s index over chunk texts, persisted beside Chroma and rebuilt after each ingest."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import
    return bm25s


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class BM25Index:
    """Sparse lexical index: tokenize (English stopwords, Snowball stemming), index, retrieve, save."""

    def __init__(self, k1: float = 0.9, b: float = 0.4) -> None:
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self._retriever = None
        self._stem = _stemmer()
        self._positions: dict[str, list[int]] | None = None

    def _tokenize(self, texts: Sequence[str]):
        return _bm25s().tokenize(list(texts), stopwords="en", stemmer=self._stem, show_progress=False)

    def build(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Index `texts` (one per id), replacing whatever was indexed."""
        bm25s = _bm25s()
        self.ids = list(ids)
        self._positions = None
        if not self.ids:
            self._retriever = None
            return
        retriever = bm25s.BM25(k1=self.k1, b=self.b)
        retriever.index(self._tokenize(texts), show_progress=False)
        self._retriever = retriever

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every indexed chunk for `query` (aligned with `ids`)."""
        if self._retriever is None or not query.strip():
            return np.zeros(len(self.ids), dtype=np.float32)
        tokens = self._tokenize([query])
        if not tokens.vocab:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(self._query_tokens(tokens)), dtype=np.float32)

    def positions(self, paper_id: str) -> list[int]:
        """Indices (into `ids`) of one paper's chunks."""
        if self._positions is None:
            self._positions = {}
            for i, cid in enumerate(self.ids):
                self._positions.setdefault(cid.rsplit(":", 1)[0], []).append(i)
        return self._positions.get(paper_id, [])

    def mask(self, paper_ids: set[str]) -> np.ndarray:
        """A boolean mask over `ids` keeping the chunks of these papers."""
        return np.fromiter((cid.rsplit(":", 1)[0] in paper_ids for cid in self.ids), bool, len(self.ids))

    @staticmethod
    def _query_tokens(tokens) -> list[str]:
        inverse = {v: k for k, v in tokens.vocab.items()}
        return [inverse[t] for t in tokens.ids[0]]

    def save(self, folder: Path) -> None:
        """Persist the index and its id list."""
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "ids.json").write_text(json.dumps(self.ids))
        if self._retriever is not None:
            self._retriever.save(str(folder / "index"))

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """Load a persisted index (an empty one when nothing was saved)."""
        bm25s = _bm25s()
        index = cls()
        ids_file = folder / "ids.json"
        if ids_file.exists():
            index.ids = json.loads(ids_file.read_text())
            if (folder / "index").exists():
                index._retriever = bm25s.BM25.load(str(folder / "index"))
                index.k1, index.b = index._retriever.k1, index._retriever.b
        return index
