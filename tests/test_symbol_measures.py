"""A measure asked in the plural before a verb of finding a figure ("what plasma concentrations were measured?") asks
a number, as in the singular. A measure named by a symbol ("what T1 did the qubit have?") is a number question, and
the symbol is one word however an abstract writes its index ("T₁", "T_1", "R²"). Cases in the manner of a
quantum-physics paraphrase set's dev split (helper-41), and from attacks on the first versions (helper-44,
helper-45). A rule that a number word joined to another noun ("single-photon") gives no figure was dropped, twice:
it turned a held-out answerable question partial (a second, narrower version sparing units and counts did too, for two
read near misses held back); the figures it must not lose stay tested."""

from __future__ import annotations

import pytest

from rag.coverage import question_words
from rag.measures import in_singular, measure_of
from rag.quantities import measured_quantities
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.support import content_words
from rag.types import Paper
from rag.words import terms
from tests.fakes import TermCounts
from tests.fakes import sentence_status as _status


def test_a_verb_of_proposing_is_never_a_word_the_sources_must_hold() -> None:
    """A question's "proposes" is the abstract's "we propose", which is no term: asking it of the abstract made
    "Which paper proposes wide residual networks?" partial ("does not mention proposes")."""
    verbs = "propose proposes proposed proposing present presents presented presenting shows showed showing"
    for verb in verbs.split():
        assert set(question_words(f"Which paper {verb} wide residual networks?")) == {"wide", "residu", "network"}
    assert "studi" in question_words("How many studies were pooled?")  # a counted noun stays asked


@pytest.mark.parametrize("written", ["T1", "T₁", "T_1", "T_{1}", "T$_1$", "t1"])
def test_a_symbol_and_its_index_are_one_word_however_written(written: str) -> None:
    assert content_words(f"the qubit {written} time") == {"qubit", "t1", "time"}


@pytest.mark.parametrize(
    ("question", "symbol"),
    [
        ("what t1 did the transmon have when driven by the pulse generator at 3 k", "t1"),
        ("In the 35-qubit validation where the median T1 was 84 microseconds, what T2 was measured?", "t2"),
        ("Give the qubit T1 measured when the transmon was driven at the 3 K stage.", "t1"),
        ("What R2 does the regression model achieve?", "r2"),
        ("What T₁ did the qubit have?", "t1"),  # the symbol written with its index
        ("what T_1 was measured?", "t1"),
        ("What R² does the model achieve?", "r2"),
    ],
)
def test_a_measure_named_by_a_symbol_asks_a_number(question: str, symbol: str) -> None:
    asked = analyze(question)
    assert asked.asks == "number" and asked.measure == (symbol,)


@pytest.mark.parametrize(
    "question",
    [
        "Which T5 did they use?",  # a model named like a symbol, and no verb of measuring
        "Which T5 model did they fine-tune?",
        "What is the T5 model used for?",
        "Which T5 variant has the most parameters?",
        # a gene, model, brain area or object named like a symbol, its role asked (helper-44)
        "What is the role of p53 in apoptosis?",
        "What is the function of p21?",
        "What are the limitations of S4?",
        "What is the performance of T5 on GLUE?",
        "What is the role of V1 in visual perception?",
        "What was the effect of D3 on fracture risk?",
        # a family named by a symbol, a verb later in the question or in another clause
        "Which T5 variants did they report results for?",
        "Which p53 mutations were reported?",
        "Which E3 ligases are reported to ubiquitinate p53?",
        "Which H2 antagonists were given to patients who had ulcers?",
        # "what is the <symbol> of/in ...": as often a language, a molecule or an area as a measure (helper-45), so
        # "What is the T1 of the fluxonium qubit?" is not read as a number question either
        "What is the L1 of the participants?",
        "What is the H2 for?",
        "What was the V1 in patients?",
    ],
)
def test_a_model_named_like_a_symbol_is_asked_by_name(question: str) -> None:
    assert analyze(question).asks != "number"


