"""Answer benchmark over the bundled corpus, per backend.

    python eval/bench_answers.py [--backend extractive --backend local] [--limit N] [--out eval/results/answers.json]

Reports key-fact accuracy, citation precision/recall against the gold papers, citation support,
abstention on unanswerable questions, false refusals and p50 latency; predictions go beside.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from rag import Assistant, Settings
from rag.evaluation.answers import evaluate_answers
from rag.evaluation.datasets import load_qa

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    "key_fact_accuracy",
    "citation_precision",
    "citation_recall",
    "citation_support_rate",
    "abstention_recall",
    "false_refusal_rate",
    "latency_s_p50",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", type=Path, default=ROOT / "rag" / "data" / "qa" / "bundled.jsonl")
    ap.add_argument("--backend", action="append", default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "answers.json")
    args = ap.parse_args()
    backends = args.backend or ["extractive", "local"]
    items = load_qa(args.qa)[: args.limit]
    results, predictions = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings(data_dir=Path(tmp)))
        assistant.ingest(progress=False)
        for backend in backends:
            metrics, preds = evaluate_answers(assistant, items, backend, progress=sys.stderr.isatty())
            results[backend], predictions[backend] = metrics, preds
            print(backend, json.dumps(metrics), flush=True)
    lines = [f"| backend | {' | '.join(COLUMNS)} |", "|---" * (len(COLUMNS) + 1) + "|"]
    for backend, m in results.items():
        lines.append(
            f"| {backend} | "
            + " | ".join(f"{m[c]:.3f}" if "latency" not in c else f"{m[c]:.2f} s" for c in COLUMNS)
            + " |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    with args.out.with_name(args.out.stem + "_predictions.jsonl").open("w") as fh:
        for preds in predictions.values():
            for p in preds:
                fh.write(json.dumps(p) + "\n")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
