"""Check the retrieval metrics of `rag eval` against a reference implementation on the same run.

Runs `rag eval --beir DIR` (or reads the output folder of an earlier run with `--report`), then scores
the TREC run file it wrote (`run-<config>.trec`) with ir-measures (trec_eval through
pytrec-eval-terrier) and compares nDCG@10, MRR@10 and recall@k to 4 decimals.

    python eval/metrics_parity.py --beir /work/shared/benchmarks/scifact --out eval/results/parity-scifact
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import ir_measures
from ir_measures import RR, R, nDCG

from rag import Settings
from rag.evaluation.datasets import load_beir
from rag.evaluation.runner import run_eval

# our metric name -> the ir-measures measure that defines it
MEASURES = {
    "ndcg@10": nDCG @ 10,
    "mrr@10": RR @ 10,
    "recall@1": R @ 1,
    "recall@5": R @ 5,
    "recall@10": R @ 10,
    "recall@100": R @ 100,
}


def reference_metrics(run_file: Path, qrels: dict[str, dict[str, float]]) -> dict[str, float]:
    """ir-measures' mean of each measure over the run's queries."""
    run = list(ir_measures.read_trec_run(str(run_file)))
    queries = {r.query_id for r in run}
    judged = [ir_measures.Qrel(q, d, int(g)) for q, docs in qrels.items() if q in queries for d, g in docs.items()]
    scores = ir_measures.calc_aggregate(list(MEASURES.values()), judged, run)
    return {name: float(scores[m]) for name, m in MEASURES.items()}


def compare(ours: dict[str, Any], reference: dict[str, float], places: int = 4) -> list[dict[str, Any]]:
    """One row per metric: our value, the reference value, and whether they agree to `places` decimals."""
    return [
        {
            "metric": name,
            "rag_eval": ours[name],
            "ir_measures": ref,
            "equal_to_4_places": round(ours[name], places) == round(ref, places),
        }
        for name, ref in reference.items()
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beir", type=Path, required=True, help="BEIR folder (corpus, queries, qrels/test.tsv)")
    parser.add_argument("--config", default="hybrid", help="preset or config file (default hybrid)")
    parser.add_argument("--report", type=Path, help="an earlier `rag eval --beir` output folder to check")
    parser.add_argument("--out", type=Path, required=True, help="where parity.json and parity.md go")
    args = parser.parse_args()
    report = args.report
    if report is None:
        report, _ = run_eval(settings=Settings(), beir=args.beir, configs=[args.config], out=args.out / "eval")
    name = Path(args.config).stem  # a preset's name is its file's stem
    ours = json.loads((report / "metrics.json").read_text())[name]["beir"]
    reference = reference_metrics(report / f"run-{name}.trec", load_beir(args.beir, "test").qrels)
    rows = compare(ours, reference)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "parity.json").write_text(json.dumps({"data": str(args.beir), "config": name, "rows": rows}, indent=2))
    lines = [
        f"# Metric parity: `rag eval` vs ir-measures {ir_measures.__version__} on {args.beir.name} "
        f"(test split, {ours['queries']} queries, config {name})",
        "",
        "| metric | rag eval | ir-measures | equal to 4 places |",
        "| --- | --- | --- | --- |",
        *(f"| {r['metric']} | {r['rag_eval']:.6f} | {r['ir_measures']:.6f} | {r['equal_to_4_places']} |" for r in rows),
        "",
    ]
    (args.out / "parity.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if all(r["equal_to_4_places"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