def test_a_symbol_asked_is_found_in_its_subscript_form_or_missed() -> None:
    question = "What T1 did the transmon have?"
    assert _status(question, "The transmon reached a T₁ of 84 μs.") == "answered"
    assert _status(question, "We directly compare the qubit lifetime T₁ and coherence time under both setups.") == (
        "partial"
    )
    assert _status("what T2 was measured?", "The transmon reached a median T₁ of 84 μs.") == "partial"
    assert _status("What R2 does the model achieve?", "The model achieves an R² of 0.87.") == "answered"


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # a number word joined by a hyphen is a figure (helper-44, against a rule since dropped)
        ("How many patients were enrolled?", "Twenty-one patients were enrolled in the trial."),
        ("How much did the sensitivity improve?", "We report a ten-fold improvement in sensitivity."),
        ("What was the treatment period?", "Patients received a six-week treatment period."),
        ("What precision are the weights quantized to?", "Weights are quantized to four-bit precision."),
        ("How many layers does the network have?", "We train a two-hidden-layer network."),
    ],
)
def test_a_number_word_joined_by_a_hyphen_is_a_figure(question: str, sentence: str) -> None:
    assert _status(question, sentence) == "answered"


@pytest.mark.timeout(30)
def test_a_long_run_of_measures_and_numbers_is_read_in_near_linear_time() -> None:
    t1, _ = measure_of(["T1"])
    assert len(measured_quantities(t1, "t_{1} " * 16000, 8)) == 16000  # a first version: 39 s
    patients, _ = measure_of(["patients"])
    assert len(measured_quantities(patients, "patients 1 " * 8000, 8)) == 8000  # before: 12 s


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("What plasma norepinephrine concentrations were measured in pregnant women?", "number"),
        ("What hazard ratios were found for death?", "number"),
        ("What error rates does the decoder reach?", "number"),
        ("Which method yields the best results?", "name"),  # a verb, not a plural measure (helper-45)
        ("What counts as a hallucination?", "name"),
        ("Which scores are used to evaluate the summaries?", "name"),  # kinds of measure, not figures
        ("What model sizes were compared?", "name"),
        ("What factors drive burnout among residents?", "name"),
        ("What errors does the parser make most often?", "name"),
        ("What improvements does the new scheduler bring?", "name"),
    ],
)
def test_a_measure_asked_in_the_plural_asks_a_number(question: str, asks: str) -> None:
    assert analyze(question).asks == asks


def test_a_plural_measure_keeps_its_abbreviation() -> None:
    assert "HR" in analyze("What hazard ratios were found for death?").measure
    assert in_singular("Plasma Frequencies")[1] == "Plasma Frequency"  # in the singular, in its own case
    assert in_singular("MASSES")[1] == "MASS"
    assert _status("What hazard ratios were found for death?", "Treatment lowered death (HR 0.72).") == "answered"


@pytest.mark.timeout(30)
def test_a_long_word_is_read_in_linear_time() -> None:
    assert terms("a" * 100_000) == {"a" * 100_000}  # before: 150 s in the hyphenated-word search (helper-44)
    assert terms("single-photon x-ray") >= {"single-photon", "singl", "photon", "x-ray", "ray"}


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [  # "how long is the <thing>?" asks a length as well as a time; "how long was the follow-up?" only a time
        ("How long is the fiber link?", "We send photon pairs over a 25 km deployed fiber link.", "answered"),
        ("How long was the cable?", "The cable length was two kilometres.", "answered"),
        ("How long are the sequencing reads?", "Sequencing reads of 150 bp were obtained.", "answered"),
        ("How long is the fiber link?", "The fiber link carried 10 Gb/s.", "partial"),
        ("How long is the fiber link?", "The fiber link joins 4 nodes.", "partial"),
        ("How long was the median follow-up?", "The median tumour was 3 cm across at follow-up.", "partial"),
        ("How long was each training session?", "Each training session used a 5 m walkway.", "partial"),
        ("How long did the surgery take?", "The surgery left a 4 cm incision.", "partial"),
        ("How long were the mice fed the diet?", "Mice were fed the diet as pellets 5 mm wide.", "partial"),
        ("How long was the fiber link used in the experiment?", "The experiment used a 25-km fiber link.", "answered"),
    ],
)
def test_how_long_a_thing_is_answered_by_a_length_and_how_long_an_event_lasts_by_a_time(
    question: str, sentence: str, status: str
) -> None:
    assert _status(question, sentence) == status


