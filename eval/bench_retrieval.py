"""Retrieval benchmark: bm25, dense and hybrid side by side on our QA set and on a BEIR set.

    python eval/bench_retrieval.py [--beir ../shared/benchmarks/scifact] [--out eval/results/retrieval.json]

- QA set (default rag/data/qa/bundled.jsonl) over the bundled corpus: answerable questions, gold
  papers resolved from ids, titles or abstract prefixes.
- BEIR set (test split), indexed once into eval/.cache/<name>-<settings> and reused.
- Warm search latency p50/p95 (k=10, model loaded) and cold start of `rag search` (median of 3).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag import Assistant, Settings
from rag.evaluation.datasets import GoldResolver, load_beir, load_qa
from rag.evaluation.retrieval import evaluate_retrieval

ROOT = Path(__file__).resolve().parents[1]


def cached_index(name: str, paths: list[Path], settings: Settings) -> Assistant:
    """An Assistant over a cache dir keyed by what shapes the index."""
    key = f"{settings.chunk_size}-{settings.chunk_overlap}-{settings.embed_title}-{settings.embed}"
    data = ROOT / "eval" / ".cache" / f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
    assistant = Assistant(settings.model_copy(update={"data_dir": data}))
    report = assistant.ingest(paths, progress=sys.stderr.isatty())
    print(f"{name}: {assistant.stats().papers} papers ({report.papers_added} newly embedded)", file=sys.stderr)
    return assistant


def cold_start(data_dir: Path, runs: int = 3) -> float:
    """Median wall time of a fresh `rag search` process (imports, model load, one search)."""
    times = []
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir)}
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rag.cli", "search", "graph neural networks", "-k", "5", "--json"],
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def table(results: dict[str, dict], title: str) -> str:
    cols = ["recall@1", "recall@5", "recall@10", "recall@100", "mrr@10", "ndcg@10", "latency_ms_p50", "latency_ms_p95"]
    lines = [f"### {title}", "", "| mode | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for mode, m in results.items():
        cells = [f"{m[c]:.1f}" if c.startswith("latency") else f"{m[c]:.3f}" for c in cols]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", type=Path, default=ROOT / "rag" / "data" / "qa" / "bundled.jsonl")
    ap.add_argument("--beir", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "scifact")
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "retrieval.json")
    ap.add_argument("--no-beir", action="store_true")
    args = ap.parse_args()
    settings = Settings()
    report: dict[str, object] = {
        "settings": settings.model_dump(
            mode="json",
            include={
                "chunk_size",
                "chunk_overlap",
                "embed_title",
                "fusion",
                "dense_weight",
                "fusion_depth",
                "rrf_k",
                "bm25_k1",
                "bm25_b",
                "bm25_title_weight",
            },
        )
    }
    md = []

    with tempfile.TemporaryDirectory() as tmp:
        bundled = Assistant(settings.model_copy(update={"data_dir": Path(tmp)}))
        bundled.ingest(progress=False)
        resolver = GoldResolver(bundled.manifest.iter_papers())
        items = [i for i in load_qa(args.qa) if i.answerable]
        queries, qrels = {}, {}
        for item in items:
            ids, missing = resolver.resolve_all(item.gold)
            if missing:
                raise SystemExit(f"{args.qa}: question {item.id}: gold not found: {missing}")
            queries[item.id] = item.question
            qrels[item.id] = dict.fromkeys(ids, 1.0)
        qa = evaluate_retrieval(bundled, queries, qrels, progress=sys.stderr.isatty())
        failures = {
            m: [(q, queries[q]) for q in queries if not set(r["rankings"][q][:5]) & set(qrels[q])]
            for m, r in qa.items()
        }
        report["qa"] = {m: {k: v for k, v in r.items() if k != "rankings"} for m, r in qa.items()}
        report["qa_misses_at_5"] = failures
        report["cold_start_s_median"] = cold_start(Path(tmp))
        md.append(table(report["qa"], f"QA set {args.qa.name} ({len(queries)} answerable questions, bundled corpus)"))
        bundled.close()

    if not args.no_beir and args.beir.exists():
        beir = load_beir(args.beir, "test")
        assistant = cached_index(args.beir.name, [beir.corpus], settings)
        res = evaluate_retrieval(assistant, beir.queries, beir.qrels, progress=sys.stderr.isatty())
        report["beir"] = {
            "name": args.beir.name,
            "split": "test",
            **{m: {k: v for k, v in r.items() if k != "rankings"} for m, r in res.items()},
        }
        md.append(table({m: report["beir"][m] for m in res}, f"{args.beir.name} test ({len(beir.queries)} queries)"))

    md.append(
        f"Cold start of `rag search` (fresh process, bundled index): {report['cold_start_s_median']:.1f} s median of 3."
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text("\n\n".join(md) + "\n")
    print("\n\n".join(md))


if __name__ == "__main__":
    main()
