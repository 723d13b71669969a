"""Dense + BM25 retrieval, fused, filtered, one hit per paper.

Fusion (the default, tuned on SciFact train, see README): every candidate paper from either
retriever gets *both* scores exactly (BM25 scores every chunk; missing cosines are computed
from the stored vectors), then `w * cosine + (1 - w) * bm25 / max_bm25`. Weighted reciprocal
rank fusion is available as `fusion="rrf"`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
    r"what(?:'s| is) the (?:name of the )?paper|which (?:papers?|works?|stud(?:y|ies)|articles?)|"
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


def paper_of(chunk_id: str) -> str:
    """The paper id of a chunk id (`<paper id>:<n>`)."""
    return chunk_id.rsplit(":", 1)[0]


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion knobs (defaults from the SciFact train split)."""

    fusion: Literal["convex", "rrf"] = "convex"
    dense_weight: float = 0.7
    depth: int = 100
    rrf_k: int = 60
    mmr_lambda: float = 0.7


class Retriever:
    """Finds the papers most relevant to a query."""

    def __init__(
        self,
        manifest: Manifest,
        store: VectorStore,
        bm25: Callable[[], BM25Index],
        embedder: Callable[[], Embedder],
        config: RetrievalConfig | None = None,
    ) -> None:
        self.manifest = manifest
        self.store = store
        self._bm25 = bm25
        self._embedder = embedder
        self.config = config or RetrievalConfig()

    def allowed_papers(self, year: tuple[int, int] | None, sources: Sequence[str] | None) -> set[str] | None:
        """Ids of the papers passing the filters (None = no filter)."""
        if year is None and not sources:
            return None
        sql, args = "SELECT id FROM papers WHERE 1=1", []
        if year is not None:
            sql += " AND year BETWEEN ? AND ?"
            args += [min(year), max(year)]
        if sources:
            wanted = [
                s
                for s in self.manifest.sources()
                if any(s == w or s.endswith("/" + w.lstrip("/")) or s.rsplit("/", 1)[-1] == w for w in sources)
            ]
            marks = ",".join("?" * len(wanted)) or "NULL"
            sql += f" AND id IN (SELECT paper_id FROM links WHERE source IN ({marks}))"
            args += wanted
        return {r[0] for r in self.manifest.db.execute(sql, args)}

    # --- the two retrievers --------------------------------------------------------------
    def _dense(
        self, qvec: np.ndarray, n: int, allowed: set[str] | None, year: tuple[int, int] | None, by_source: bool
    ) -> dict[str, float]:
        if allowed is not None and not allowed:
            return {}
        # a year range filters on Chroma's own metadata; only a source filter needs the list of paper ids
        clauses: list[dict[str, Any]] = []
        if year is not None:
            clauses += [{"year": {"$gte": min(year)}}, {"year": {"$lte": max(year)}}]
        if by_source and allowed is not None:
            clauses.append({"paper_id": {"$in": sorted(allowed)}})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return dict(self.store.query(qvec, n, where))

    def _bm25_scores(self, query: str, allowed: set[str] | None) -> tuple[BM25Index, np.ndarray]:
        index = self._bm25()
        scores = index.scores(keyword_query(query))
        if allowed is not None and len(scores):
            scores = np.where(index.mask(allowed), scores, 0.0)
        return index, scores

    # --- search --------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 10,
        *,
        mode: Mode = "hybrid",
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
        mmr: bool = False,
    ) -> list[Hit]:
        """The `k` best papers for `query`, each with its best passage."""
        cfg = self.config
        allowed = self.allowed_papers(year, sources)
        depth = max(cfg.depth, k * 3)
        qvec = self._embedder().embed_query(query) if mode != "bm25" or mmr else None

        dense: dict[str, float] = self._dense(qvec, depth, allowed, year, bool(sources)) if mode != "bm25" else {}
        bm25: dict[str, float] = {}
        if mode != "dense":
            index, scores = self._bm25_scores(query, allowed)
            if mode == "hybrid":
                top = np.argsort(-scores)[:depth] if len(scores) else []
                candidates = {paper_of(dense_id) for dense_id in dense} | {
                    paper_of(index.ids[i]) for i in top if scores[i] > 0
                }
                for pid in candidates:
                    for i in index.positions(pid):
                        bm25[index.ids[i]] = float(scores[i])
                missing = [cid for cid in bm25 if cid not in dense]
                dense.update(self._cosines(qvec, missing))
            else:
                bm25 = {index.ids[i]: float(scores[i]) for i in np.argsort(-scores)[:depth] if scores[i] > 0}

        chunk_scores = self._fuse(dense, bm25, mode)
        per_retriever = {"dense": dense, "bm25": bm25}
        ranked = sorted(chunk_scores.items(), key=lambda kv: -kv[1])
        best = self._best_per_paper(ranked, dense, bm25, mode)
        if mmr and qvec is not None:
            best = self._mmr(best, k)
        return self._hits(best[:k], per_retriever)

    def _cosines(self, qvec: np.ndarray, chunk_ids: list[str]) -> dict[str, float]:
        if not chunk_ids:
            return {}
        vectors = self.store.vectors(chunk_ids)
        return {cid: float(np.dot(v, qvec)) for cid, v in vectors.items()}

    def _fuse(self, dense: dict[str, float], bm25: dict[str, float], mode: Mode) -> dict[str, float]:
        if mode == "dense":
            return dense
        if mode == "bm25":
            return bm25
        cfg = self.config
        if cfg.fusion == "rrf":
            order = [sorted(d, key=lambda c, d=d: -d[c]) for d in (dense, bm25)]
            return rrf(order, [cfg.dense_weight, 1 - cfg.dense_weight], cfg.rrf_k)
        top = max(bm25.values(), default=0.0) or 1.0
        return {cid: self._convex(dense.get(cid, 0.0), bm25.get(cid, 0.0), top) for cid in dense.keys() | bm25}

    def _convex(self, cosine: float, bm25: float, top_bm25: float) -> float:
        """The tuned fusion: w * cosine + (1 - w) * BM25 / the best BM25 score among the candidates."""
        w = self.config.dense_weight
        return w * cosine + (1 - w) * bm25 / top_bm25

    def _best_per_paper(
        self, ranked: list[tuple[str, float]], dense: dict[str, float], bm25: dict[str, float], mode: Mode
    ) -> list[tuple[str, str, float]]:
        """(paper, best chunk, paper score) best first; in hybrid mode a paper's score fuses its best cosine and
        its best BM25 score (as tuned), its passage is its best fused chunk."""
        best: dict[str, tuple[str, float]] = {}
        for cid, score in ranked:
            best.setdefault(paper_of(cid), (cid, score))
        if mode == "hybrid" and self.config.fusion == "convex":
            top = max(bm25.values(), default=0.0) or 1.0
            dmax: dict[str, float] = {}
            bmax: dict[str, float] = {}
            for cid, s in dense.items():
                pid = paper_of(cid)
                dmax[pid] = max(dmax.get(pid, -1.0), s)
            for cid, s in bm25.items():
                pid = paper_of(cid)
                bmax[pid] = max(bmax.get(pid, 0.0), s)
            best = {
                pid: (cid, self._convex(dmax.get(pid, 0.0), bmax.get(pid, 0.0), top)) for pid, (cid, _) in best.items()
            }
        return sorted(((pid, cid, s) for pid, (cid, s) in best.items()), key=lambda t: -t[2])

    def _mmr(self, ranked: list[tuple[str, str, float]], k: int) -> list[tuple[str, str, float]]:
        """Maximal marginal relevance over the fused candidates (for list-style questions)."""
        pool = ranked[: max(k * 4, 20)]
        vectors = self.store.vectors([cid for _, cid, _ in pool])
        if not pool or len(vectors) < len(pool):
            return ranked
        scores = np.array([s for _, _, s in pool])
        rel = (scores - scores.min()) / (np.ptp(scores) or 1.0)
        mat = np.stack([vectors[cid] for _, cid, _ in pool])
        sim = mat @ mat.T
        lam = self.config.mmr_lambda
        chosen: list[int] = [0]
        while len(chosen) < min(k, len(pool)):
            rest = [i for i in range(len(pool)) if i not in chosen]
            gains = [lam * rel[i] - (1 - lam) * max(sim[i, j] for j in chosen) for i in rest]
            chosen.append(rest[int(np.argmax(gains))])
        return [pool[i] for i in chosen]

    def _hits(self, best: list[tuple[str, str, float]], per_retriever: dict[str, dict[str, float]]) -> list[Hit]:
        chunks = self.manifest.chunks(cid for _, cid, _ in best)
        papers = self.manifest.get_many(pid for pid, _, _ in best)
        hits = []
        for pid, cid, score in best:
            if pid not in papers or cid not in chunks:
                continue
            scores = {name: s[cid] for name, s in per_retriever.items() if cid in s}
            hits.append(Hit(paper=papers[pid], score=score, passage=chunks[cid].text, chunk_id=cid, scores=scores))
        return hits
