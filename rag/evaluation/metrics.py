"""Metric functions: pure, unit-tested against hand-computed values.

Retrieval metrics are per paper (a ranked list of paper ids), not per chunk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, float] | set[str], k: int) -> float:
    """Share of the relevant items found in the top `k` (0 when nothing is relevant)."""
    gold = {g for g in relevant if not isinstance(relevant, Mapping) or relevant[g] > 0}
    if not gold:
        return 0.0
    return len(gold & set(ranked[:k])) / len(gold)


def mrr_at_k(ranked: Sequence[str], relevant: Mapping[str, float] | set[str], k: int = 10) -> float:
    """Reciprocal rank of the first relevant item within the top `k`, else 0."""
    gold = {g for g in relevant if not isinstance(relevant, Mapping) or relevant[g] > 0}
    for rank, item in enumerate(ranked[:k], start=1):
        if item in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, float] | set[str], k: int = 10) -> float:
    """nDCG@k with graded relevance and linear gain (as trec_eval); unjudged items count 0."""
    grades = dict(relevance) if isinstance(relevance, Mapping) else dict.fromkeys(relevance, 1.0)
    dcg = sum(grades.get(item, 0.0) / math.log2(rank + 1) for rank, item in enumerate(ranked[:k], start=1))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0 for no values."""
    return sum(values) / len(values) if values else 0.0
