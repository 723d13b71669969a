"""Follow-up benchmark: the last turn of short conversations over the bundled corpus (issue 19).

    python eval/bench_followups.py [--data-dir DIR] [--backend extractive] [--split dev|test|all] [--limit N]
                                   [--out eval/results/followups.json]

Each conversation of `rag/data/qa/followups.jsonl` is asked as `Assistant.ask(question, history=...)` (default
backend extractive; `--data-dir` reuses an index of the bundled corpus, built there when empty). Reported per
split (dev, test, all), separately for dependent turns (only understood from the conversation) and independent
ones (a new self-contained question):

- right paper: the gold paper (an exact title, or the first words of an untitled abstract) among the cited papers;
  for a turn with no gold paper, the answer held back (abstained or partial);
- gold retrieved: the gold paper among the retrieved sources (retrieval found it, whatever the answer did);
- rewritten: `answer.standalone_question` set and different from the question (dependent turns need it);
  independent turns must never be rewritten (`not_rewritten_rate`);
- refused (abstained or partial) on answerable turns, key facts (`must_include`), p50 latency.

Predictions (with the standalone question each turn was retrieved with) go beside the JSON, a table to the `.md`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rag import Assistant, Settings
from rag.evaluation.answers import evaluate_answers, refused
from rag.evaluation.datasets import load_qa
from rag.evaluation.metrics import mean, percentile
from rag.types import Answer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval"))
from bench_answers import qa_meta, select  # noqa: E402

QA = ROOT / "rag" / "data" / "qa" / "followups.jsonl"


class _Recorder:
    """An Assistant whose `ask` keeps each Answer, so the shared `evaluate_answers` can be reused and the standalone
    question (which its records leave out) read afterwards."""

    def __init__(self, assistant: Assistant) -> None:
        self._assistant = assistant
        self.answers: list[Answer] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._assistant, name)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        answer = self._assistant.ask(question, **kwargs)
        self.answers.append(answer)
        return answer


def _rate(values: list[bool]) -> float | None:
    return mean([float(v) for v in values]) if values else None


def right_paper(p: dict[str, Any]) -> bool:
    """The gold paper cited; with no gold paper, the answer held back."""
    if not p["gold"]:
        return refused(p)
    return bool({c["id"] for c in p["cited"]} & set(p["gold"]))


def _group(predictions: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [p for p in predictions if p["answerable"]]
    return {
        "questions": len(predictions),
        "unanswerable": len(predictions) - len(answerable),
        "right_paper_rate": _rate([right_paper(p) for p in predictions]),
        "gold_retrieved_rate": _rate([bool({r["id"] for r in p["retrieved"]} & set(p["gold"])) for p in answerable]),
        "rewritten_rate": _rate([p["rewritten"] for p in predictions]),
        "not_rewritten_rate": _rate([not p["rewritten"] for p in predictions]),
        "refused_rate": _rate([refused(p) for p in answerable]),
        "key_fact_accuracy": _rate([p["key_facts"] for p in answerable]) if answerable else None,
    }


def summarize(predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """Dependent and independent turns of one group of predictions (a split, or all)."""
    return {
        "questions": len(predictions),
        "dependent": _group([p for p in predictions if p["dependent"]]),
        "independent": _group([p for p in predictions if not p["dependent"]]),
        "latency_s_p50": percentile([p["seconds"] for p in predictions], 50),
        "latency_s_p95": percentile([p["seconds"] for p in predictions], 95),
    }


def run(
    assistant: Assistant,
    qa: Path = QA,
    *,
    backend: str = "extractive",
    split: str = "all",
    limit: int | None = None,
    progress: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ask every selected conversation's last turn; return the report (per split and overall) and the records."""
    meta = qa_meta(qa)
    items = select(load_qa(qa), meta, split)[:limit]
    recorder = _Recorder(assistant)
    _, predictions = evaluate_answers(recorder, items, backend, progress=progress)  # type: ignore[arg-type]
    for p, item, answer in zip(predictions, items, recorder.answers, strict=True):
        m = meta[p["id"]]
        if p["gold_missing"]:
            raise SystemExit(f"{qa}: question {p['id']}: gold matches no single paper: {p['gold_missing']}")
        standalone = answer.standalone_question
        p.update(
            dependent=bool(m.get("dependent")),
            split=m.get("split", "all"),
            history=item.history,
            standalone_question=standalone,
            reference_standalone=m.get("standalone"),
            rewritten=standalone is not None and standalone != item.question,
        )
    report: dict[str, Any] = {"backend": backend, "qa": qa.name, "split": split, "all": summarize(predictions)}
    for name in sorted({p["split"] for p in predictions} - {"all"}):
        report[name] = summarize([p for p in predictions if p["split"] == name])
    return report, predictions


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def markdown(report: dict[str, Any], command: str) -> str:
    """The report as a table, one row per split."""
    lines = [
        f"Follow-up benchmark (unseen set `{report['qa']}`, backend `{report['backend']}`, bundled corpus); "
        f"`{command}`.",
        "Right paper: the gold paper among the cited papers (no gold paper: the answer abstained or was partial). "
        "Rewritten: the answer's standalone question differs from the asked one. Refused counts `abstained` and "
        "`partial` on answerable turns.",
        "",
        "| split | dependent | right paper | gold retrieved | rewritten | refused | key facts "
        "| independent | right paper | not rewritten | refused | latency p50 |",
        "|---" * 12 + "|",
    ]
    for g in (g for g in ("dev", "test", "all") if g in report):
        d, i = report[g]["dependent"], report[g]["independent"]
        lines.append(
            f"| {g} | {d['questions']} | {_cell(d['right_paper_rate'])} | {_cell(d['gold_retrieved_rate'])} "
            f"| {_cell(d['rewritten_rate'])} | {_cell(d['refused_rate'])} | {_cell(d['key_fact_accuracy'])} "
            f"| {i['questions']} ({i['unanswerable']} unanswerable) | {_cell(i['right_paper_rate'])} "
            f"| {_cell(i['not_rewritten_rate'])} | {_cell(i['refused_rate'])} | {report[g]['latency_s_p50']:.2f} s |"
        )
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], predictions: list[dict[str, Any]], out: Path, command: str) -> None:
    """`out` (JSON), the predictions beside it and the markdown table."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    with out.with_name(out.stem + "_predictions.jsonl").open("w") as fh:
        for p in predictions:
            fh.write(json.dumps(p) + "\n")
    out.with_suffix(".md").write_text(markdown(report, command))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", type=Path, default=QA)
    ap.add_argument("--data-dir", type=Path, default=None, help="reuse (or build) the bundled-corpus index here")
    ap.add_argument("--backend", default="extractive")
    ap.add_argument("--split", default="all", help="dev, test or all")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "followups.json")
    args = ap.parse_args()
    command = "python eval/bench_followups.py" + ("" if args.backend == "extractive" else f" --backend {args.backend}")
    command += "" if args.split == "all" else f" --split {args.split}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=args.data_dir or Path(tmp))
        assistant = Assistant(settings)
        if assistant.is_empty():
            assistant.ingest(progress=sys.stderr.isatty())
        report, predictions = run(
            assistant, args.qa, backend=args.backend, split=args.split, limit=args.limit, progress=sys.stderr.isatty()
        )
        report["embed"] = settings.embed
        report["papers"] = assistant.stats().papers
        assistant.close()
    write(report, predictions, args.out, command)
    print(markdown(report, command))


if __name__ == "__main__":
    main()
