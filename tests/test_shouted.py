"""A question typed with caps lock on reads as the same question in ordinary case: capitals alone made every word a
name ("No indexed abstract seems to mention ARE")."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.query import analyze
from rag.words import unshouted

SHOUTED = [
    (
        "WHICH BLEU SCORE DID THE DEEP LSTM REACH ON THE WMT'14 ENGLISH TO FRENCH TEST SET?",
        "Which BLEU score did the deep LSTM reach on the WMT'14 English to French test set?",
    ),
    ("HOW MANY SPEAKERS ARE IN THE UZBEK SPEECH CORPUS?", "How many speakers are in the Uzbek speech corpus?"),
    ("WHICH PAPER PROPOSES WIDE RESIDUAL NETWORKS?", "Which paper proposes wide residual networks?"),
    ("WHAT'S THE BLEU SCORE OF THE DEEP LSTM ON WMT'14?", "What's the BLEU score of the deep LSTM on WMT'14?"),
]


def test_a_shouted_question_reads_as_typed_in_lower_case_but_for_words_with_digits_or_greek_letters() -> None:
    assert unshouted("HOW MANY SPEAKERS ARE IN THE UZBEK SPEECH CORPUS?") == (
        "how many speakers are in the uzbek speech corpus?"
    )
    assert unshouted("WHAT'S THE BLEU OF THE LSTM ON WMT'14?") == "what's the bleu of the lstm on WMT'14?"
    assert unshouted("WHAT IS THE ROLE OF TNF-Α IN SEPSIS?") == "what is the role of TNF-α in sepsis?"
    assert unshouted("DOES DROPOUT HELP?") == "does dropout help?"


@pytest.mark.parametrize(
    "text",
    [
        "LSTM BLEU WMT14",  # a keyword query of acronyms: one stop word at most
        "What is the role of TNF-Α in sepsis?",  # a lower-case letter: the capitals are the writer's
        "BERT VS GPT",  # no stop word
        "THE LSTM",  # two words
    ],
)
def test_text_not_shouted_is_left_as_written(text: str) -> None:
    assert unshouted(text) == text


def test_a_shouted_question_names_nothing_the_same_question_in_ordinary_case_does_not() -> None:
    """Its names are those of the question typed in lower case: words with digits or Greek letters; the sources'
    spellings add the rest when it is answered ("lstm": LSTM)."""
    for shouted, ordinary in SHOUTED:
        assert {n.casefold() for n in analyze(shouted).names} <= {n.casefold() for n in analyze(ordinary).names}
    assert analyze(SHOUTED[0][0]).names == ("WMT'14",)
    assert analyze("WHAT IS THE ROLE OF NF-ΚB IN INFLAMMATION?").names == ("NF-κB",)


@pytest.fixture()
def hashed(hash_bundled_dir: Path) -> Assistant:
    return Assistant(Settings(data_dir=hash_bundled_dir, embed="hash", llm="extractive"))


@pytest.mark.parametrize(("shouted", "ordinary"), SHOUTED)
def test_a_shouted_question_gets_the_answer_of_the_same_question_in_ordinary_case(
    hashed: Assistant, shouted: str, ordinary: str
) -> None:
    loud, calm = hashed.ask(shouted), hashed.ask(ordinary)
    assert calm.status == "answered", calm.text
    assert loud.status == calm.status and loud.missing == calm.missing, loud.text
    assert [c.paper.id for c in loud.citations][:1] == [c.paper.id for c in calm.citations][:1]
