"""Answer benchmark over the bundled corpus, per backend (and per split of a QA set that has one).

    python eval/bench_answers.py [--backend extractive --backend local] [--qa FILE] [--split dev|test|all]
                                 [--data-dir DIR] [--limit N] [--out eval/results/answers.json]

Reports key-fact accuracy, citation precision/recall against the gold papers, citation support,
abstention on unanswerable questions (abstained or partial), false refusals (an answerable question
abstained or answered only partially) and p50 latency; with a QA set whose lines carry a `kind`
(near-miss, absent-entity, off-topic, number, name, list) the refusal rate per kind too. Predictions
go beside. `--data-dir` reuses an index of the bundled corpus (built there when empty).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rag import Assistant, Settings
from rag.evaluation.answers import aggregate, evaluate_answers, refused
from rag.evaluation.datasets import QAItem, load_qa
from rag.evaluation.metrics import mean

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    "key_fact_accuracy",
    "citation_precision",
    "citation_recall",
    "citation_support_rate",
    "abstention_recall",
    "near_miss_abstention",
    "false_refusal_rate",
    "latency_s_p50",
]


def qa_meta(path: Path) -> dict[str, dict[str, Any]]:
    """Each question's raw record by id (for the `split` and `kind` fields the loader does not keep)."""
    meta = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            obj = json.loads(line)
            meta[str(obj.get("id", number))] = obj
    return meta


def select(items: list[QAItem], meta: dict[str, dict[str, Any]], split: str) -> list[QAItem]:
    """The items of one split ('all' keeps every item; a set without splits is all 'all')."""
    return [i for i in items if split == "all" or meta[i.id].get("split", "all") == split]


def by_kind(predictions: list[dict[str, Any]], meta: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Questions and refusal rate (abstained or partial) per question kind."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for p in predictions:
        kinds.setdefault(meta[p["id"]].get("kind", p["type"]), []).append(p)
    return {k: {"questions": len(ps), "refusal_rate": mean([float(refused(p)) for p in ps])} for k, ps in kinds.items()}


def merge(files: list[Path], meta: dict[str, dict[str, Any]], out: Path) -> None:
    """Headline metrics over the predictions of several runs (e.g. the dev and test splits), per backend."""
    preds: dict[str, list[dict[str, Any]]] = {}
    for f in files:
        for line in f.read_text().splitlines():
            p = json.loads(line)
            preds.setdefault(p["backend"], []).append(p)
    results = {}
    for backend, ps in preds.items():
        metrics = aggregate(ps)
        kinds = by_kind(ps, meta)
        metrics["near_miss_abstention"] = kinds.get("near-miss", {}).get("refusal_rate")
        metrics["by_kind"] = kinds
        results[backend] = metrics
    out.write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"Merged from {', '.join(f'`{f.name}`' for f in files)} (`python eval/bench_answers.py --merge ...`).", ""]
    lines += [f"| backend | questions | {' | '.join(COLUMNS)} |", "|---" * (len(COLUMNS) + 2) + "|"]
    for backend, m in results.items():
        cells = ["-" if m.get(c) is None else f"{m[c]:.2f} s" if "latency" in c else f"{m[c]:.3f}" for c in COLUMNS]
        lines.append(f"| {backend} | {m['questions']} | {' | '.join(cells)} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", type=Path, default=ROOT / "rag" / "data" / "qa" / "bundled.jsonl")
    ap.add_argument("--split", default="all", help="dev, test or all (QA sets with a `split` field)")
    ap.add_argument("--backend", action="append", default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--data-dir", type=Path, default=None, help="reuse (or build) the bundled-corpus index here")
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "answers.json")
    ap.add_argument(
        "--merge", type=Path, nargs="+", default=None, help="aggregate these *_predictions.jsonl files (no asking)"
    )
    args = ap.parse_args()
    meta = qa_meta(args.qa)
    if args.merge:
        merge(args.merge, meta, args.out)
        return
    backends = args.backend or ["extractive", "local"]
    items = select(load_qa(args.qa), meta, args.split)[: args.limit]
    results, predictions = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings(data_dir=args.data_dir or Path(tmp)))
        if assistant.is_empty():
            assistant.ingest(progress=False)
        for backend in backends:
            metrics, preds = evaluate_answers(assistant, items, backend, progress=sys.stderr.isatty())
            kinds = by_kind(preds, meta)
            metrics["near_miss_abstention"] = kinds.get("near-miss", {}).get("refusal_rate")
            metrics["by_kind"] = kinds
            results[backend], predictions[backend] = metrics, preds
            print(backend, json.dumps(metrics), flush=True)
    answerable = sum(i.answerable for i in items)
    lines = [
        f"Answer benchmark, {len(items)} questions ({answerable} answerable, {len(items) - answerable} unanswerable) "
        f"from `{args.qa.relative_to(ROOT) if args.qa.is_relative_to(ROOT) else args.qa}`, split `{args.split}`; "
        f"`python eval/bench_answers.py --qa {args.qa.name} --split {args.split}`.",
        "Abstention and refusals count `abstained` and `partial` answers.",
        "",
        f"| backend | {' | '.join(COLUMNS)} | partial (unanswerable / answerable) |",
        "|---" * (len(COLUMNS) + 2) + "|",
    ]
    for backend, m in results.items():
        cells = ["-" if m.get(c) is None else f"{m[c]:.2f} s" if "latency" in c else f"{m[c]:.3f}" for c in COLUMNS]
        lines.append(f"| {backend} | {' | '.join(cells)} | {m['partial_unanswerable']} / {m['partial_answerable']} |")
    lines += ["", "Refusal rate (abstained or partial) per question kind:", ""]
    lines += ["| backend | kind | questions | refusal rate |", "|---|---|---|---|"]
    for backend, m in results.items():
        for kind, k in sorted(m["by_kind"].items()):
            lines.append(f"| {backend} | {kind} | {k['questions']} | {k['refusal_rate']:.3f} |")
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
