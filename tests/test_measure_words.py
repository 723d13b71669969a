"""Measured quantities the question typer did not know (an uncertainty, a linewidth, "the value of X"), and figures
written as powers: a question asking for one is a number question, answered only by a sentence stating it."""

from __future__ import annotations

import pytest

from rag.quantities import quantities
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper
from tests.fakes import sentence_status
from tests.test_sufficiency import CORPUS

CLOCK = Paper(
    id="c1",
    title="Autonomous multi-ion optical clock with integrated photonics",
    abstract="We demonstrate an optical clock with a short-term frequency instability of 3.1e-14 using four ions. "
    "All operations use light delivered by on-chip waveguides.",
)
AGGREGATION = Paper(
    id="a1",
    title="Edge effects in an aggregation model with input",
    abstract="The single-site mass distribution crosses over from a bulk power law P(m) ~ m^(-4/3) to an edge "
    "power law P(m) ~ m^(-5/3) near the boundaries.",
)


def checker() -> SufficiencyChecker:
    return SufficiencyChecker(CORPUS, partial_coverage=0.0, abstain_coverage=0.0)


@pytest.mark.parametrize(
    ("question", "measured"),
    [
        ("What is the systematic uncertainty of the four-ion clock?", "uncertainti"),
        ("Give the linewidth of the laser used for cooling.", "linewidth"),
        ("What is the value of the Fano factor in the zeroth Landau level?", "fano"),
        ("What is the value of the power-law exponent near the edges?", "expon"),
        ("What is the bulk modulus of the hydrated iodate under compression?", "modulus"),
        ("what is the systematic uncertanity of the clock", "uncertainti"),  # a typo of the measure
        ("what linewidth did they measure for the cooling laser", "linewidth"),
        ("Which quality factor did the resonator reach?", "factor"),
    ],
)
def test_a_question_for_a_measured_quantity_asks_for_a_number(question: str, measured: str) -> None:
    asked = analyze(question)
    assert asked.asks == "number" and measured in asked.measure
    assert "valu" not in asked.measure and "measur" not in asked.measure


@pytest.mark.parametrize(
    "question",
    [  # helper-53: 44 of 87 such questions were typed as asking for a number when these words were metric words
        "What is the value of pretraining for low-resource speech recognition?",
        "What is the value of uncertainty estimates for clinical decision making?",
        "Which level of supervision is needed to train the segmentation model?",
        "What type of uncertainty does the Bayesian model capture?",
        "What contrast agent is used in the imaging study?",
        "What is the strength of the proposed approach compared to prior work?",
        "Which SNR regime is the estimator designed for?",
        "What modulus of elasticity model do they assume?",
        "What shift in paradigm does the paper propose for protein design?",
        "What does the RMSE metric capture that MAE does not?",
        "What overhead camera setup records the experiments?",
        "what linewidth did the transmon have",  # no verb of measuring: a linewidth may be a kind
        "What overhead does the method introduce in practice?",
    ],
)
def test_a_question_naming_a_measure_without_asking_its_figure_asks_no_number(question: str) -> None:
    assert analyze(question).asks != "number"


def test_the_value_of_a_symbol_measured_somewhere_measures_the_symbol_not_the_participle() -> None:
    asked = analyze("What is the value of g2(0) measured at room temperature for the quantum dots?")
    assert asked.asks == "number" and "measur" not in asked.measure


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("an edge power law P(m) ~ m^(-5/3) near the boundaries", ["-5/3"]),
        ("the correlation decays as t^{-1/2}", ["-1/2"]),
        ("an error rate of 10^-3 per gate", ["10", "-3"]),
        ("a rate in s^-1 units", []),  # a unit's power is no figure
        ("steps (1) and 2) then", []),  # list markers
    ],
)
def test_a_negative_power_is_a_stated_figure(text: str, found: list[str]) -> None:
    assert quantities(text) == found


def test_an_uncertainty_the_abstract_does_not_give_is_partial() -> None:
    asked = analyze("What is the systematic uncertainty of the autonomous multi-ion optical clock?")
    sentence = CLOCK.abstract.split(". ")[0] + "."
    verdict = checker().check(asked, [sentence], [CLOCK])
    assert verdict.status == "partial" and "uncertainty" in verdict.missing


def test_an_exponent_written_as_a_power_answers_the_value_of_the_exponent() -> None:
    asked = analyze("What is the value of the power-law exponent of the mass distribution near the edges?")
    verdict = checker().check(asked, [AGGREGATION.abstract], [AGGREGATION])
    assert verdict.status == "answered"


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # a rule that a word of the measure before another noun names another thing ("spin liquid" no spin gap) was
        # dropped: on helper-60's attack it refused 30 sentences stating the figure under another head ("power
        # dissipation of 3.2 mW" for a power consumption); these must stay answered
        ("What spin gap does the model have?", "We find a gap of 0.05 in the spin sector."),
        ("What is the T2 coherence time of the qubit?", "The qubit coherence exceeds 1.2 ms at 10 mK."),
        ("What secret key rate did the link reach?", "The link reached a secret key rate of 1.2 Mbps over 4 km."),
        ("What is the energy consumption of the chip?", "The chip's energy consumption is 3 mJ per inference."),
        ("What is the energy consumed per flip by the chip?", "The chip has an energy consumption of 4.9 nJ per flip."),
        ("What is the power consumption of the chip?", "The chip has a power dissipation of 3.2 mW."),
        ("What is the T2 coherence time of the qubit?", "The qubit shows coherence approaching 1.2 ms."),
    ],
)
def test_a_word_of_the_measure_before_another_noun_or_a_verb_still_names_it(question: str, sentence: str) -> None:
    assert sentence_status(question, sentence) == "answered"


@pytest.mark.parametrize(
    ("question", "phrase"),
    [  # a verb of finding the figure, or a "per" left open, is not what is measured, nor said in what is missing
        ("What is the COCO mAP achieved by the detector?", "COCO mAP"),
        ("What is the value of g2(0) measured at room temperature for the dots?", "g2(0)"),
        ("Tell me the energy consumed per flip by the probabilistic computer.", "energy consumed"),
    ],
)
def test_the_measure_ends_before_a_verb_of_finding_it(question: str, phrase: str) -> None:
    asked = analyze(question)
    assert asked.measure_phrase == phrase
    assert not {"achiev", "measur", "per"} & set(asked.measure)
