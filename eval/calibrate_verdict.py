"""Fit the one calibrated verdict (rag/verdict.py) on the dev splits of the QA sets, and report it on their test splits.

    python eval/calibrate_verdict.py [--data-dir DIR] [--model rag/data/verdict.json]
                                     [--out eval/results/calibration_verdict]
    python eval/calibrate_verdict.py --predictions SET=PREDICTIONS.jsonl ... [--model ...] [--out ...]

With `--predictions`, the signals come from answer-bench predictions (`eval/bench_answers.py`,
`eval/bench_scifact_answers.py`, each over its own index), one file per QA set: the dev splits of every set given
are fitted (a set with no test split, such as `scifact_dev2`, is all dev; a set written only to be held out, such
as `paraphrase_physics`, is all test: name those with `--held-out`), and every other split is reported. The report
then also gives a leave-one-set-out estimate on the dev splits: each dev set judged by a model fitted on the others.

Every question is asked once through the public API with the offline default (extractive answerer, MiniLM) and the
rule verdict, and the sufficiency signals of its answer are recorded (they do not depend on the verdict). A logistic
regression (scikit-learn, balanced classes, standardised features) is fitted on the dev questions whose answer
reached the judge: answerable = 1, unanswerable = 0. The cut is the highest probability at which at most 5% of the
dev answerable questions are held back (abstained or partial, counting those retrieval already abstained on): it
holds back as many unanswerable questions as that allows. Writes the model, `<out>.md` (coefficients, cut, rules vs
model on every split) and `<out>.jsonl` (the signals of every question, to refit without asking again: `--signals`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from rag import Assistant, Settings
from rag.evaluation.datasets import load_qa
from rag.verdict import FEATURES, MODEL_PATH, VerdictModel

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT / "rag" / "data" / "qa"
FIT = [("sufficiency", "dev"), ("paraphrase", "dev"), ("redteam", "rt2")]
REPORT = [("sufficiency", "test"), ("paraphrase", "test"), ("redteam", "rt3"), ("bundled", "all")]
MAX_REFUSED = 0.05


def splits_of(name: str) -> dict[str, str]:
    out = {}
    for line in (QA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            row = json.loads(line)
            out[row["id"]] = row.get("split", "all")
    return out


def record(assistant: Assistant, sets: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Ask every question of the given (set, split)s once; its signals, rule status and label."""
    rows = []
    for name, split in sets:
        split_of = splits_of(name)
        for item in load_qa(QA / f"{name}.jsonl"):
            if split != "all" and split_of[item.id] != split:
                continue
            answer = assistant.ask(item.question)
            rows.append(
                {
                    "set": name,
                    "split": split,
                    "id": item.id,
                    "answerable": item.answerable,
                    "rules": answer.status,
                    "signals": answer.signals,  # None: decided before the judge (retrieval found nothing relevant)
                }
            )
    return rows


def from_predictions(pairs: list[str], held_out: set[str]) -> list[dict[str, Any]]:
    """Rows from bench predictions ("set=path"): the split from the QA set, the rule status and the signals."""
    rows = []
    for pair in pairs:
        name, _, path = pair.partition("=")
        split_of = splits_of(name)
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            p = json.loads(line)
            split = "test" if name in held_out else split_of.get(p["id"], "all")
            rows.append(
                {
                    "set": name,
                    "split": split,
                    "id": p["id"],
                    "answerable": p["answerable"],
                    "rules": p["status"],
                    "signals": p.get("signals"),
                    "fit": split not in ("test", "rt3"),
                }
            )
    return rows


def leave_one_set_out(dev: list[dict[str, Any]]) -> list[str]:
    """Each dev set judged by a model fitted (with its cut) on the other dev sets: refused and held back, rules vs
    model, summed over the sets."""
    counts = {"rules": [0, 0], "model": [0, 0]}
    answerable = sum(r["answerable"] for r in dev)
    for name in sorted({r["set"] for r in dev}):
        model = fit([r for r in dev if r["set"] != name])
        for r in (r for r in dev if r["set"] == name):
            for label, m in (("rules", None), ("model", model)):
                counts[label][0 if r["answerable"] else 1] += held_back(r, m)
    unanswerable = len(dev) - answerable
    return [
        "| leave one dev set out | refused | held back |",
        "|---|---|---|",
        *(
            f"| {label} | {c[0]}/{answerable} = {c[0] / max(answerable, 1):.3f} | "
            f"{c[1]}/{unanswerable} = {c[1] / max(unanswerable, 1):.3f} |"
            for label, c in counts.items()
        ),
    ]


