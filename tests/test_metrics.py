"""Metric functions against hand-computed values."""

from __future__ import annotations

import math

import pytest

from rag.evaluation.answers import aggregate, citation_precision, citation_recall, key_fact_score
from rag.evaluation.metrics import mean, mrr_at_k, ndcg_at_k, percentile, recall_at_k


def test_recall_at_k() -> None:
    assert recall_at_k(["a", "b", "c"], {"b", "z"}, 1) == 0.0
    assert recall_at_k(["a", "b", "c"], {"b", "z"}, 2) == 0.5
    assert recall_at_k(["a"], set(), 5) == 0.0


def test_mrr_at_k() -> None:
    assert mrr_at_k(["a", "b", "c"], {"c"}, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["a", "b", "c"], {"c"}, 2) == 0.0
    assert mrr_at_k([], {"c"}) == 0.0


def test_ndcg_binary() -> None:
    # relevant at ranks 1 and 3 of two relevant: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3)
    assert ndcg_at_k(["a", "x", "b"], {"a", "b"}, 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))


def test_ndcg_graded_and_missing_relevance() -> None:
    grades = {"a": 2.0, "b": 1.0, "c": 3.0}  # "x" and "y" are unjudged: gain 0
    dcg = 2 / math.log2(2) + 0 + 1 / math.log2(4)
    idcg = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(["a", "x", "b", "y"], grades, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["x", "y"], grades, 10) == 0.0
    assert ndcg_at_k(["a"], {}, 10) == 0.0
    assert ndcg_at_k(["c", "a", "b"], grades, 10) == pytest.approx(1.0)


def test_percentile_and_mean() -> None:
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    assert percentile([], 50) == 0.0 and mean([]) == 0.0


def test_key_facts_are_normalised_substrings() -> None:
    assert key_fact_score("It trains 4.25 times faster [1].", ["4.25", "Tacotron2"]) == 0.5
    assert key_fact_score("Uses Satisfiability-Modulo Theory.", ["satisfiability modulo theory"]) == 1.0
    assert key_fact_score("anything", []) == 1.0
    assert key_fact_score("a 16-layer net", ["16"]) == 1.0 and key_fact_score("a 160-layer net", ["16"]) == 0.0


def test_citation_precision_recall_with_empty_lists() -> None:
    assert citation_precision(set(), {"a"}) is None
    assert citation_recall(set(), {"a"}) == 0.0
    assert citation_precision({"a", "b"}, {"a"}) == 0.5 and citation_recall({"a", "b"}, {"a", "c"}) == 0.5


def test_aggregate_abstention_figures() -> None:
    def pred(answerable: bool, abstained: bool, cited: float | None = None) -> dict:
        return {
            "answerable": answerable,
            "abstained": abstained,
            "key_facts": 1.0 if answerable else None,
            "citation_precision": cited,
            "citation_recall": cited or 0.0 if answerable else None,
            "support_rate": None,
            "unsupported_sentences": 0,
            "reattributed_sentences": 0,
            "seconds": 1.0,
            "usage": {},
        }

    m = aggregate([pred(True, False, 1.0), pred(True, True), pred(False, True), pred(False, False)])
    assert m["abstention_recall"] == 0.5 and m["false_refusal_rate"] == 0.5
    assert m["abstention_precision"] == 0.5
    assert m["citation_precision"] == 1.0  # the refused question cites nothing: not in the precision mean
    assert m["citation_recall"] == 0.5
    assert m["faithfulness"] is None and m["answer_correctness"] is None  # no judge: not measured


def test_qa_set_rejects_an_unknown_type(tmp_path) -> None:
    from rag.evaluation.datasets import load_qa

    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "q", "gold": ["x"], "type": "factoid"}\n{"question": "q2", "type": "trivia"}\n')
    with pytest.raises(ValueError, match=r"qa.jsonl:2: unknown type 'trivia'"):
        load_qa(path)
