"""Metric functions against hand-computed values."""

from __future__ import annotations

import math

import pytest

from rag import Answer, Citation, Hit, Paper, SentenceCheck, Settings
from rag.evaluation.answers import aggregate, citation_precision, citation_recall, key_fact_score
from rag.evaluation.judge import Judge, parse_verdict
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
    assert m["judge_replies"] == 0 and m["judge_unparsed"] == 0

    judged = [pred(True, False, 1.0), pred(True, False, 1.0), pred(False, True)]
    judged[0] |= {"faithfulness": 0.5, "correctness": 1.0, "judge_unparsed": 0, "judge_verdicts": [{"raw": "yes"}]}
    judged[1] |= {"faithfulness": None, "correctness": 0.0, "judge_unparsed": 2}  # unparsed: out of the mean
    judged[1]["judge_verdicts"] = [{"raw": "maybe"}, {"raw": "hmm"}, {"raw": None}]  # None: uncited, no call
    m = aggregate(judged)
    assert m["faithfulness"] == 0.5 and m["answer_correctness"] == 0.5
    assert m["judge_replies"] == 3 and m["judge_unparsed"] == 2


def test_qa_set_rejects_an_unknown_type(tmp_path) -> None:
    from rag.evaluation.datasets import load_qa

    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "q", "gold": ["x"], "type": "factoid"}\n{"question": "q2", "type": "trivia"}\n')
    with pytest.raises(ValueError, match=r"qa.jsonl:2: unknown type 'trivia'"):
        load_qa(path)


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("yes", 1.0),
        ("Yes. The source states it.", 1.0),
        ("**No** - the source is about bees.", 0.0),
        ("partly\nonly the first half", 0.5),
        ("\n  0.75\nmost claims", 0.75),
        ("Score: 1", 1.0),
        ("80%", 0.8),
        ("4/5", 0.8),
        ("1.", 1.0),
        ("10", None),  # out of range: not guessed
        ("The answer is mostly right.", None),
        ("", None),
        ("1. The claim is supported", None),  # a numbered list, not a score
    ],
)
def test_judge_replies_parse_or_are_unparsed(reply: str, score: float | None) -> None:
    assert parse_verdict(reply) == score


def judged_answer() -> Answer:
    tts = Paper(id="tts", title="Transformer TTS", abstract="It trains 4.25 times faster than Tacotron2.")
    wrn = Paper(id="wrn", title="Wide ResNets", abstract="Wide residual networks beat deep ones.")
    return Answer(
        question="q",
        text="It trains 4.25 times faster [1]. Wide nets win [2]. The moon is cheese [unsupported].",
        citations=[Citation(number=1, paper=tts), Citation(number=2, paper=wrn)],
        sources=[Hit(paper=tts, score=1.0, passage="PASSAGE-TTS"), Hit(paper=wrn, score=0.9, passage="PASSAGE-WRN")],
        sentences=[
            SentenceCheck(text="It trains 4.25 times faster.", citations=[1]),
            SentenceCheck(text="Wide nets win.", citations=[2]),
            SentenceCheck(text="The moon is cheese.", citations=[], supported=False),
            SentenceCheck(text="", citations=[], supported=True),  # no claim: not judged
        ],
    )


def test_judge_scores_each_cited_claim_against_its_cited_source(tmp_path) -> None:
    prompts: list[str] = []

    def complete(messages: list[dict[str, str]]) -> str:
        prompt = messages[-1]["content"]  # the case itself, after the worked examples
        assert [m["role"] for m in messages] == ["user", "assistant"] * 2 + ["user"]
        prompts.append(prompt)
        if "Reference answer" in prompt:
            return "partly: the speed-up is right"
        return "yes" if "PASSAGE-TTS" in prompt else "I cannot tell"

    judge = Judge(Settings(data_dir=tmp_path, judge_model="m"), complete=complete)
    result = judge.judge("How fast?", judged_answer(), "4.25 times faster")
    # claim 1 supported, claim 2 unparsed (left out), claim 3 uncited: 0 without a call -> (1 + 0) / 2
    assert result.faithfulness == 0.5 and result.correctness == 0.5 and result.unparsed == 1
    assert len(prompts) == 3  # two cited claims and the correctness question
    assert "PASSAGE-TTS" in prompts[0] and "PASSAGE-WRN" not in prompts[0] and "4.25 times faster" in prompts[0]
    assert "PASSAGE-WRN" in prompts[1] and "PASSAGE-TTS" not in prompts[1]
    records = result.records()
    assert [(r["kind"], r["score"], r["raw"], r["parsed"]) for r in records] == [
        ("faithfulness", 1.0, "yes", True),
        ("faithfulness", None, "I cannot tell", False),
        ("faithfulness", 0.0, None, True),
        ("correctness", 0.5, "partly: the speed-up is right", True),
    ]
    assert records[0]["citations"] == [1] and records[0]["claim"] == "It trains 4.25 times faster."


def test_judge_skips_faithfulness_of_an_abstention_and_correctness_without_a_reference(tmp_path) -> None:
    judge = Judge(Settings(data_dir=tmp_path, judge_model="m"), complete=lambda messages: "yes")
    abstained = judged_answer().model_copy(update={"abstained": True})
    assert judge.judge("q", abstained, None).verdicts == []
    result = judge.judge("q", judged_answer(), "")
    assert result.correctness is None and all(v.kind == "faithfulness" for v in result.verdicts)
    assert result.faithfulness == pytest.approx(2 / 3)  # two supported, one uncited


def test_metrics_equal_ir_measures_on_random_rankings() -> None:
    """nDCG@10, MRR@10 and recall@k against trec_eval's (via ir-measures) on 60 random graded queries."""
    import random

    import ir_measures
    from ir_measures import RR, R, nDCG

    rng = random.Random(7)
    docs = [f"d{i}" for i in range(40)]
    qrels, run, ours = [], [], {"ndcg": [], "rr": [], "r5": [], "r100": []}
    for q in range(60):
        qid = f"q{q}"
        grades = {d: rng.choice([0, 1, 1, 2, 3]) for d in rng.sample(docs, rng.randint(1, 8))}
        ranked = rng.sample(docs, rng.randint(0, 30))
        qrels += [ir_measures.Qrel(qid, d, g) for d, g in grades.items()]
        run += [ir_measures.ScoredDoc(qid, d, float(len(ranked) - i)) for i, d in enumerate(ranked)]
        ours["ndcg"].append(ndcg_at_k(ranked, grades, 10))
        ours["rr"].append(mrr_at_k(ranked, grades, 10))
        ours["r5"].append(recall_at_k(ranked, grades, 5))
        ours["r100"].append(recall_at_k(ranked, grades, 100))
    # trec_eval skips a query with no retrieved document; so does this comparison
    kept = {s.query_id for s in run}
    qrels = [r for r in qrels if r.query_id in kept]
    ref = ir_measures.calc_aggregate([nDCG @ 10, RR @ 10, R @ 5, R @ 100], qrels, run)
    index = [i for i in range(60) if f"q{i}" in kept]
    for name, measure in (("ndcg", nDCG @ 10), ("rr", RR @ 10), ("r5", R @ 5), ("r100", R @ 100)):
        assert round(mean([ours[name][i] for i in index]), 6) == round(ref[measure], 6), name
    assert 0.1 < ref[nDCG @ 10] < 0.9  # a spread of values, not all zeros or ones
