"""Eval outputs: metrics.json, report.md (tables and the worst questions), PNG plots, predictions.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.evaluation.answers import refused

RETRIEVAL_COLS = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "latency_ms_p50", "latency_ms_p95"]
ANSWER_COLS = [
    "key_fact_accuracy",
    "citation_precision",
    "citation_recall",
    "citation_support_rate",
    "abstention_recall",
    "abstention_precision",
    "false_refusal_rate",
    "partial_unanswerable",
    "partial_answerable",
    "latency_s_p50",
    "latency_s_p95",
]
BEIR_COLS = ["recall@1", "recall@5", "recall@10", "recall@100", "mrr@10", "ndcg@10", "latency_ms_p50", "latency_ms_p95"]


def _fmt(value: Any) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _judge_counts(answers: dict[str, Any]) -> str:
    """'N (M unparsed)' judge replies, or '-' without a judge."""
    replies = answers.get("judge_replies", 0)
    return f"{replies} ({answers.get('judge_unparsed', 0)} unparsed)" if replies else "-"


def _table(rows: dict[str, dict[str, Any]], cols: list[str]) -> list[str]:
    lines = ["| config | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(_fmt(m.get(c)) for c in cols) + " |" for name, m in rows.items()]
    return lines


def why_failed(p: dict[str, Any]) -> str | None:
    """A one-line diagnosis of a prediction, or None when it passed."""
    if not p["answerable"]:
        return None if refused(p) else "answered a question the corpus cannot answer"
    if refused(p):
        return f"refused an answerable question ({p.get('status') or 'abstained'}: {p.get('missing') or 'no reason'})"
    if not set(p["gold"]) & set(p.get("retrieval_ranking", [])[:5]):
        return "gold paper not retrieved in the top 5"
    if p["citation_recall"] == 0:
        return "retrieved the gold paper but cited another"
    if p["key_facts"] is not None and p["key_facts"] < 1:
        missing = [f for f in p["must_include"] if f.lower() not in p["answer"].lower()]
        return f"key facts missing: {', '.join(missing) or 'some'}"
    if p["citation_precision"] is not None and p["citation_precision"] < 1:
        return "also cited papers that are not gold"
    return None


def _plots(out: Path, results: dict[str, Any], predictions: list[dict[str, Any]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    names = [n for n in results if "qa" in results[n]]
    if names:
        metrics = [
            "recall@5",
            "mrr@10",
            "key_fact_accuracy",
            "citation_precision",
            "citation_recall",
            "abstention_recall",
            "false_refusal_rate",
        ]
        fig, ax = plt.subplots(figsize=(10, 4))
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            qa = results[name]["qa"]
            values = [qa["retrieval"].get(m, qa["answers"].get(m)) or 0 for m in metrics]
            ax.bar([x + i * width for x in range(len(metrics))], values, width, label=name)
        ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(metrics))], metrics, rotation=20)
        ax.set_ylim(0, 1.05)
        ax.legend()
        ax.set_title("QA set metrics per configuration")
        fig.tight_layout()
        fig.savefig(out / "metrics.png", dpi=110)
        plt.close(fig)
        made.append("metrics.png")
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for name in names:
            ax.hist([p["seconds"] for p in predictions if p["config"] == name], bins=20, alpha=0.6, label=name)
        ax.set_xlabel("seconds per question (retrieve + answer + check)")
        ax.set_ylabel("questions")
        ax.legend()
        ax.set_title("Answer latency")
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=110)
        plt.close(fig)
        made.append("latency.png")
    return made


def write_run(path: Path, rankings: dict[str, list[str]], tag: str) -> None:
    """A TREC run file (`qid Q0 docid rank score tag`) of best-first rankings. Scores are rank-derived
    (n, n-1, ...) so that tools which re-sort by score (trec_eval, ir-measures) see exactly this order."""
    with path.open("w", encoding="utf-8") as fh:
        for qid, ranked in rankings.items():
            for rank, doc in enumerate(ranked, start=1):
                fh.write(f"{qid} Q0 {doc} {rank} {len(ranked) - rank + 1} {tag}\n")


def write_report(
    out: Path,
    results: dict[str, Any],
    predictions: list[dict[str, Any]],
    worst: int = 10,
    runs: dict[str, dict[str, list[str]]] | None = None,
) -> None:
    """Write every output of one eval run into `out` (and `run-<config>.trec` for each of `runs`)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, rankings in (runs or {}).items():
        write_run(out / f"run-{name}.trec", rankings, name)
    (out / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    with (out / "predictions.jsonl").open("w") as fh:
        for p in predictions:
            fh.write(json.dumps({**p, "why_failed": why_failed(p)}) + "\n")
    plots = _plots(out, results, predictions)
    lines = ["# Evaluation report", ""]
    qa_rows = {n: r["qa"] for n, r in results.items() if "qa" in r}
    if qa_rows:
        first = next(iter(qa_rows.values()))
        lines += [
            f"QA set: `{Path(first['file']).name}`, {first['answers']['questions']} questions "
            f"({first['answers']['answerable']} answerable, {first['answers']['unanswerable']} unanswerable); "
            f"backend per config: " + ", ".join(f"{n} = {results[n]['backend']}" for n in qa_rows),
            "",
        ]
        lines += ["## Retrieval (answerable questions, per paper)", ""]
        lines += [*_table({n: r["retrieval"] for n, r in qa_rows.items()}, RETRIEVAL_COLS), ""]
        lines += ["## Answers", ""]
        lines += [*_table({n: r["answers"] for n, r in qa_rows.items()}, ANSWER_COLS), ""]
        extra = {
            n: {
                "judge": r["answers"]["judge"],
                "faithfulness": r["answers"]["faithfulness"],
                "answer_correctness": r["answers"]["answer_correctness"],
                "judge replies (unparsed)": _judge_counts(r["answers"]),
                "cost / 1000 q (USD)": r["answers"]["cost_per_1000_questions_usd"],
                "prompt tokens": r["answers"]["prompt_tokens"],
                "completion tokens": r["answers"]["completion_tokens"],
            }
            for n, r in qa_rows.items()
        }
        lines += [*_table(extra, list(next(iter(extra.values())).keys())), ""]
    beir_rows = {n: r["beir"] for n, r in results.items() if "beir" in r}
    if beir_rows:
        lines += [f"## BEIR: {next(iter(beir_rows.values()))['name']} (test split, retrieval only)", ""]
        lines += [*_table(beir_rows, BEIR_COLS), ""]
    lines += [f"![{p}]({p})" for p in plots] + [""]
    failing = [p for p in predictions if why_failed(p)]
    if failing:
        order = ["answered a question", "refused", "gold paper not", "retrieved the gold", "key facts", "also cited"]
        by_question: dict[str, list[dict[str, Any]]] = {}
        for p in failing:
            by_question.setdefault(p["id"], []).append(p)
        ranked = sorted(
            by_question.values(),
            key=lambda ps: (
                min(next(i for i, o in enumerate(order) if (why_failed(p) or "").startswith(o)) for p in ps),
                -len(ps),
            ),
        )
        lines += [
            f"## Worst questions ({len(by_question)} questions fail in at least one config; "
            f"{len(failing)} failing answers of {len(predictions)})",
            "",
        ]
        for ps in ranked[:worst]:
            p = ps[0]
            retrieved = "; ".join(r["title"][:70] for r in p["retrieved"][:3])
            lines += [f"### {p['id']}: {p['question']}", ""]
            lines += [f"- **why ({q['config']}):** {why_failed(q)}" for q in ps]
            lines += [
                f"- **retrieved ({p['config']}):** {retrieved or 'nothing'}",
                f"- **answered ({p['config']}):** {p['answer'][:400]}",
                f"- **expected:** {p['reference'] or '(abstain)'}",
                "",
            ]
    (out / "report.md").write_text("\n".join(lines) + "\n")
