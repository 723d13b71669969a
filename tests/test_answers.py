"""Grounded answers over the bundled index: extractive default, bundled local LLM, abstention, follow-ups."""

from __future__ import annotations

import pytest

from rag import Assistant
from rag.answering import resolve_backend
from rag.citations import UNSUPPORTED
from rag.config import Settings
from rag.generation.prompts import NO_ANSWER
from rag.types import Answer, Hit
from tests.conftest import model_answered

pytestmark = pytest.mark.slow


def assert_grounded(answer: Answer) -> None:
    """Every sentence carries a supporting citation or is marked unsupported; numbers are 1..n in order."""
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for sentence in answer.sentences:
        assert sentence.supported == bool(sentence.citations)  # support is a cited source's, never a fragment's
        if sentence.claim and not sentence.supported:
            assert UNSUPPORTED in answer.text


def test_offline_default_is_extractive_without_a_key() -> None:
    assert resolve_backend(Settings()) == "extractive"
    assert resolve_backend(Settings(openai_base_url="http://127.0.0.1:9/v1")) == "openai"


def test_extractive_answer_cites_the_right_paper_with_the_fact(bundled: Assistant) -> None:
    answer = bundled.ask("How much faster does the Transformer-based text-to-speech model train than Tacotron2?")
    assert not answer.abstained and answer.backend == "extractive"
    assert "4.25" in answer.text and "[1]" in answer.text
    assert [c.paper.title for c in answer.citations] == ["Neural Speech Synthesis with Transformer Network"]
    assert "4.25" in answer.citations[0].quote  # the quote is the sentence that carries the fact
    assert answer.sources and answer.timings["retrieve_s"] > 0
    assert_grounded(answer)


def test_list_question_cites_several_papers(bundled: Assistant) -> None:
    answer = bundled.ask("Which papers propose post-training quantization methods?")
    titles = {c.paper.title for c in answer.citations}
    assert {
        "FlexRound: Learnable Rounding based on Element-wise Division for Post-Training Quantization",
        "Post-training Quantization for Neural Networks with Provable Guarantees",
    } <= titles
    assert_grounded(answer)


def test_unanswerable_question_abstains_and_lists_closest_papers(bundled: Assistant) -> None:
    answer = bundled.ask("Who won the 2018 FIFA World Cup?")
    assert answer.abstained and answer.citations == []
    assert answer.text.startswith(NO_ANSWER) and "closest papers" in answer.text


def test_follow_up_uses_the_history(bundled: Assistant) -> None:
    history = [
        {"role": "user", "content": "Which paper learns activation functions as flexible rational functions?"},
        {"role": "assistant", "content": "Padé Activation Units [1]."},
    ]
    answer = bundled.ask("What are they called for short?", history=history)
    assert answer.standalone_question and "rational functions" in answer.standalone_question
    assert "PAU" in answer.text
    assert answer.citations[0].paper.title.startswith("Padé Activation Units")


def test_stream_yields_text_then_the_answer(bundled: Assistant) -> None:
    items = list(bundled.stream("Which toolkit for end-to-end speech processing uses Kaldi-style recipes?"))
    assert isinstance(items[-1], Answer) and all(isinstance(i, str) for i in items[:-1])
    assert "ESPnet" in "".join(items[:-1])


def test_year_and_source_filters_reach_the_answer(bundled: Assistant) -> None:
    # only file 002 dates its papers; six of them are also in file 003: each filter alone would let others in
    source = "003_28f825f1be2bc2af.txt"

    def from_source(h: Hit) -> bool:
        return any(source in s for s in h.paper.sources)

    def in_years(h: Hit) -> bool:
        return h.paper.year is not None and 2018 <= h.paper.year <= 2020

    both = bundled.ask("deep learning networks", year=(2018, 2020), sources=[source])
    assert len(both.sources) >= 2 and all(from_source(h) and in_years(h) for h in both.sources)
    by_source = bundled.ask("deep learning networks", sources=[source])
    assert by_source.sources and all(from_source(h) for h in by_source.sources)
    assert not all(in_years(h) for h in by_source.sources)  # the year filter is what removed the undated ones
    by_year = bundled.ask("deep learning networks", year=(2018, 2020))
    assert by_year.sources and all(in_years(h) for h in by_year.sources)
    assert not all(from_source(h) for h in by_year.sources)  # the source filter is what removed file 002's own


def test_bundled_local_llm_answers_and_its_citations_are_checked(bundled: Assistant) -> None:
    answer = bundled.ask(
        "What technique approximates codeword selection when compacting binary neural networks?", backend="local"
    )
    if model_answered(answer, "local"):
        assert answer.model.startswith("SmolLM2")
    assert answer.usage["completion_tokens"] > 0 and answer.usage["prompt_tokens"] > 100
    assert answer.abstained or answer.sentences
    assert_grounded(answer)
