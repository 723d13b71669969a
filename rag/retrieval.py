"""Dense + BM25 retrieval, fused, filtered, one hit per paper."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from rag.index.bm25 import BM25Index
from rag.index.embedders import Embedder
from rag.index.manifest import Manifest
from rag.index.store import VectorStore
from rag.types import Hit

log = logging.getLogger(__name__)
Mode = Literal["hybrid", "dense", "bm25"]

_POLITENESS = re.compile(
    r"\b(?:(?:can|could|would|will) you(?: please)?|please|tell me|show me|find me|help me find|"
    r"i(?:'m| am) looking for|i want to know|i would like to know|do you know|is there|are there|"
    r"what(?:'s| is) the (?:name of the )?paper|which (?:papers?|work|study|article)s?|"
    r"any (?:papers?|work)|papers? (?:that|which)|in the (?:indexed )?(?:papers|abstracts|corpus))\b",
    re.I,
)


def keyword_query(question: str) -> str:
    """The question without the chat politeness around it, for the lexical side."""
    stripped = _POLITENESS.sub(" ", question)
    return " ".join(stripped.split()) or question


def rrf(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60) -> dict[str, float]:
    """Weighted reciprocal rank fusion of several best-first id lists."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


class Retriever:
    """Finds the papers most relevant to a query."""

    def __init__(
        self,
        manifest: Manifest,
        store: VectorStore,
        bm25: Callable[[], BM25Index],
        embedder: Callable[[], Embedder],
        *,
        depth: int = 50,
        dense_weight: float = 1.0,
        bm25_weight: float = 1.0,
        rrf_k: int = 60,
    ) -> None:
        self.manifest = manifest
        self.store = store
        self._bm25 = bm25
        self._embedder = embedder
        self.depth = depth
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.rrf_k = rrf_k

    def _allowed_papers(self, year: tuple[int, int] | None, sources: Sequence[str] | None) -> set[str] | None:
        if year is None and not sources:
            return None
        sql, args = "SELECT id FROM papers WHERE 1=1", []
        if year is not None:
            sql += " AND year BETWEEN ? AND ?"
            args += [year[0], year[1]]
        if sources:
            wanted = [
                s for s in self.manifest.sources() if any(s == w or s.endswith("/" + w.lstrip("/")) for w in sources)
            ]
            marks = ",".join("?" * len(wanted)) or "NULL"
            sql += f" AND id IN (SELECT paper_id FROM links WHERE source IN ({marks}))"
            args += wanted
        return {r[0] for r in self.manifest.db.execute(sql, args)}

    def dense(self, query: str, n: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        """Nearest chunks by embedding."""
        where = {"paper_id": {"$in": sorted(allowed)}} if allowed is not None else None
        if allowed is not None and not allowed:
            return []
        return self.store.query(self._embedder().embed_query(query), n, where)

    def lexical(self, query: str, n: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        """Best chunks by BM25 over the keyword form of the query."""
        index = self._bm25()
        mask = None
        if allowed is not None:
            mask = np.fromiter((cid.rsplit(":", 1)[0] in allowed for cid in index.ids), bool, len(index.ids))
        return index.search(keyword_query(query), n, mask)

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        mode: Mode = "hybrid",
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The `k` best papers for `query`, each with its best passage."""
        allowed = self._allowed_papers(year, sources)
        depth = max(self.depth, k * 3)
        dense = self.dense(query, depth, allowed) if mode in ("hybrid", "dense") else []
        lexical = self.lexical(query, depth, allowed) if mode in ("hybrid", "bm25") else []
        if mode == "hybrid":
            fused = rrf(
                [[c for c, _ in dense], [c for c, _ in lexical]],
                [self.dense_weight, self.bm25_weight],
                self.rrf_k,
            )
        else:
            fused = dict(dense or lexical)
        per_retriever = {"dense": dict(dense), "bm25": dict(lexical)}
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        return self._collapse(ranked, k, per_retriever)

    def _collapse(
        self, ranked: list[tuple[str, float]], k: int, per_retriever: dict[str, dict[str, float]]
    ) -> list[Hit]:
        best: dict[str, tuple[str, float]] = {}
        for cid, score in ranked:
            pid = cid.rsplit(":", 1)[0]
            if pid not in best:
                best[pid] = (cid, score)
                if len(best) == k:
                    break
        chunks = self.manifest.chunks(cid for cid, _ in best.values())
        papers = self.manifest.get_many(best)
        hits = []
        for pid, (cid, score) in best.items():
            if pid not in papers or cid not in chunks:
                continue
            scores = {name: s[cid] for name, s in per_retriever.items() if cid in s}
            hits.append(
                Hit(
                    paper=papers[pid],
                    score=score,
                    passage=chunks[cid].text,
                    chunk_id=cid,
                    scores=scores,
                )
            )
        return hits
