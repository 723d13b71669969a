"""Number questions in the words of the physical sciences: a count of "large language models" keeps its noun and
is answered by "25 LLMs"; a comparison of a two-word metric measures it ("how much larger is the band gap"); and an
abstract's siunitx markup (`\\qty{0.17}{\\electronvolt}`) reads as the number and unit it stands for. Cases from a
number set over condensed-matter abstracts (rag/data/qa/numbers_cm.jsonl, dev split), and from two attacks
(helper-38, helper-39) on earlier versions."""

from __future__ import annotations

import pytest

from rag.corpus.fields import object_to_paper
from rag.corpus.latex import unwrap_latex
from rag.corpus.records import RawPaper
from rag.corpus.siunitx import unit
from rag.quantities import quantities
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper
from tests.fakes import TermCounts


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("What is the maximum tolerated dose?", "maximum tolerated dose"),  # a participle inside the measure
        ("What is the mean squared error?", "mean squared error"),
        ("What was the maximum speed?", "maximum speed"),
    ],
)
def test_a_participle_or_a_word_in_ed_stays_in_the_measure(question: str, phrase: str) -> None:
    assert analyze(question).measure_phrase == phrase


def test_a_count_of_things_named_with_a_generic_noun_keeps_the_noun_and_its_initials() -> None:
    q = analyze("How many large language models were evaluated in the materials-knowledge study?")
    assert q.measure_phrase == "large language models" and "llm" in q.measure
    sentence = "Evaluating 25 LLMs across four materials science tasks, we find gaps."
    paper = Paper(id="m", title="Probing materials knowledge in LLMs", abstract=sentence)
    checker = SufficiencyChecker(TermCounts({w: 5 for w in "large language models evaluated".split()}))
    assert checker.check(q, [sentence], [paper]).status == "answered"


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("What accuracy models achieve on ImageNet?", "accuracy models"),  # not the verb after the noun
        ("How many tokens models see during pretraining?", "tokens models"),
    ],
)
def test_a_generic_noun_ends_the_measure(question: str, phrase: str) -> None:
    assert analyze(question).measure_phrase == phrase


def test_a_comparison_of_a_two_word_measure_measures_it() -> None:
    q = analyze("How much larger is the band gap of the ZnSe2 monolayer than that of the pyrite phase?")
    assert q.measure_phrase == "band gap"


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"an error of approximately \qty{0.17}{\electronvolt}", "an error of approximately 0.17 eV"),
        (r"a dataset of \num{747} emitters", "a dataset of 747 emitters"),
        (r"a cost reduction of over \qty{99}{\percent}", "a cost reduction of over 99%"),
        (r"an angle range of \qtyrange{50}{90}{\degree}", "an angle range of 50–90°"),
        (r"from \SIrange{-5}{5}{\degree}", "from -5 to 5°"),  # a negative bound: not "-5-5"
        (r"a yield of $\SI{25.9}{\percent}$ at $T = \SI{5}{\kelvin}$", "a yield of 25.9% at T = 5 K"),  # in math
        (r"\SI{5}{\mu m}, \SI{3}{\AA}, \SI{50}{\Omega}, \SI{5}{^\circ C}", "5 μm, 3 Å, 50 Ω, 5 °C"),  # symbols
        (r"\SI{2}{mg\,kg^{-1}} and \SI{5}{\micro m}", "2 mg kg^-1 and 5 μm"),  # a thin space; a prefix on a letter
        (r"\SI{3}{\metre\second}, \SI{5}{\mathrm{\mu m}}", "3 m s, 5 μm"),  # a product is not "ms"; a wrapper
        (r"\SI{5}{\text{cells}\per\micro\litre}", "5 cells/μL"),
        (r"\SI{1.2e-3}{\ohm} and \num{1.0(3)e5}", "1.2×10⁻³ Ω and 1.0(3)×10⁵"),
        (r"\unit[500]{nm} and \si[per-mode=symbol]{\metre\per\second}", "500 nm and m/s"),
        (r"\qty{2}{\metre\tothe{3}}, see \SI{}{}", "2 m^3, see SI"),  # "\SI{}{}": no number, left as it was
        (r"costs \$a_1 for \qty{3}{\metre} and \$2 more", "costs $a_1 for 3 m and $2 more"),  # escaped: no math
        (r"\SI{3.5}{\milli\second} and \SI[per-mode=symbol]{2}{\metre\per\second}", "3.5 ms and 2 m/s"),
        (r"over \qty{1}{\square\centi\metre} at \qty{10}{\kelvin\per\minute}", "over 1 cm² at 10 K/min"),
        (r"from \numrange{1}{5} and \ang{45}, in \si{\giga\hertz}", "from 1–5 and 45°, in GHz"),
        (r"a \qty{5}{mm} gap", "a 5 mm gap"),  # a unit written out stays
    ],
)
def test_siunitx_quantities_read_as_their_number_and_unit(latex: str, text: str) -> None:
    assert unwrap_latex(latex) == text


def test_a_siunitx_quantity_is_a_quantity_a_number_question_finds() -> None:
    sentence = unwrap_latex(r"Validation reveals a mean absolute error of approximately \qty{0.17}{\electronvolt}.")
    assert quantities(sentence) == ["0.17"]  # was none: "qty0.17electronvolt"
    q = analyze("What mean absolute error against the experimental gaps was reported?")
    paper = Paper(id="x", title="xTB benchmark", abstract=sentence)
    checker = SufficiencyChecker(TermCounts({w: 5 for w in "mean absolute error experimental gaps".split()}))
    assert checker.check(q, [sentence], [paper]).status == "answered"


def test_a_record_s_title_and_abstract_are_read_with_their_quantities_written_out() -> None:
    record = {"id": "1", "title": r"A gap of \qty{2}{\electronvolt}", "abstract": r"An error of \SI{1.2e-3}{\ohm}."}
    paper = object_to_paper(record, "export.jsonl", 1)
    assert isinstance(paper, RawPaper)
    assert (paper.title, paper.abstract) == ("A gap of 2 eV", "An error of 1.2×10⁻³ Ω.")


def test_an_authors_own_unit_macro_keeps_its_name() -> None:
    assert unit(r"\micro\myunit") == "μmyunit" and unit(r"\kilo\gram") == "kg"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("markup", ["\\qty[" * 20000, "\\qty{1}{" * 20000, "\\SI" + " " * 100000 + "x"])
def test_markup_left_open_is_read_in_linear_time(markup: str) -> None:
    assert unwrap_latex(markup)  # was 17 s for the first
