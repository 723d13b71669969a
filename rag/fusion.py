"""Fusion and diversification as pure functions over score dicts and arrays (no index, no model).

`Retriever` gathers candidates and applies filters; everything here only ranks what it is given:
convex fusion of exact scores (the tuned default), weighted reciprocal rank fusion, one best
chunk per paper, and maximal marginal relevance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

Mode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["convex", "rrf"]
Ranked = list[tuple[str, str, float]]
"""(paper id, its best chunk id, the paper's score), best first."""


def paper_of(chunk_id: str) -> str:
    """The paper id of a chunk id (`<paper id>:<n>`)."""
    return chunk_id.rsplit(":", 1)[0]


def rrf(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60) -> dict[str, float]:
    """Weighted reciprocal rank fusion of several best-first id lists."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


def convex(cosine: float, bm25: float, top_bm25: float, dense_weight: float) -> float:
    """The tuned fusion: w * cosine + (1 - w) * BM25 / the best BM25 score among the candidates."""
    return dense_weight * cosine + (1 - dense_weight) * bm25 / (top_bm25 or 1.0)


def fuse(
    dense: Mapping[str, float],
    bm25: Mapping[str, float],
    mode: Mode = "hybrid",
    fusion: Fusion = "convex",
    dense_weight: float = 0.7,
    rrf_k: int = 60,
) -> dict[str, float]:
    """Chunk scores for `mode`: one retriever's scores as they are, or both fused."""
    if mode == "dense":
        return dict(dense)
    if mode == "bm25":
        return dict(bm25)
    if fusion == "rrf":
        order = [sorted(d, key=d.__getitem__, reverse=True) for d in (dense, bm25)]
        return rrf(order, [dense_weight, 1 - dense_weight], rrf_k)
    top = max(bm25.values(), default=0.0)
    return {cid: convex(dense.get(cid, 0.0), bm25.get(cid, 0.0), top, dense_weight) for cid in dense.keys() | bm25}


def best_per_paper(
    chunk_scores: Mapping[str, float],
    dense: Mapping[str, float],
    bm25: Mapping[str, float],
    *,
    paper_level_convex: bool = False,
    dense_weight: float = 0.7,
) -> Ranked:
    """One entry per paper, best first: its best-scoring chunk and that chunk's score.

    With `paper_level_convex` (hybrid mode, convex fusion, as tuned) a paper's score instead fuses
    its best cosine and its best BM25 score over all its chunks; its passage stays its best fused chunk.
    """
    best: dict[str, tuple[str, float]] = {}
    for cid, score in sorted(chunk_scores.items(), key=lambda kv: -kv[1]):
        best.setdefault(paper_of(cid), (cid, score))
    if paper_level_convex:
        top = max(bm25.values(), default=0.0)
        dmax: dict[str, float] = {}
        bmax: dict[str, float] = {}
        for cid, s in dense.items():
            pid = paper_of(cid)
            dmax[pid] = max(dmax.get(pid, -1.0), s)
        for cid, s in bm25.items():
            pid = paper_of(cid)
            bmax[pid] = max(bmax.get(pid, 0.0), s)
        best = {
            pid: (cid, convex(dmax.get(pid, 0.0), bmax.get(pid, 0.0), top, dense_weight))
            for pid, (cid, _) in best.items()
        }
    return sorted(((pid, cid, s) for pid, (cid, s) in best.items()), key=lambda t: -t[2])


def mmr(relevance: Sequence[float] | np.ndarray, vectors: np.ndarray, k: int, lam: float = 0.7) -> list[int]:
    """Maximal marginal relevance: indices of `k` items, each maximising
    `lam * relevance - (1 - lam) * (max similarity to the items already chosen)`.

    `relevance` is min-max normalised first, so `lam` weighs comparable ranges; `vectors` are unit
    rows (cosine = dot product). The most relevant item always comes first; `lam=1` keeps the order
    of relevance.
    """
    rel = np.asarray(relevance, dtype=np.float64)
    n = len(rel)
    if n == 0 or k <= 0:
        return []
    rel = (rel - rel.min()) / (np.ptp(rel) or 1.0)
    sim = np.asarray(vectors, dtype=np.float64) @ np.asarray(vectors, dtype=np.float64).T
    chosen = [int(np.argmax(rel))]
    closest = sim[chosen[0]].copy()  # each item's highest similarity to any chosen item
    available = np.ones(n, dtype=bool)
    available[chosen[0]] = False
    while len(chosen) < min(k, n):
        gains = np.where(available, lam * rel - (1 - lam) * closest, -np.inf)
        pick = int(np.argmax(gains))
        chosen.append(pick)
        available[pick] = False
        closest = np.maximum(closest, sim[pick])
    return chosen


def diversify(ranked: Ranked, vectors: Mapping[str, np.ndarray], k: int, lam: float = 0.7, pool: int = 0) -> Ranked:
    """MMR over the best `pool` entries of a paper ranking (default max(4k, 20)), using their chunks' vectors;
    the ranking as it was when a vector is missing."""
    top = ranked[: pool or max(k * 4, 20)]
    if not top or any(cid not in vectors for _, cid, _ in top):
        return ranked
    order = mmr([s for _, _, s in top], np.stack([vectors[cid] for _, cid, _ in top]), k, lam)
    return [top[i] for i in order]
