"""Answer evaluation: key facts, citation precision/recall against gold papers, citation support,
abstention, latency and tokens, per backend."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm

from rag.assistant import Assistant
from rag.corpus.records import normalize
from rag.evaluation.datasets import GoldResolver, QAItem
from rag.evaluation.judge import Judge
from rag.evaluation.metrics import mean, percentile
from rag.types import Answer


def key_fact_score(answer: str, facts: Sequence[str]) -> float:
    """Share of the key facts present in the answer (normalised substring match); 1.0 with no facts."""
    if not facts:
        return 1.0
    text = f" {normalize(answer)} "
    return sum(f" {normalize(f)} " in text for f in facts) / len(facts)


def citation_precision(cited: set[str], gold: set[str]) -> float | None:
    """Share of cited papers that are gold (None when nothing is cited)."""
    return len(cited & gold) / len(cited) if cited else None


def citation_recall(cited: set[str], gold: set[str]) -> float:
    """Share of gold papers cited (0 when nothing is cited)."""
    return len(cited & gold) / len(gold) if gold else 0.0


def support_rate(answer: Answer) -> float | None:
    """Share of cited sentences whose cited source supports them (None without cited sentences)."""
    cited = [s for s in answer.sentences if s.citations]
    return sum(s.supported for s in cited) / len(cited) if cited else None


def evaluate_answers(
    assistant: Assistant,
    items: Sequence[QAItem],
    backend: str | None = None,
    progress: bool = False,
    judge: Judge | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ask every question; return aggregate metrics and one prediction record per question.

    With a `judge`, faithfulness and answer correctness are scored too, and the judge's raw verdicts kept in
    each record (`judge_verdicts`); replies that did not parse are counted (`judge_unparsed`) and left out of
    the means. Without a judge both metrics are None (not measured).
    """
    resolver = GoldResolver(assistant.manifest.iter_papers())
    predictions: list[dict[str, Any]] = []
    for item in tqdm(items, desc=backend or "answers", disable=not progress, leave=False):
        gold, missing = resolver.resolve_all(item.gold)
        started = time.perf_counter()
        answer = assistant.ask(item.question, history=item.history or None, backend=backend)
        seconds = time.perf_counter() - started
        cited = {c.paper.id for c in answer.citations}
        judged = judge.judge(item.question, answer, item.answer if item.answerable else None) if judge else None
        predictions.append(
            {
                "id": item.id,
                "type": item.type,
                "question": item.question,
                "answerable": item.answerable,
                "gold": sorted(gold),
                "gold_missing": missing,
                "reference": item.answer,
                "must_include": item.must_include,
                "answer": answer.text,
                "abstained": answer.abstained,
                "status": answer.status,
                "missing": answer.missing,
                "cited": [{"number": c.number, "id": c.paper.id, "title": c.paper.title} for c in answer.citations],
                "retrieved": [
                    {"id": h.paper.id, "title": h.paper.title, "score": round(h.score, 4)} for h in answer.sources
                ],
                "key_facts": key_fact_score(answer.text, item.must_include) if item.answerable else None,
                "citation_precision": citation_precision(cited, gold) if item.answerable else None,
                "citation_recall": citation_recall(cited, gold) if item.answerable else None,
                "support_rate": support_rate(answer),
                "unsupported_sentences": sum(s.claim and not s.supported for s in answer.sentences),
                "reattributed_sentences": sum(s.reattributed for s in answer.sentences),
                "seconds": seconds,
                "backend": answer.backend,
                "model": answer.model,
                "usage": answer.usage,
                "notice": answer.notice,
                "faithfulness": judged.faithfulness if judged else None,
                "correctness": judged.correctness if judged else None,
                "judge_unparsed": judged.unparsed if judged else 0,
                "judge_verdicts": judged.records() if judged else [],
                "signals": answer.signals,  # the verdict's inputs, to refit it without asking again
            }
        )
    return aggregate(predictions), predictions


def aggregate(predictions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate per-question records into the headline metrics."""
    answerable = [p for p in predictions if p["answerable"]]
    unanswerable = [p for p in predictions if not p["answerable"]]
    abstained = [p for p in predictions if refused(p)]
    precisions = [p["citation_precision"] for p in answerable if p["citation_precision"] is not None]
    supports = [p["support_rate"] for p in predictions if p["support_rate"] is not None]
    seconds = [p["seconds"] for p in predictions]
    prompt = sum(p["usage"].get("prompt_tokens", 0) for p in predictions)
    completion = sum(p["usage"].get("completion_tokens", 0) for p in predictions)
    return {
        "questions": len(predictions),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "key_fact_accuracy": mean([p["key_facts"] for p in answerable]),
        "all_key_facts_rate": mean([float(p["key_facts"] == 1.0) for p in answerable]),
        "citation_precision": mean(precisions),
        "citation_recall": mean([p["citation_recall"] for p in answerable]),
        "citation_support_rate": mean(supports),
        "unsupported_sentences": sum(p["unsupported_sentences"] for p in predictions),
        "reattributed_sentences": sum(p["reattributed_sentences"] for p in predictions),
        "abstention_recall": mean([float(refused(p)) for p in unanswerable]),
        "abstention_precision": (sum(not p["answerable"] for p in abstained) / len(abstained)) if abstained else 0.0,
        "false_refusal_rate": mean([float(refused(p)) for p in answerable]),
        "partial_unanswerable": sum(_status(p) == "partial" for p in unanswerable),
        "partial_answerable": sum(_status(p) == "partial" for p in answerable),
        "abstained_unanswerable": sum(_status(p) == "abstained" for p in unanswerable),
        "abstained_answerable": sum(_status(p) == "abstained" for p in answerable),
        "latency_s_p50": percentile(seconds, 50),
        "latency_s_p95": percentile(seconds, 95),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "faithfulness": _mean_or_none([p.get("faithfulness") for p in predictions]),
        "answer_correctness": _mean_or_none([p.get("correctness") for p in predictions]),
        "judge_replies": sum(v["raw"] is not None for p in predictions for v in p.get("judge_verdicts", [])),
        "judge_unparsed": sum(p.get("judge_unparsed", 0) for p in predictions),
    }


def _status(p: dict[str, Any]) -> str:
    """A prediction's status (records written before statuses existed only carry `abstained`)."""
    return p.get("status") or ("abstained" if p["abstained"] else "answered")


def refused(p: dict[str, Any]) -> bool:
    """Whether a prediction declined to answer in full: abstained, or partial (the sources lack the asked fact).

    On an unanswerable question that is a correct abstention; on an answerable one, a refusal."""
    return _status(p) != "answered"


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    """Mean of the measured values; None ('not measured') when there are none."""
    measured = [v for v in values if v is not None]
    return mean(measured) if measured else None
