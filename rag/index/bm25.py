"""A bm25s index over chunk texts, persisted beside Chroma and rebuilt after each ingest."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class BM25Index:
    """Sparse lexical index: tokenize (English stopwords, Snowball stemming), index, retrieve, save."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self._retriever = None
        self._stem = _stemmer()

    def _tokenize(self, texts: Sequence[str]):
        import bm25s

        return bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stem, show_progress=False)

    def build(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Index `texts` (one per id), replacing whatever was indexed."""
        import bm25s

        self.ids = list(ids)
        if not self.ids:
            self._retriever = None
            return
        retriever = bm25s.BM25(k1=self.k1, b=self.b)
        retriever.index(self._tokenize(texts), show_progress=False)
        self._retriever = retriever

    def search(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The `n` best chunks as (chunk id, BM25 score), best first; `allowed` masks documents."""
        if self._retriever is None or not query.strip():
            return []
        tokens = self._tokenize([query])
        if not tokens.vocab:
            return []
        scores = self._retriever.get_scores(self._query_tokens(tokens))
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

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
        import bm25s

        index = cls()
        ids_file = folder / "ids.json"
        if ids_file.exists():
            index.ids = json.loads(ids_file.read_text())
            if (folder / "index").exists():
                index._retriever = bm25s.BM25.load(str(folder / "index"))
                index.k1, index.b = index._retriever.k1, index._retriever.b
        return index
