"""Retrieval evaluation: Recall@k, MRR@10, nDCG@10 per paper, and search latency, per mode."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tqdm.auto import tqdm

from rag.assistant import Assistant
from rag.evaluation.metrics import mean, mrr_at_k, ndcg_at_k, percentile, recall_at_k
from rag.retrieval import Mode

KS = (1, 5, 10, 100)


def evaluate_retrieval(
    assistant: Assistant,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, float]],
    modes: Sequence[Mode] = ("bm25", "dense", "hybrid"),
    ks: Sequence[int] = KS,
    progress: bool = False,
    latency_k: int = 10,
    mmr: Callable[[str], bool] | None = None,
) -> dict[str, dict[str, Any]]:
    """Metrics per mode: recall@k for each k, mrr@10, ndcg@10, and warm search latency p50/p95 (ms)
    of a `latency_k` search (the default page size).

    `mmr(query)` says whether to diversify a query's ranking (as answer retrieval would: pass
    `assistant.wants_mmr`); default never.

    Also returns the per-query ranking under `rankings` for reports.
    """
    depth = max(ks)
    assistant.search("warm up", k=1)  # model load and index load are not search latency
    out: dict[str, dict[str, Any]] = {}
    for mode in modes:
        recalls: dict[int, list[float]] = {k: [] for k in ks}
        mrr, ndcg, latency = [], [], []
        rankings: dict[str, list[str]] = {}
        for qid, text in tqdm(queries.items(), desc=mode, disable=not progress, leave=False):
            diversify = bool(mmr and mmr(text))
            started = time.perf_counter()
            assistant.search(text, k=latency_k, mode=mode, mmr=diversify)
            latency.append((time.perf_counter() - started) * 1000)
            hits = assistant.search(text, k=depth, mode=mode, mmr=diversify)
            ranked = [h.paper.id for h in hits]
            rankings[qid] = ranked
            gold = qrels[qid]
            for k in ks:
                recalls[k].append(recall_at_k(ranked, gold, k))
            mrr.append(mrr_at_k(ranked, gold, 10))
            ndcg.append(ndcg_at_k(ranked, gold, 10))
        out[mode] = {
            **{f"recall@{k}": mean(v) for k, v in recalls.items()},
            "mrr@10": mean(mrr),
            "ndcg@10": mean(ndcg),
            "latency_ms_p50": percentile(latency, 50),
            "latency_ms_p95": percentile(latency, 95),
            "queries": len(queries),
            "rankings": rankings,
        }
    return out
