"""Tune hybrid fusion on a BEIR set's train split; report the chosen settings on test.

    python eval/tune_fusion.py --data-dir eval/.cache/scifact-c512 --beir ../shared/benchmarks/scifact

Scores every paper exactly for each query (dense cosine, BM25 variants) once, then tries fusion
functions offline: plain RRF, weighted RRF, and convex combinations of normalised scores.
Prints a table of nDCG@10 on train and test for each; the product's defaults come from here.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from rag import Assistant, Settings
from rag.evaluation.datasets import load_beir
from rag.evaluation.metrics import mean, ndcg_at_k, recall_at_k
from rag.index.bm25 import BM25Index
from rag.retrieval import keyword_query


def per_paper(scores: np.ndarray, chunk_paper: np.ndarray, n_papers: int) -> np.ndarray:
    out = np.full(n_papers, -np.inf, dtype=np.float32)
    np.maximum.at(out, chunk_paper, scores)
    return out


def evaluate(rank_fn, queries: dict[str, int], qrels, pids) -> tuple[float, float]:
    nd, rc = [], []
    for qid, qi in queries.items():
        order = rank_fn(qi)
        ranked = [pids[i] for i in order[:100]]
        nd.append(ndcg_at_k(ranked, qrels[qid], 10))
        rc.append(recall_at_k(ranked, qrels[qid], 100))
    return mean(nd), mean(rc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--beir", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    assistant = Assistant(Settings(data_dir=args.data_dir))
    chunks = list(assistant.manifest.iter_chunks())
    papers = {p.id: p for p in assistant.manifest.iter_papers()}
    pids = list(papers)
    pindex = {p: i for i, p in enumerate(pids)}
    chunk_paper = np.array([pindex[c.paper_id] for c in chunks])
    got = assistant.store.collection.get(ids=[c.id for c in chunks], include=["embeddings"])
    vec_by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
    emb = np.array([vec_by_id[c.id] for c in chunks], dtype=np.float32)

    splits = {s: load_beir(args.beir, s) for s in ("train", "test")}
    all_q = {f"{s}:{q}": t for s, b in splits.items() for q, t in b.queries.items()}
    qkeys = list(all_q)
    qvec = assistant.embedder.embed([all_q[k] for k in qkeys])
    dense = np.stack([per_paper(emb @ v, chunk_paper, len(pids)) for v in qvec])

    def bm25_scores(texts: list[str], k1: float, b: float, strip: bool) -> np.ndarray:
        index = BM25Index(k1=k1, b=b)
        index.build([c.id for c in chunks], texts)
        rows = []
        for k in qkeys:
            q = keyword_query(all_q[k]) if strip else all_q[k]
            rows.append(per_paper(index.scores(q), chunk_paper, len(pids)))
        return np.stack(rows)

    base_texts = [c.embed_text for c in chunks]
    title2 = [(papers[c.paper_id].title + "\n") * 1 + c.embed_text for c in chunks]  # title counted twice
    bm25_variants = {
        "k1=1.2,b=0.75": bm25_scores(base_texts, 1.2, 0.75, True),
        "k1=0.9,b=0.4": bm25_scores(base_texts, 0.9, 0.4, True),
        "k1=0.9,b=0.4,no-strip": bm25_scores(base_texts, 0.9, 0.4, False),
        "k1=0.9,b=0.4,title x2": bm25_scores(title2, 0.9, 0.4, True),
        "k1=1.2,b=0.75,title x2": bm25_scores(title2, 1.2, 0.75, True),
    }
    qpos = {k: i for i, k in enumerate(qkeys)}
    sets = {s: {q: qpos[f"{s}:{q}"] for q in b.queries} for s, b in splits.items()}
    rows = []

    def record(name: str, fn) -> None:
        tr = evaluate(fn, sets["train"], splits["train"].qrels, pids)
        te = evaluate(fn, sets["test"], splits["test"].qrels, pids)
        rows.append({"name": name, "train_ndcg10": tr[0], "test_ndcg10": te[0], "test_recall100": te[1]})
        print(f"{name:55s} train {tr[0]:.4f}  test {te[0]:.4f}  R@100 {te[1]:.4f}", flush=True)

    record("dense", lambda i: np.argsort(-dense[i], kind="stable"))
    for name, bm in bm25_variants.items():
        record(f"bm25 {name}", lambda i, bm=bm: np.argsort(-bm[i], kind="stable"))

    def rrf_rank(i: int, bm: np.ndarray, k: int, w: float, depth: int = 100) -> np.ndarray:
        d_order = np.argsort(-dense[i])[:depth]
        b_order = np.argsort(-bm[i])[:depth]
        fused = np.zeros(len(pids))
        fused[d_order] += w / (k + np.arange(1, depth + 1))
        fused[b_order] += (1 - w) / (k + np.arange(1, depth + 1))
        return np.argsort(-fused, kind="stable")

    def convex_rank(i: int, bm: np.ndarray, w: float, norm: str, depth: int = 100) -> np.ndarray:
        d, b = dense[i], bm[i]
        cand = np.union1d(np.argsort(-d)[:depth], np.argsort(-b)[:depth])
        dc, bc = d[cand], b[cand]
        if norm == "minmax":
            dn = (dc - dc.min()) / (dc.max() - dc.min() + 1e-9)
            bn = (bc - bc.min()) / (bc.max() - bc.min() + 1e-9)
        elif norm == "zscore":
            dn = (dc - dc.mean()) / (dc.std() + 1e-9)
            bn = (bc - bc.mean()) / (bc.std() + 1e-9)
        else:  # "max": cosine as is, BM25 divided by its best score
            dn = dc
            bn = bc / (bc.max() + 1e-9)
        fused = np.full(len(pids), -np.inf)
        fused[cand] = w * dn + (1 - w) * bn
        return np.argsort(-fused, kind="stable")

    bm_default = bm25_variants["k1=1.2,b=0.75"]
    record("rrf k=60 w=0.5 (plain), bm25 default", lambda i: rrf_rank(i, bm_default, 60, 0.5))
    for name, bm in bm25_variants.items():
        for k, w in itertools.product((10, 30, 60), (0.4, 0.5, 0.6)):
            record(f"rrf k={k} w={w} bm25 {name}", lambda i, bm=bm, k=k, w=w: rrf_rank(i, bm, k, w))
        for norm, w in itertools.product(("minmax", "zscore", "max"), (0.3, 0.4, 0.5, 0.6, 0.7)):
            record(f"convex {norm} w={w} bm25 {name}", lambda i, bm=bm, n=norm, w=w: convex_rank(i, bm, w, n))

    best = max(rows, key=lambda r: r["train_ndcg10"])
    print("\nbest on train:", json.dumps(best))
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "best_on_train": best}, indent=2) + "\n")


if __name__ == "__main__":
    main()
