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

from rag.fusion import Mode, best_per_paper, diversify, fuse, paper_of, rrf
from rag.index.bm25 import BM25Index
from rag.index.embedders import Embedder
from rag.index.manifest import Manifest
from rag.index.store import VectorStore
from rag.normalise import nearest
from rag.types import Hit
from rag.words import common_list, is_common

log = logging.getLogger(__name__)
OVERFETCH_MIN_SHARE = 0.05
"""Filters keeping at least this share of the chunks are applied after an over-fetched unfiltered query."""
__all__ = ["Mode", "RetrievalConfig", "Retriever", "keyword_query", "paper_of", "rrf"]

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


_LOWER_WORD = re.compile(r"\b[a-z]{5,}\b")


def spelled(query: str, index: BM25Index) -> str:
    """The query with each lower-case word that no indexed chunk holds, and that one edit makes an ordinary English
    word some chunk does hold, written as that word ("end to end memory netwoks" -> "... networks"): both
    retrievers then match what the user meant. Names and words the index holds are left as written."""
    if not len(index.ids):
        return query

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if is_common(word):
            return word
        terms = index.query_terms(word)
        if not terms or all(index.has_term(t) for t in terms):
            return word
        found = nearest(word, common_list(), 1)
        if found is None or not all(index.has_term(t) for t in index.query_terms(found)):
            return word
        return found

    return _LOWER_WORD.sub(fix, query)


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

    def source_paths(self, sources: Sequence[str] | None) -> list[str] | None:
        """The indexed source files that the given paths or file names name (None = no source filter)."""
        if not sources:
            return None
        return [
            s
            for s in self.manifest.known_sources()
            if any(s == w or s.endswith("/" + w.lstrip("/")) or s.rsplit("/", 1)[-1] == w for w in sources)
        ]

    # --- the two retrievers --------------------------------------------------------------
    def _dense(
        self, qvec: np.ndarray, n: int, year: tuple[int, int] | None, paths: list[str] | None
    ) -> dict[str, float]:
        """The `n` nearest chunks passing the filters.

        A filter that keeps a fair share of the index is applied to an over-fetched unfiltered HNSW query with
        the vectorised masks kept beside BM25 (Chroma's own filtered search walks every allowed id, which is slow
        when most ids are allowed); a narrow filter goes to Chroma as metadata (the year, one `s<n>` key per
        source file), never as a list of ids.
        """
        if year is None and paths is None:
            return dict(self.store.query(qvec, n))
        index = self._bm25()
        mask = index.mask(year, paths)
        if mask is not None and len(index.ids):
            allowed = int(mask.sum())
            if allowed == 0:
                return {}
            share = allowed / len(mask)
            if share >= OVERFETCH_MIN_SHARE:
                found = self.store.query(qvec, min(len(mask), int(n / share * 1.3) + 20))
                kept = [(cid, s) for cid, s in found if (i := index.position_of(cid)) is not None and mask[i]]
                if len(kept) >= min(n, allowed):
                    return dict(kept[:n])
        clauses: list[dict[str, Any]] = []
        if year is not None:
            clauses += [{"year": {"$gte": min(year)}}, {"year": {"$lte": max(year)}}]
        if paths is not None:
            keys = [{f"s{sid}": True} for sid in self.manifest.source_ids(paths).values()]
            if not keys:
                return {}
            clauses.append(keys[0] if len(keys) == 1 else {"$or": keys})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return dict(self.store.query(qvec, n, where))

    @staticmethod
    def _bm25_scores(index: BM25Index, query: str, year: tuple[int, int] | None, paths: list[str] | None) -> np.ndarray:
        scores = index.scores(keyword_query(query))
        mask = index.mask(year, paths)
        if mask is not None and len(scores):
            scores = np.where(mask, scores, 0.0)
        return scores

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
        paths = self.source_paths(sources)
        if paths == []:
            return []
        depth = max(cfg.depth, k * 3)
        index = self._bm25()  # one generation for the whole search
        query = spelled(query, index)
        qvec = self._embedder().embed_query(query) if mode != "bm25" else None

        dense: dict[str, float] = self._dense(qvec, depth, year, paths) if qvec is not None else {}
        bm25: dict[str, float] = {}
        if mode != "dense":
            scores = self._bm25_scores(index, query, year, paths)
            if mode == "hybrid":
                top = np.argsort(-scores)[:depth]
                candidates = {paper_of(dense_id) for dense_id in dense} | {
                    paper_of(index.ids[i]) for i in top if scores[i] > 0
                }
                for pid in candidates:
                    for i in index.positions(pid):
                        bm25[index.ids[i]] = float(scores[i])
                missing = [cid for cid in bm25 if cid not in dense]
                if qvec is not None:
                    dense.update(self._cosines(qvec, missing))
            else:
                bm25 = {index.ids[i]: float(scores[i]) for i in np.argsort(-scores)[:depth] if scores[i] > 0}

        chunk_scores = fuse(dense, bm25, mode, cfg.fusion, cfg.dense_weight, cfg.rrf_k)
        best = best_per_paper(
            chunk_scores,
            dense,
            bm25,
            paper_level_convex=mode == "hybrid" and cfg.fusion == "convex",
            dense_weight=cfg.dense_weight,
        )
        if mmr:
            pool = best[: max(k * 4, 20)]
            best = diversify(best, self.store.vectors([cid for _, cid, _ in pool]), k, cfg.mmr_lambda, len(pool))
        return self._hits(best[:k], {"dense": dense, "bm25": bm25})

    def _cosines(self, qvec: np.ndarray, chunk_ids: list[str]) -> dict[str, float]:
        if not chunk_ids:
            return {}
        vectors = self.store.vectors(chunk_ids)
        return {cid: float(np.dot(v, qvec)) for cid, v in vectors.items()}

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