def test_an_answer_without_the_length_asked_says_it_lacks_a_length() -> None:
    paper = Paper(id="p", title="A link", abstract="The fiber link carried 10 Gb/s.")
    question = analyze("How long is the fiber link?")
    verdict = SufficiencyChecker(TermCounts({"fiber": 5, "link": 5})).check(question, [paper.abstract], [paper])
    assert verdict.missing == "say how long it is"


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [  # a span written before a noun phrase is that phrase's: another event's span does not say how long
        (
            "How long did the knee surgery take?",
            "After knee surgery, patients had a two-hour rest.",
            "partial",
        ),
        ("How long was each exercise session?", "Each exercise session began with a five-minute warm-up.", "partial"),
        ("How long was the treatment period?", "After a two-week washout, patients received the drug.", "partial"),
        (
            "How long were the training sessions?",
            "Nurses completed a two-hour simulation training session.",
            "answered",
        ),
        ("How long did the extension last?", "The extension was a 52-week open-label study.", "answered"),
        ("How long did training take?", "Training took 3 days using 8 GPUs.", "answered"),
        ("How long was the follow-up?", "Patients were followed for 24 months after surgery.", "answered"),
    ],
)
def test_a_span_of_another_event_does_not_say_how_long_the_asked_one_lasts(
    question: str, sentence: str, status: str
) -> None:
    assert _status(question, sentence) == status


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [  # a unit of time in a rate or an age is no span; "duration" and "how much time" ask a span as "how long" does
        ("How long was the robot deployed?", "The robot handled 450 items per hour.", "partial"),
        ("How long were the tags worn?", "The tags recorded light levels every 5 minutes.", "partial"),
        ("How long was the follow-up in the trial?", "The trial enrolled children aged 6 to 59 months.", "partial"),
        ("How long were the larvae exposed?", "Larvae were exposed at 5 days post-fertilisation.", "partial"),
        ("How long were the mice fed the diet?", "Three-month-old mice were fed the diet.", "partial"),
        ("What was the duration of the survey period?", "The survey ran over a six-week period.", "answered"),
        ("ketamine infusion duration", "Each ketamine infusion lasted 40 minutes.", "answered"),
        ("How much time does a prediction take?", "A prediction takes 14 seconds on one GPU.", "answered"),
        ("How long were the mice fed the diet?", "Mice were fed the diet for 12 weeks.", "answered"),
    ],
)
def test_a_rate_or_an_age_states_no_span_and_a_duration_is_asked_in_many_words(
    question: str, sentence: str, status: str
) -> None:
    assert _status(question, sentence) == status


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [  # the short spans of physics are spans; a span said to be another thing's duration is that thing's
        ("How long were the laser pulses?", "The driving laser delivers 45-fs pulses.", "answered"),
        ("How long is the coherence time?", "The coherence time of 34 microseconds allows many gates.", "answered"),
        ("How long is the coherence time of the qubits?", "Qubit gates of 20 ns duration reach 99.9%.", "partial"),
        ("How long does the qubit stay coherent?", "The qubit has a pi-pulse duration of 5 ns.", "partial"),
        ("How quickly did patients recover?", "Patients recovered within 2 weeks of surgery.", "answered"),
        # helper-70: real spans the first version dropped
        ("How long was each session?", "Patients attended 12 sessions, each 45 minutes long.", "answered"),
        ("How long were patients followed?", "Patients were followed for 24 months postoperatively.", "answered"),
        ("How long did training take?", "Training took about 3 days total.", "answered"),
        ("How long did the sessions last?", "The sessions lasted 30 minutes then ended.", "answered"),
        ("How long was the alloy aged?", "The alloy was aged 8 h at 180 °C.", "answered"),
        ("How long was the interval between scans?", "Patients were scanned every 6 months.", "answered"),
        ("How long were the seedlings grown?", "Seedlings were grown in 10 cm pots.", "partial"),
        ("How long was the blackout?", "The blackout hit a 40 km stretch of coast.", "partial"),
        ("How long is this fiber spool?", "We use a 25 km fiber spool.", "answered"),
        # a figure read where it stands: the "2" of "2 cameras" is no "2 m" read off the name "LRS2M"
        ("How long was the cable?", "The cable rig recorded LRS2M with 2 cameras.", "partial"),
    ],
)
def test_a_short_span_is_a_span_and_a_span_of_another_thing_is_not_the_asked_one(
    question: str, sentence: str, status: str
) -> None:
    assert _status(question, sentence) == status


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [  # helper-70: "duration" asks a span only where the duration is what is asked
        ("What was the ablation depth at the longest pulse duration?", "The longest pulse lasted 10 ms.", "partial"),
        ("How much time did the new pipeline save?", "The new pipeline cut processing time by 40%.", "answered"),
        ("What was the duration of the surgery?", "Patients were discharged 3 days after surgery.", "partial"),
        ("What was the duration of the surgery?", "The surgery lasted 95 minutes.", "answered"),
        ("How long was the follow-up?", "The follow-up assessed patients 12 months after surgery.", "answered"),
    ],
)
def test_a_duration_asked_and_a_span_after_the_asked_event(question: str, sentence: str, status: str) -> None:
    assert _status(question, sentence) == status


