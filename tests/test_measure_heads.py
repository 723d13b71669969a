"""What a number question measures, read more closely: the head of its measure names it, not a plain word before
the head ("what cable length": the cable's quality factor is no length); a count is a whole number, not a share
("how many atoms": 91.9% is none); a measure may end at the participle that reports it ("the T2 time measured on");
uncertainty and fidelity are measures; number words from thirteen to ninety are quantities. Cases in the manner of
a quantum-physics paraphrase set's dev split (helper-41)."""

from __future__ import annotations

import pytest

from rag.measures import counted, measure_of, naming_stems
from rag.quantities import quantities
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper
from tests.fakes import TermCounts


def _status(question: str, sentence: str) -> str:
    paper = Paper(id="p", title="A study", abstract=sentence)
    words = {w.strip(".,?").lower(): 5 for w in f"{question} {sentence}".split()}
    return SufficiencyChecker(TermCounts(words)).check(analyze(question), [sentence], [paper]).status


@pytest.mark.parametrize(
    ("phrase", "kept", "dropped"),
    [
        ("cable length", {"length"}, {"cabl"}),  # a plain modifier names the cable, not its length
        ("coherence time", {"time"}, {"coher"}),
        ("T2 coherence time", {"t2", "time"}, {"coher"}),  # a symbol names the measure on its own
        ("BLEU score", {"bleu"}, set()),  # so does an acronym
        ("error rate", {"error", "rate"}, set()),  # and a measure of its own
        ("parameter count", {"paramet", "count"}, set()),  # a count names what it counts
        ("accuracy gain", {"accuraci", "gain"}, set()),  # a change names what changes
        ("latency", {"latenc"}, set()),
    ],
)
def test_the_head_of_a_measure_names_it(phrase: str, kept: set[str], dropped: set[str]) -> None:
    measure, read = measure_of(phrase.split())
    stems = set(naming_stems(measure, read))
    assert kept <= stems and not dropped & stems


def test_a_figure_next_to_a_modifier_is_not_the_measure() -> None:
    question = "What cable length did the modular interconnect use?"
    assert _status(question, "The interconnect uses a coaxial cable with a quality factor of 1.7e6.") == "partial"
    assert _status(question, "The interconnect uses a coaxial cable length of 2 m.") == "answered"


def test_a_count_is_not_stated_by_a_share() -> None:
    question = "How many atoms are in the optimized ensemble?"
    assert _status(question, "Optimizing the atomic ensemble raises the probability from 77% to 91.9%.") == "partial"
    assert _status(question, "The optimized atomic ensemble holds 120 atoms.") == "answered"
    assert _status(question, "The optimized ensemble holds eighteen atoms.") == "answered"


@pytest.mark.parametrize(
    ("found", "counts"),
    [
        (
            ["77%", "2.5 ms", "double", "12", "1,200", "7B", "eighteen", "three out of four"],
            ["12", "1,200", "7B", "eighteen", "three out of four"],
        ),
    ],
)
def test_a_count_is_a_whole_number(found: list[str], counts: list[str]) -> None:
    assert counted("How many qubits are used?", "qubits", found) == counts
    assert counted("How many hours did training take?", "hours", found) == found  # a count of a unit
    assert counted("How many times faster is it?", "", found) == found  # a multiplier
    assert counted("What accuracy does it reach?", "accuracy", found) == found  # no count


@pytest.mark.parametrize(
    "question",
    [
        "Give the T2 coherence time measured on the 35-qubit device.",
        "What is the dephasing time observed in the second sample?",
        "Tell me the systematic uncertainty of the optical clock.",
        "What is the two-qubit gate fidelity of the processor?",
    ],
)
def test_a_measure_reported_by_a_participle_or_a_measure_of_the_sciences_asks_a_number(question: str) -> None:
    assert analyze(question).asks == "number"


def test_number_words_to_ninety_are_quantities() -> None:
    assert quantities("It revealed eighteen modes across forty samples and fifteen sites.") == [
        "eighteen",
        "forty",
        "fifteen",
    ]