def fit(rows: list[dict[str, Any]]) -> VerdictModel:
    """Logistic regression on the judged dev rows, with the cut that keeps dev refusals within MAX_REFUSED."""
    from sklearn.linear_model import LogisticRegression

    judged = [r for r in rows if r["signals"]]
    x = np.array([[r["signals"][f] for f in FEATURES] for r in judged])
    y = np.array([int(r["answerable"]) for r in judged])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    reg = LogisticRegression(class_weight="balanced", C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    model = VerdictModel(tuple(mean), tuple(scale), tuple(reg.coef_[0]), float(reg.intercept_[0]), 0.5)
    answerable = [r for r in rows if r["answerable"]]
    before = sum(r["signals"] is None for r in answerable)  # held back by retrieval whatever the cut
    probs = sorted({round(model.probability(_signals(r)), 6) for r in judged})
    cut = 0.0
    for p in probs:
        refused = before + sum(r["signals"] is not None and model.probability(_signals(r)) < p for r in answerable)
        if refused / max(len(answerable), 1) <= MAX_REFUSED:
            cut = p
    return VerdictModel(model.mean, model.scale, model.coef, model.intercept, cut)


class _Row:
    """A recorded row's features, as the model reads a `Signals`."""

    def __init__(self, features: dict[str, float]) -> None:
        self._features = features

    def features(self) -> dict[str, float]:
        return self._features


def _signals(row: dict[str, Any]) -> Any:
    return _Row(row["signals"])


def held_back(row: dict[str, Any], model: VerdictModel | None) -> bool:
    """Whether the answer is abstained or partial: by the rules (model None) or by the model."""
    if model is None or row["signals"] is None:
        return row["rules"] != "answered"
    return not model.answers(_signals(row))


def table(rows: list[dict[str, Any]], model: VerdictModel) -> list[str]:
    lines = [
        "| set | split | answerable | unanswerable | refused (rules) | refused (model) | held back (rules) | "
        "held back (model) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["set"], r["split"]), []).append(r)
    for (name, split), rs in groups.items():
        yes = [r for r in rs if r["answerable"]]
        no = [r for r in rs if not r["answerable"]]

        def rate(items: list[dict[str, Any]], m: VerdictModel | None) -> str:
            return f"{sum(held_back(r, m) for r in items) / len(items):.3f}" if items else "-"

        lines.append(
            f"| {name} | {split} | {len(yes)} | {len(no)} | {rate(yes, None)} | {rate(yes, model)} | "
            f"{rate(no, None)} | {rate(no, model)} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None, help="reuse (or build) the bundled-corpus index here")
    ap.add_argument("--model", type=Path, default=MODEL_PATH)
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "calibration_verdict")
    ap.add_argument("--signals", type=Path, default=None, help="refit from a recorded <out>.jsonl (no asking)")
    ap.add_argument("--predictions", nargs="+", default=None, help="SET=PREDICTIONS.jsonl from the answer benches")
    ap.add_argument("--held-out", nargs="*", default=[], help="sets written only to be held out (all test)")
    args = ap.parse_args()
    if args.predictions:
        rows = from_predictions(args.predictions, set(args.held_out))
    elif args.signals:
        rows = [json.loads(line) for line in args.signals.read_text().splitlines() if line.strip()]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            assistant = Assistant(Settings(data_dir=args.data_dir or Path(tmp), llm="extractive", verdict="rules"))
            if assistant.is_empty():
                assistant.ingest(progress=False)
            rows = record(assistant, FIT + REPORT)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    dev = [r for r in rows if r.get("fit", (r["set"], r["split"]) in FIT)]
    model = fit(dev)
    fitted_on = sorted({f"{r['set']}:{r['split']}" for r in dev})
    command = "`python eval/calibrate_verdict.py`"
    if args.predictions:  # the figures come from the benches' predictions, each set over its own index
        held = " ".join(args.held_out)
        command = f"`python eval/calibrate_verdict.py --held-out {held} --predictions <set>=<predictions> ...`"
    args.model.write_text(json.dumps(model.to_json(), indent=2) + "\n")
    lines = [
        "# One calibrated verdict",
        "",
        f"{command}: a logistic regression over the sufficiency signals, fitted on the dev "
        f"splits ({', '.join(fitted_on)}; {len(dev)} questions, "
        f"{sum(r['signals'] is not None for r in dev)} reached the judge), reported on the others. Offline default "
        "(extractive answerer, MiniLM). Refused = answerable questions abstained or partial; held back = "
        "unanswerable questions abstained or partial. Rules = the earlier chain of thresholds (`RAG_VERDICT=rules`).",
        "",
        f"Cut: answered when the probability is at least **{model.cut:.3f}** (the highest cut that holds back at "
        f"most {MAX_REFUSED:.0%} of the dev answerable questions).",
        "",
        "| feature | mean | scale | coefficient (standardised) |",
        "|---|---|---|---|",
        *(
            f"| {f} | {m:.3f} | {s:.3f} | {c:+.3f} |"
            for f, m, s, c in zip(FEATURES, model.mean, model.scale, model.coef, strict=True)
        ),
        f"| (intercept) | | | {model.intercept:+.3f} |",
        "",
        *table(rows, model),
        *(["", *leave_one_set_out(dev)] if args.predictions else []),
    ]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
