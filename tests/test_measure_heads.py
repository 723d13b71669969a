"""What a number question measures, read more closely: a count is not stated by a share or a figure in a unit
("how many atoms": 91.9% is none), unless a share of the things counted; a measure may end at the participle
that reports it ("the T2 time measured on"); number words from thirteen to ninety, and "trillion", are
quantities; a number asked in round figures ("about 97%") is found written precisely. Cases in the manner of a
quantum-physics paraphrase set's dev split (helper-41), and from attacks on earlier versions (helper-42,
helper-43)."""

from __future__ import annotations

import pytest

from rag.measures import asks_count, counts_in
from rag.normalise import rounds_to
from rag.quantities import quantities
from rag.query import analyze
from tests.fakes import sentence_status as _status


def test_a_count_is_not_stated_by_a_share() -> None:
    question = "How many atoms are in the optimized ensemble?"
    assert _status(question, "Optimizing the atomic ensemble raises the probability from 77% to 91.9%.") == "partial"
    assert _status(question, "The optimized atomic ensemble holds 120 atoms.") == "answered"
    assert _status(question, "The optimized ensemble holds eighteen atoms.") == "answered"


def test_a_count_is_a_whole_number_a_scale_or_a_share_of_what_is_counted() -> None:
    found = ["77%", "20–30%", "2.5 ms", "12 h", "double", "12", "1,200", "7B", "1.2M", "eighteen", "4-8", "2.3"]
    counts = ["12", "1,200", "7B", "1.2M", "eighteen", "4-8", "2.3"]
    assert asks_count("How many qubits are used?", "qubits") and counts_in(found, "", ()) == counts
    sentence = "Burnout was reported by 38.5% of surveyed respondents, and 20–30% of clinics closed."
    assert counts_in(["38.5%"], sentence, ("respond",)) == ["38.5%"]  # "how many respondents reported burnout"
    assert counts_in(["38.5%"], sentence, ("clinic",)) == []  # "how many clinics reported burnout"


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("How many hours did training take?", "hours"),  # a count of a unit
        ("What accuracy does it reach with a small number of labels?", "accuracy"),  # the count is not what is asked
        ("I have a limited number of GPUs. What speedup does it give?", "speedup"),
        ("What is the mean number of lesions per patient?", "lesions"),  # an average
        ("How many fewer parameters does the pruned model have?", "fewer parameters"),  # a difference: "40% fewer"
        ("How many times faster is it?", ""),
    ],
)
def test_other_questions_ask_no_count_and_keep_every_quantity(question: str, phrase: str) -> None:
    assert not asks_count(question, phrase)


@pytest.mark.timeout(20)
def test_a_repeated_share_is_read_in_linear_time() -> None:
    sentence = "atoms hold 91.9% of the total mass; " * 3000  # 100 kB
    found = ["91.9%"] * 3000
    assert counts_in(found, sentence, ("atom",)) == []  # a first version: 90 s


@pytest.mark.parametrize(
    "question",
    [
        "Give the T2 coherence time measured on the 35-qubit device.",
        "What is the sea surface temperature recorded at the buoy?",
    ],
)
def test_a_measure_reported_by_a_participle_asks_a_number(question: str) -> None:
    assert analyze(question).asks == "number"


def test_number_words_to_ninety_are_quantities() -> None:
    assert quantities("It revealed eighteen modes across forty samples and fifteen sites.") == [
        "eighteen",
        "forty",
        "fifteen",
    ]
    assert "trillion" in quantities("trained on 1.4 trillion tokens")


@pytest.mark.parametrize(
    "question",
    [
        "What is the key transcription factor found to regulate Treg differentiation?",  # a factor that is found
        "What is the strongest risk factor observed for readmission?",
        "What is the major risk factor determined by the multivariate regression?",
        "What is the key transcription factor predicted to bind the promoter?",
    ],
)
def test_a_factor_found_or_observed_is_a_name(question: str) -> None:
    assert analyze(question).asks != "number"


def test_a_number_asked_in_round_figures_is_found_written_precisely() -> None:
    question = "Which photodiode was calibrated to about 97% detection efficiency?"
    assert _status(question, "We calibrate the photodiode to a detection efficiency of (97.20 + 0.37)%.") == "answered"
    assert _status(question, "We calibrate the photodiode to a detection efficiency of 95.10%.") == "partial"
    # a number the question does not say is round identifies what it asks about: the 90-day figure is no 30-day one
    assert _status("What is the 30-day mortality after surgery?", "The 90-day mortality after surgery was 29.8%.") == (
        "partial"
    )


@pytest.mark.parametrize(
    ("asked", "stated", "found"),
    [
        ("97", {"97.20"}, True),
        ("3.1", {"3.14"}, True),
        ("3.1", {"3.16"}, False),
        ("4", {"4.4"}, False),  # a one-digit whole number: any figure may round to it
        ("12", {"1" * 60}, False),  # too long to round: no error
    ],
)
def test_rounding(asked: str, stated: set[str], found: bool) -> None:
    assert rounds_to(asked, stated) is found
    assert rounds_to(asked, stated, f"What reached about {asked}%?") is found
    assert rounds_to(asked, stated, f"What reached {asked}%?") is False


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # a number before another noun often counts the asked thing under another name (helper-76, helper-77): a
        # rule that a number placing other things ("recruited from 14 hospitals") is no count was measured and
        # dropped, as it refused 46 of helper-77's 60 right answers for one never-read near miss held
        ("How many participants were enrolled?", "We enrolled 1,204 adults as participants."),
        ("How many qubits were used?", "Qubit readout was performed on 17 superconducting transmons."),
        ("How many patients were studied?", "Patients' records came from 2.1 million adults."),
        ("How many trainable parameters does the model have?", "The total number of trainable parameters is 1.2M."),
        ("How many studies were included?", "We included 48 studies per PRISMA guidelines."),
    ],
)
def test_a_number_before_another_name_for_the_counted_thing_still_counts(question: str, sentence: str) -> None:
    assert _status(question, sentence) == "answered"
