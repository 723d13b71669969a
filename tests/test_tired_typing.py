"""A question typed the way a tired person types reads as the same question spelled out: contractions without
their apostrophe ("whats" was no question word, so "whats the tail latency of X" was a keyword query asking for a
description), chat shorthand ("wat", "u", "what r the", "abt", "w/"), a lone lower-case "i" ("i'm reading ...")."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.followup import needs_context
from rag.query import analyze
from rag.words import asked_clause, opens_with_topic, spelled_out

SPELLED = [
    ("whats the BLEU score of the deep LSTM", "what is the BLEU score of the deep LSTM"),
    ("Whats the F1?", "What is the F1?"),
    ("hows it trained", "how is it trained"),
    ("doesnt it use dropout", "does not it use dropout"),
    ("didnt they test on ImageNet", "did not they test on ImageNet"),
    ("theyre using ResNet", "they are using ResNet"),
    ("wat dataset did they use", "what dataset did they use"),
    ("ok wats the f1", "ok what is the f1"),
    ("can u tell me the accuracy", "can you tell me the accuracy"),
    ("what r the main results", "what are the main results"),
    ("Wat datasets did they use", "what datasets did they use"),  # a phone capitalises the first word
    ("R there any baselines", "are there any baselines"),
    ("wide resnets wat datasets did they use", "wide resnets what datasets did they use"),
    ("whatre the datasets", "what are the datasets"),
    ("id like to know the BLEU", "I'd like to know the BLEU"),
    ("i cant find it", "I cannot find it"),
    ("which ogb datasets do they eval on", "which ogb datasets do they evaluate on"),
    ("u know wat GREAD stands for", "you know what GREAD stands for"),
    ("not sure wat datasets ast was tested on", "not sure what datasets ast was tested on"),
    ("r there any baselines", "are there any baselines"),
    ("pls tell me the AUC", "please tell me the AUC"),
    ("anything abt GPT w/ 8 layers w/o dropout", "anything about GPT with 8 layers without dropout"),
    ("im reading abt X, wat is Y", "I'm reading about X, what is Y"),
    ("i'm comparing models; what did ur paper use", "I'm comparing models; what did your paper use"),
]


@pytest.mark.parametrize(("tired", "spelled"), SPELLED)
def test_tired_typing_is_spelled_out(tired: str, spelled: str) -> None:
    assert spelled_out(tired) == spelled
    assert spelled_out(spelled) == spelled  # once is enough: the spelled-out text is left as it is


@pytest.mark.parametrize(
    "text",
    [
        "What is PLS regression?",  # partial least squares, not "please"
        "what is pls regression",
        "Which Pearson r did they report?",
        "what r value did they report",
        "r = 0.8 between the scores",
        "How was the UR5 arm calibrated?",
        "Was 10 u of insulin given?",
        "Is u-net better than SegNet?",
        "(i) the encoder and (ii) the decoder, i.e. both",
        "What is its accuracy?",  # a possessive, not "it is"
        "What is the role of wat in obesity?",  # white adipose tissue: not at a clause's start
        "Was an im injection used?",
        "What did Cant prove?",
        # helper-101's attack on the first version
        "What does O_i(u) denote in the paper",
        "What is the IC50 of abt-199 in CLL cells?",
        "What is the cant angle of the track?",
        "r package for mixed models",
        "spearmans r between age and score",
        "when r increases the error drops",
        "where r denotes the rank",
        "is r faster than python",
        "What is the mass of the u quark?",
        "how does u net compare to segnet",
        "how do u and d quark masses compare",
        "what was the mann-whitney u statistic",
        "What accuracy does XLM-R get on ur in XNLI?",
        "How do bat and wat differ in mitochondria?",
        "Is it expressed in liver, muscle, wat or bat?",
        "b/w photos colorization",
        "What is the w/o emulsion stability?",
        "im injection of what dose was given?",
        "Explain the whys and hows of dropout",
        "What is the noise level sigma when i increases?",
        "what is the phase i trial result",
        "what is the type i error rate",
        "the eval set of SQuAD",
        # helper-102's attack on 20bfe85
        "What happens to the solution when u is negative?",
        "Why can u be decomposed into modes?",
        "Why do u quarks have a smaller mass?",
        "Can the control u help stabilize the system?",
        "What does node i have as input?",
        "What does the i'th attention head attend to?",
        "What is the WER for ur speech recognition?",
        "Why does eval() fail on this string?",
        "Why does eval return None in Python?",
        "For which values r all orbits are bounded?",
        "How much wat tissue do they lose after cold exposure?",
        "What does w/o mean in the table?",
        "What is the capital of Whos Who?",
        "What does thru-put mean?",
    ],
)
def test_text_that_is_not_shorthand_is_left_as_written(text: str) -> None:
    assert spelled_out(text) == text


TIRED_QUESTIONS = [
    ("whats the tail latency of the rpc framework", "What's the tail latency of the RPC framework?"),
    ("wat optimizer did they train it with", "What optimizer did they train it with?"),
    ("how many layers r in the encoder", "How many layers are in the encoder?"),
    ("can u tell me the bleu score of the deep lstm", "Can you tell me the BLEU score of the deep LSTM?"),
    ("whos the first author", "Who's the first author?"),
]


@pytest.mark.parametrize(("tired", "clean"), TIRED_QUESTIONS)
def test_a_tired_question_is_analysed_as_the_clean_one(tired: str, clean: str) -> None:
    mine, theirs = analyze(tired), analyze(clean)
    assert (mine.asks, mine.measure, mine.kind, mine.keyword) == (theirs.asks, theirs.measure, theirs.kind, False)
    assert mine.asks != "description"


def test_a_lower_case_preamble_is_read_as_a_capital_one() -> None:
    """ "im reading about X; wat ..." is the reader's setting and then the question, as "I'm reading about X; what ...?"
    is."""
    tired = "im reading abt wide resnets; wat datasets did they evaluate on"
    clean = "I'm reading about wide ResNets; what datasets did they evaluate on?"
    assert asked_clause(spelled_out(tired)) == "what datasets did they evaluate on"
    mine, theirs = analyze(tired), analyze(clean)
    assert (mine.asks, mine.kind) == (theirs.asks, theirs.kind) == ("name", "datasets")


@pytest.fixture()
def hashed(hash_bundled_dir: Path) -> Assistant:
    return Assistant(Settings(data_dir=hash_bundled_dir, embed="hash", llm="extractive"))


@pytest.mark.parametrize(
    ("tired", "clean"),
    [
        ("whats the bleu score of the deep lstm on wmt14", "What's the BLEU score of the deep LSTM on WMT'14?"),
        ("how many speakers r in the uzbek speech corpus", "How many speakers are in the Uzbek speech corpus?"),
        ("wat paper proposes wide residual networks", "Which paper proposes wide residual networks?"),
    ],
)
def test_a_tired_question_gets_the_answer_of_the_clean_one(hashed: Assistant, tired: str, clean: str) -> None:
    mine, theirs = hashed.ask(tired), hashed.ask(clean)
    assert theirs.status == "answered", theirs.text
    assert mine.status == theirs.status and mine.missing == theirs.missing, mine.text
    assert [c.paper.id for c in mine.citations][:1] == [c.paper.id for c in theirs.citations][:1]


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        (
            "NCNC neural common neighbor w completion which ogb datasets do they eval on",
            "which ogb datasets do they eval on",
        ),
        ("wide cnns paper - which image dataset did they use", "which image dataset did they use"),
        ("NCNC w completion which datasets are they evaluated on", "which datasets are they evaluated on"),
        ("prokd cross lingual NER what target langs do they test?", "what target langs do they test?"),
        ("W2PGNN, the framework for GNNs -- what does it fit the data into?", "what does it fit the data into?"),
        ("And on which datasets does it beat the baselines?", "which datasets does it beat the baselines?"),
    ],
)
def test_a_question_typed_after_its_topic_starts_at_its_inverted_question(text: str, asked: str) -> None:
    """With no clause break between topic and question, the question word before an inverted auxiliary and its
    subject starts the question ("which ... do they"); the topic's names stay the question's."""
    assert asked_clause(text) == asked
    assert opens_with_topic(text)


@pytest.mark.parametrize(
    "text",
    [
        "the results, which are the best on ImageNet",  # a relative clause does not invert
        "the dataset on which the model is trained",
        "the paper in which it is shown that dropout helps",
        "What datasets does NCNC use?",  # opens by asking
        "I compared codes; which datasets do they use?",  # a clause break marks the question
        "grown on sapphire at what temperature?",  # no auxiliary: read whole, as before
        # helper-101's attack on the first version: relative clauses, fused relatives, titles, embedded questions
        "Energy at which the resonance is the strongest?",
        "Accuracy in the setting where the model is the smallest?",
        "BLEU of the model when it is the largest?",
        "If what they report is the test accuracy, is it comparable?",
        "Speedup of FlashAttention over what is the standard attention implementation?",
        "Summaries of the paper What is the state of neural network pruning",
        "Explain what is the role of dropout in transformers",
        "Describe what do the authors propose",
        "Whether dropout helps or what is the alternative?",
        # helper-102's attack on 20bfe85
        "devices on which latency is the bottleneck for conformer ASR",
        "Datasets on which BERT is the strongest baseline",
        "Temperature at which enzymes are the most active",
        "Situations where RLHF does the most harm",
        "Countries where inflation is the highest",
        "Methods whose performance is the best on GLUE",
        "Patients who smoke are the most at risk for what?",
        'summary of "what do the models learn"',
        "the paper titled what does the model know about syntax",
    ],
)
def test_text_without_an_inverted_question_after_its_topic_is_read_as_before(text: str) -> None:
    assert not opens_with_topic(text)


def test_a_question_after_its_topic_asks_what_the_question_alone_asks_and_keeps_the_topics_names() -> None:
    tired = analyze("NCNC neural common neighbor w completion which ogb datasets do they eval on")
    clean = analyze("Which OGB datasets does NCNC evaluate on?")
    assert (tired.asks, tired.kind) == (clean.asks, clean.kind) == ("name", "datasets")
    assert "NCNC" in tired.names


@pytest.mark.parametrize("tired", ["wat about resnet?", "so wat about the second one", "how about u-net"])
def test_a_tired_follow_up_reads_as_one(tired: str) -> None:
    """ "wat about X?" is "what about X?": of what was discussed."""
    assert needs_context(tired)
