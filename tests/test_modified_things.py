"""A metric word that only modifies the thing a what- or which-question asks for ("What error correction code ...?",
"Which distance metric ...?", "What dimensionality reduction technique ...?") does not make it a number question:
it asks which code, metric or technique, and an abstract that names one answers it without a figure. Where the
metric word heads its phrase, or a how-question counts the things, the question still asks a number. A fidelity is a
measure, as an accuracy is; an instability is mostly a phenomenon (helper-47)."""

from __future__ import annotations

import pytest

from rag.measures import modifies_a_thing
from rag.query import analyze
from tests.fakes import sentence_status as _status


@pytest.mark.parametrize(
    "question",
    [
        "What error correction code did they use?",
        "Which distance metric do they use for retrieval?",
        "What dimensionality reduction technique did they apply?",
        "What mean field theory is applied?",
        "What score function does the model learn?",
        "Which noise reduction method performs best?",
        "What time integration scheme is used?",
        "What precision format do they quantize to?",
        "What power allocation strategy do they propose?",
        "Which error mitigation technique is applied to the circuits?",
        "What energy functional was used in the DFT calculations?",
        "What learning rate schedule was used?",
        "which time series model did they pick",  # lower case
        "Tell me the error correction code they used.",  # an imperative
        "What error correction codes were reported?",  # the plural
        "Which fidelity measure do they use?",
        "What accuracy measure did they report?",
        "Which power supply was used?",  # equipment
        "What is the distance metric used?",  # a participle after the thing (helper-47)
        "Name the dimensionality reduction technique used.",
        "Which distance metric gives the best accuracy?",  # the phrase runs into the verb
        "What distance metric for clustering?",
        "What instability drives the pattern formation?",  # a phenomenon, not a measure
        "What error correction code protects the qubits?",  # the thing is the verb's subject
        "Which power allocation scheme maximizes the sum rate?",
        "What learning rate scheduler did they use?",
        "What mean field approximation is used?",
        "What energy detector did the experiment use?",
        # a gerund and a noun after the metric word: the tool is asked (numbers_sys dev)
        "Which trace-driven reuse distance profiling tool was the predictor compared against?",
        "Which reuse distance profiling tool was used?",  # the phrase read ending in the gerund (helper-65)
    ],
)
def test_a_metric_word_modifying_a_named_thing_asks_no_number(question: str) -> None:
    assert analyze(question).asks != "number"


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("What energy consumption was measured?", "energy consumption"),
        ("What learning rate did they use?", "learning rate"),
        ("What code distance was reached?", "code distance"),
        ("What model size did they train?", "size"),
        ("What accuracy does the method reach?", "accuracy"),
        ("How many error correction codes were compared?", "error correction codes"),  # counted
        ("What gate fidelity was achieved?", "gate fidelity"),  # a measure of the physical sciences
        ("What fidelity did the two-qubit gate reach?", "fidelity"),
        ("What size model did they train?", "size model"),  # a magnitude of the thing (helper-47)
        ("What depth network did they use?", "depth network"),
        ("What latency during inference does the model achieve?", "latency"),  # "during" is no gerund (helper-66)
    ],
)
def test_a_metric_heading_its_phrase_still_asks_a_number(question: str, phrase: str) -> None:
    asked = analyze(question)
    assert asked.asks == "number" and asked.measure_phrase == phrase


@pytest.mark.parametrize(
    ("phrase", "modifies"),
    [
        ("error correction code", True),
        ("distance metrics", True),  # the plural
        ("noise reduction methods", True),
        ("energy consumption", False),
        ("code distance", False),
        ("technique", False),  # one word: no metric word before it
    ],
)
def test_modifies_a_thing(phrase: str, modifies: bool) -> None:
    assert modifies_a_thing(phrase) is modifies


def test_a_named_thing_is_answered_without_a_figure() -> None:
    question = "What error correction code did they use to protect the logical qubits?"
    assert _status(question, "The logical qubits are protected by the surface code with lattice surgery.") == (
        "answered"
    )
    assert _status("What code distance did the logical qubits reach?", "The logical qubits use the surface code.") == (
        "partial"
    )
    assert _status("What gate fidelity was achieved?", "The two-qubit gate reached a fidelity of 99.5%.") == "answered"
    unstated = "We demonstrate a fast controlled-phase gate on fluxonium qubits."
    assert _status("What gate fidelity was achieved?", unstated) == "partial"