@pytest.mark.timeout(60)
def test_the_span_rules_read_long_hostile_text_in_linear_time() -> None:
    # helper-70: a first version took minutes ("aged" and 26 digits: 34 s; "1," 25,000 times: 24 s)
    for text in ("Participants were aged " + "1" * 30 + " and older.", "1," * 25000 + " It lasted 3 days."):
        assert _status("How long was the study?", text) in {"answered", "partial", "abstained"}


@pytest.mark.parametrize(
    ("question", "sentence", "status"),
    [  # a cost asked with "add" or "incur" asks a figure, and another resource's cost does not give it
        (
            "What memory overhead does the sanitizer add?",
            "The sanitizer has 17.89% less runtime overhead than ASan.",
            "partial",
        ),
        ("What memory overhead does the sanitizer add?", "The sanitizer adds only 2.1% memory overhead.", "answered"),
        ("What runtime overhead does the tracer incur?", "The tracer incurs a 4% execution time overhead.", "answered"),
        ("What runtime overhead does the tracer incur?", "The tracer needs 30 MB of storage overhead.", "partial"),
    ],
)
def test_a_cost_in_one_resource_is_not_a_cost_in_another(question: str, sentence: str, status: str) -> None:
    assert analyze(question).asks == "number"
    assert _status(question, sentence) == status


def test_a_cost_asked_with_a_verb_of_adding_asks_a_figure_and_a_value_added_does_not() -> None:
    assert analyze("What runtime overhead did the tracer incur?").measure_phrase == "runtime overhead"
    assert analyze("What overhead do the checks impose?").asks == "number"
    assert analyze("What value does pretraining add for ASR?").asks != "number"
    assert analyze("What overhead does the method introduce in practice?").asks != "number"  # its kind, maybe


@pytest.mark.timeout(30)
def test_a_count_question_reads_long_hostile_text_in_linear_time() -> None:
    # helper-72: a count rule, since dropped, took 73 s on a number followed by 50,000 spaces
    for text in ("1" + " " * 50_000 + ".", "questions across 1 " * 5_000):
        assert _status("How many questions are there?", text) in {"answered", "partial", "abstained"}
