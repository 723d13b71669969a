"""One calibrated verdict: the checks' signals feed one logistic model; what a held-back answer lacks and whether
it is partial or abstained is read from the signals; RAG_VERDICT=rules keeps the old chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answering import Answerer
from rag.config import Settings
from rag.index.embedders import HashEmbedder
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper
from rag.verdict import FEATURES, Signals, VerdictModel, shipped_model
from tests.test_sufficiency import DIARIZATION, FakeTerms

ZEROS = tuple(0.0 for _ in FEATURES)
ONES = tuple(1.0 for _ in FEATURES)


def model_on(feature: str, weight: float, cut: float = 0.5, intercept: float = 0.0) -> VerdictModel:
    coef = tuple(weight if f == feature else 0.0 for f in FEATURES)
    return VerdictModel(ZEROS, ONES, coef, intercept, cut)


def test_the_probability_follows_the_coefficients_and_the_cut_decides() -> None:
    model = model_on("coverage", 8.0, intercept=-4.0)  # p = 0.5 at coverage 0.5
    low, high = Signals(asks="description", coverage=0.2), Signals(asks="description", coverage=0.9)
    assert model.probability(low) < 0.5 < model.probability(high)
    assert not model.answers(low) and model.answers(high)
    assert not model_on("coverage", 8.0, cut=0.99, intercept=-4.0).answers(high)  # a stricter cut holds it back


def test_a_model_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    data = model_on("coverage", 1.0).to_json()
    assert VerdictModel.from_json(json.loads(json.dumps(data))) == model_on("coverage", 1.0)
    data["features"] = ["coverage"]
    with pytest.raises(ValueError, match="calibrate_verdict"):
        VerdictModel.from_json(data)


def test_the_shipped_model_loads_and_matches_the_features() -> None:
    model = shipped_model()
    assert model is not None and len(model.coef) == len(FEATURES) and 0.0 < model.cut < 1.0


def checker(model: VerdictModel | None) -> SufficiencyChecker:
    return SufficiencyChecker(
        FakeTerms({"callhom": 2, "diariz": 5, "ami": 3}), partial_coverage=0.4, abstain_coverage=0.1, model=model
    )


def test_with_a_model_one_probability_decides_and_the_signals_say_what_is_missing() -> None:
    q = analyze("What DER does the diarization method reach on AMI?")  # AMI: a name the abstract does not hold
    text = [DIARIZATION.abstract]
    assert checker(None).check(q, text, [DIARIZATION]).status == "partial"  # the rules: a name is missing
    trusting = model_on("coverage", 0.0, cut=0.4)  # p = 0.5 whatever the signals
    assert checker(trusting).check(q, text, [DIARIZATION]).status == "answered"
    doubting = model_on("coverage", 0.0, cut=0.6)
    verdict = checker(doubting).check(q, text, [DIARIZATION])
    assert verdict.status == "partial" and verdict.missing == "mention AMI" and "model" in verdict.reasons
    assert verdict.signals is not None and verdict.signals.names_missing == ("AMI",)


def test_a_held_back_answer_about_something_no_abstract_names_is_an_abstention() -> None:
    q = analyze("What DER does Zyxwv reach on CALLHOME?")
    verdict = checker(model_on("coverage", 0.0, cut=0.6)).check(q, [DIARIZATION.abstract], [DIARIZATION])
    assert verdict.status == "abstained" and verdict.signals.names_unknown == ("Zyxwv",)


def test_rag_verdict_picks_the_model_or_the_rules(tmp_path: Path) -> None:
    rules = Answerer(Settings(data_dir=tmp_path, verdict="rules"), HashEmbedder())
    assert rules.sufficiency.model is None
    model = Answerer(Settings(data_dir=tmp_path, verdict="model"), HashEmbedder())
    assert model.sufficiency.model is shipped_model()


def test_the_judge_passes_what_retrieval_and_citation_checking_found(tmp_path: Path) -> None:
    from tests.fakes import fake_assistant, write_jsonl

    paper = Paper(id="d", title=DIARIZATION.title, abstract=DIARIZATION.abstract)
    assistant = fake_assistant(tmp_path / "data", verdict="rules")
    assistant.ingest([write_jsonl(tmp_path / "p.jsonl", [paper.model_dump(include={"id", "title", "abstract"})])])
    answer = assistant.ask("What DER does the end-to-end speaker diarization method report on CALLHOME?")
    assert answer.signals is not None
    assert answer.signals["relevance"] > 0 and answer.signals["support"] > 0 and answer.signals["asks_number"] == 1.0
    assert "signals" not in answer.model_dump()  # diagnostics, not part of the API
