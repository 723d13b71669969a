"""Questions about a paper's record (authors, year, venue, code link): answered from the record when it gives
the field, else partial naming what the record does not give; never a relevant abstract sentence passed off as
the answer. Other questions that mention authors or code are not taken for record questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Assistant
from rag.metadata import asks_metadata, record_field, without_field_words
from tests.fakes import fake_assistant, write_jsonl

PAPERS = [
    {
        "id": "wavenet-x",
        "title": "WaveFlowNet: parallel waveform synthesis with normalizing flows",
        "abstract": "WaveFlowNet synthesises raw audio waveforms in parallel with normalizing flows. Listeners "
        "prefer WaveFlowNet waveform synthesis to autoregressive baselines. Code is available at "
        "https://github.com/example/waveflownet.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "date": "2019-05-02",
    },
    {
        "id": "graphpool-y",
        "title": "GraphPoolNet: learned pooling for molecular graphs",
        "abstract": "GraphPoolNet learns pooling functions for molecular graph property prediction. GraphPoolNet "
        "improves molecular property prediction on standard molecular graph benchmarks.",
    },
]


@pytest.fixture
def assistant(tmp_path: Path) -> Assistant:
    a = fake_assistant(tmp_path / "data")
    a.ingest([write_jsonl(tmp_path / "papers.jsonl", PAPERS)])
    return a


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ("Who wrote WaveFlowNet?", "authors"),
        ("who are the authors of the graphpoolnet paper", "authors"),
        ("Is the WaveFlowNet code available anywhere?", "code"),
        ("Where can I find the implementation of GraphPoolNet?", "code"),
        ("graphpoolnet toolbox link", "code"),  # a keyword query
        ("What does the GraphPoolNet toolbox contain?", None),
        ("How well does the software link prediction module perform on FB15k-237?", None),
        ("Which conference was GraphPoolNet published at?", "venue"),
        ("When was WaveFlowNet published?", "year"),
        ("What do the authors of WaveFlowNet propose?", None),  # about findings, not the record
        ("How many lines of code does the method need?", None),
        ("When does pooling fail on molecular graphs?", None),
    ],
)
def test_which_questions_ask_for_a_record_field(question: str, field: str | None) -> None:
    assert asks_metadata(question) == field


def test_the_field_words_are_dropped_to_find_the_paper() -> None:
    assert without_field_words("Who wrote WaveFlowNet?") == "WaveFlowNet?"


def test_fields_the_record_gives_are_answered_from_it(assistant: Assistant) -> None:
    authors = assistant.ask("Who wrote WaveFlowNet waveform synthesis?")
    assert authors.status == "answered" and authors.citations[0].paper.id == "wavenet-x"
    assert "Ada Lovelace and Alan Turing" in authors.text and "[1]" in authors.text
    year = assistant.ask("When was WaveFlowNet waveform synthesis published?")
    assert year.status == "answered" and "2019-05-02" in year.text
    code = assistant.ask("Is the WaveFlowNet waveform synthesis code available anywhere?")
    assert code.status == "answered" and "https://github.com/example/waveflownet" in code.text


def test_fields_the_record_lacks_are_named_not_guessed(assistant: Assistant) -> None:
    for question, field in [
        ("Who wrote GraphPoolNet molecular graph pooling?", "authors"),
        ("Which conference was GraphPoolNet molecular graph pooling published at?", "venue"),
        ("Is the GraphPoolNet molecular graph pooling code available anywhere?", "code link"),
    ]:
        answer = assistant.ask(question)
        assert answer.status == "partial", question
        assert answer.missing == f"give the {field}" and answer.citations[0].paper.id == "graphpool-y"
        assert "improves molecular property prediction" not in answer.text  # no abstract sentence as the answer


def test_a_preamble_that_mentions_code_does_not_make_a_record_question(assistant: Assistant) -> None:
    # the reader's context ("an implementation") is not what is asked: the question proper asks for a name
    question = (
        "I need a GPU-capable implementation, open-source if possible. Which pooling method learns pooling "
        "functions for molecular graph property prediction?"
    )
    answer = assistant.ask(question)
    assert answer.missing != "give the code link" and answer.citations[0].paper.id == "graphpool-y"
    assert "GraphPoolNet" in answer.text
    # a question proper that asks for the code still does, after a preamble
    code = assistant.ask("I want to reproduce GraphPoolNet molecular graph pooling; is its code available anywhere?")
    assert code.status == "partial" and code.missing == "give the code link"


def test_a_question_proper_that_says_too_little_is_read_with_its_preamble(assistant: Assistant) -> None:
    answer = assistant.ask("The GraphPoolNet molecular graph pooling code is what I need. Is there a link?")
    assert answer.status == "partial" and answer.missing == "give the code link"
    assert record_field("I need WaveFlowNet's publication year. Do you know it?", "Do you know it?") == "year"
    # a yes/no question proper is read with its preamble too
    preamble = "I could not find the GraphPoolNet code anywhere. Do the authors provide a repository for it?"
    assert record_field(preamble, "Do the authors provide a repository for it?", "yesno") == "code"
    assert record_field(preamble, "Do the authors provide a repository for it?", "name") is None
