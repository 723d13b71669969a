"""Multi-part questions (issue 18, item 4): the splitter, each part's sentence in the extractive answer, the per-part
sufficiency check, the LLM prompt's list of parts, and end to end over the bundled corpus (hash embedder)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.generation.context import Source
from rag.generation.extractive import ExtractiveAnswerer
from rag.index.embedders import HashEmbedder
from rag.parts import split
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.support import SentenceEmbeddings
from rag.types import Hit, Paper
from tests.fakes import ScriptedChat

QA = Path(__file__).parents[1] / "rag" / "data" / "qa" / "multipart.jsonl"


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (  # coordinated measures
            "What accuracy and latency does MobileNet reach?",
            ["What accuracy does MobileNet reach?", "What latency does MobileNet reach?"],
        ),
        (
            "What precision, recall and F1 does the detector reach?",
            [
                "What precision does the detector reach?",
                "What recall does the detector reach?",
                "What F1 does the detector reach?",
            ],
        ),
        (  # a shared head word goes to each measure
            "What top-1 and top-5 accuracy does NASNet reach?",
            ["What top-1 accuracy does NASNet reach?", "What top-5 accuracy does NASNet reach?"],
        ),
        (  # coordinated targets, the preposition repeated
            "What error does the network reach on CIFAR-10 and on SVHN?",
            ["What error does the network reach on CIFAR-10?", "What error does the network reach on SVHN?"],
        ),
        (
            "What AUROC does it reach for sleep staging and for apnea detection?",
            ["What AUROC does it reach for sleep staging?", "What AUROC does it reach for apnea detection?"],
        ),
        (  # two strong names need no repeated preposition
            "What accuracy does it reach on CIFAR-10 and ImageNet?",
            ["What accuracy does it reach on CIFAR-10?", "What accuracy does it reach on ImageNet?"],
        ),
        (  # two questions in one
            "What is SuperGlue, and how does it compare to SuperPoint?",
            ["What is SuperGlue?", "How does it compare to SuperPoint?"],
        ),
        (
            "How many GPUs were used and how long did training take?",
            ["How many GPUs were used?", "How long did training take?"],
        ),
        (  # a first question without its verb takes the shared one
            "How many speakers and how many hours of audio does the corpus have?",
            ["How many speakers does the corpus have?", "How many hours of audio does the corpus have?"],
        ),
        (  # an elliptical second question asks for the first one's measure
            "What Dice does the CNN reach on ATLAS, and what does UNet reach?",
            ["What Dice does the CNN reach on ATLAS?", "What Dice does UNet reach?"],
        ),
        (  # a quoted title is left whole; its parts still split
            "What F1 does the paper 'Bert and Ernie' report on SQuAD and on NewsQA?",
            [
                "What F1 does the paper 'Bert and Ernie' report on SQuAD?",
                "What F1 does the paper 'Bert and Ernie' report on NewsQA?",
            ],
        ),
        (  # a verbless second question after a comma is a part; it takes the first one's verb and subject only
            # where the first inverts them
            "Attention for segmentation: which attention networks were compared, on which datasets?",
            ["Which attention networks were compared?", "On which datasets?"],
        ),
        (
            "How many GPUs were used, and for how many hours?",
            ["How many GPUs were used?", "For how many hours?"],
        ),
        (
            "How many layers does it have, and how many heads?",
            ["How many layers does it have?", "How many heads does it have?"],
        ),
    ],
)
def test_a_multi_part_question_splits_into_parts_each_askable_alone(question: str, parts: list[str]) -> None:
    assert [p.text for p in analyze(question).parts] == parts


@pytest.mark.parametrize(
    "question",
    [
        "What accuracy does the model reach on question answering and generation?",  # one task
        "What is question answering and generation?",
        "Which paper is titled Bert and Ernie?",
        "What accuracy does the model reach for Bert and Ernie?",  # weak names, no repeated preposition: one title
        "What did the paper called Bert and Ernie on cats and on dogs find?",  # "called": a title follows
        "What accuracy does it reach on English and French?",
        "What is the trade-off between accuracy and how fast the model runs?",  # not a question of its own
        "How fast is the stacked convolutional and recurrent neural network?",  # a noun compound
        "What question answering and generation accuracy does it reach?",  # not a list of measures
        "How many GPUs were used to train the LSTM?",
        "Which papers study accuracy and latency of pruning?",  # a list question asks one thing
        "I'm surveying pruning methods; which data set did the best one use?",  # a preamble, then one question
        "How many times faster than SuperSlomo and DAIN is RIFE?",  # what is compared, not what is measured
        "What is the speed-up of RIFE over DAIN, in which setting?",  # a circumstance, not a count or a kind
        "What accuracy does the model reach, which is better than BERT?",  # a relative clause
        "Which optimizer is used, Adam or SGD?",
        "How fast is inference, what latency?",  # a bare measure may restate the first question
        "Is it trained on ImageNet, and which benchmarks?",  # no wh-question to lend its verb
    ],
)
def test_and_inside_names_titles_and_compounds_does_not_split(question: str) -> None:
    assert split(question) == []
    assert analyze(question).parts == ()


def test_the_parts_travel_in_the_question_each_analysed() -> None:
    asked = analyze("What mAP does HybridNets reach on BDD100K, and what is its latency?")
    assert [(p.asks, p.measure_phrase) for p in asked.parts] == [("number", "mAP"), ("number", "latency")]
    targets = analyze("What error does the network reach on CIFAR-10 and on SVHN?").parts
    assert [p.target for p in targets] == ["on CIFAR-10", "on SVHN"] and targets[1].names == ("SVHN",)


RAN = Paper(
    id="ran",
    title="Residual Attention Network for Image Classification",
    abstract="We propose a residual attention network built by stacking attention modules. "
    "The attention-aware features change adaptively as layers go deeper. "
    "It reaches 3.90% error on CIFAR-10. "
    "Our network is robust against noisy labels. "
    "On CIFAR-100 it reaches 20.45% error, and it runs at 40 ms per image.",
)


class Terms:
    size = 400

    def count(self, text: str) -> int:
        return 5  # every word is in some indexed abstract


def sources(*papers: Paper) -> list[Source]:
    return [
        Source(i, Hit(paper=p, score=1.0 / i, passage=p.abstract), p.abstract) for i, p in enumerate(papers, start=1)
    ]


def test_each_part_gets_its_own_cited_sentence_in_the_extractive_answer() -> None:
    answerer = ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder()), second_sentence=2.0)  # no extra sentences
    text = answerer.answer("What error does the network reach on CIFAR-10 and on CIFAR-100?", sources(RAN))
    assert "3.90%" in text and "20.45%" in text
    assert len(re.findall(r"\[1\]", text)) == 2 and "noisy labels" not in text
    single = answerer.answer("What error does the network reach on CIFAR-10?", sources(RAN))
    assert "20.45%" not in single  # the second sentence is there for the second part only


def test_a_part_the_sentences_do_not_state_makes_the_verdict_partial_and_names_it() -> None:
    checker = SufficiencyChecker(Terms())
    both = analyze("What error does the network reach on CIFAR-10 and on CIFAR-100?")
    stated = ["It reaches 3.90% error on CIFAR-10.", "On CIFAR-100 it reaches 20.45% error."]
    assert checker.check(both, stated, [RAN]).status == "answered"
    one = checker.check(both, stated[:1], [RAN])  # the CIFAR-100 sentence is not in the answer
    assert one.status == "partial" and one.missing == "report the error on CIFAR-100"
    latency = analyze("What error does the network reach on CIFAR-10, and what is its energy use in joules?")
    verdict = checker.check(latency, stated[:1], [RAN])
    assert verdict.status == "partial" and "energy" in verdict.missing, verdict
    assert verdict.reasons[0].startswith("missing-part:")


def test_a_name_no_abstract_holds_asked_by_one_part_makes_the_answer_partial_not_abstained() -> None:
    class Unknown(Terms):
        def count(self, text: str) -> int:
            return 0 if "urbansound" in text.lower() else 5

    asked = analyze("What error does the network reach on CIFAR-10 and on UrbanSound8K?")
    verdict = SufficiencyChecker(Unknown()).check(asked, ["It reaches 3.90% error on CIFAR-10."], [RAN])
    assert verdict.status == "partial" and verdict.missing == "mention UrbanSound8K"
    alone = analyze("What error does the network reach on UrbanSound8K?")
    assert SufficiencyChecker(Unknown()).check(alone, ["It reaches 3.90% error."], [RAN]).status == "abstained"


def test_the_multi_part_qa_set_has_both_kinds_in_both_splits() -> None:
    rows = [json.loads(line) for line in QA.read_text().splitlines() if line and not line.startswith("#")]
    kinds = {(r["kind"], r["split"]) for r in rows}
    assert kinds == {(k, s) for k in ("both-stated", "part-missing") for s in ("dev", "test")}
    assert sum(r["kind"] == "both-stated" for r in rows) == 20 and sum(r["kind"] == "part-missing" for r in rows) == 10
    for r in rows:  # every question is a multi-part question for the splitter
        assert analyze(r["question"]).parts or r["id"] == "m-b006", r["question"]


# --- end to end over the bundled corpus --------------------------------------------------------------------------
BOTH = (
    "What F1-score does AttentionConvNeXt reach on artwork source and style, and what accuracy does its attribution "
    "to the generative model reach?"
)
ONE_MISSING = (
    "What mean Average Precision does HybridNets reach on the Berkeley DeepDrive Dataset, and what is its latency?"
)


@pytest.fixture()
def hashed(hash_bundled_dir: Path) -> Assistant:
    return Assistant(Settings(data_dir=hash_bundled_dir, embed="hash", llm="extractive"))


def test_both_parts_stated_is_answered_with_a_cited_sentence_for_each(hashed: Assistant) -> None:
    answer = hashed.ask(BOTH)
    assert answer.status == "answered" and answer.missing is None, answer.text
    cited = [s.text for s in answer.sentences if s.citations]
    assert any("0.869" in s for s in cited) and any("0.999" in s for s in cited)
    assert not any("0.869" in s and "0.999" in s for s in cited)  # two sentences, one for each part
    assert answer.citations[0].paper.title.startswith("ArtBrain")


def test_one_part_not_stated_is_partial_and_the_answer_names_it(hashed: Assistant) -> None:
    answer = hashed.ask(ONE_MISSING)
    assert answer.status == "partial" and not answer.abstained
    assert answer.missing == "report the latency"
    assert answer.text.startswith("The abstract of [1] does not report the latency; it reports:"), answer.text
    assert "77.3" in answer.text and answer.citations[0].paper.title == "HybridNets: End-to-End Perception Network"


def test_the_llm_prompt_lists_the_parts_and_a_reply_for_one_part_is_partial(hash_bundled_dir: Path) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        number = re.search(r'<source id="(\d+)"[^>]*>\n\[\d+\] HybridNets', messages[-1]["content"]).group(1)
        return f"HybridNets reaches 77.3 mean Average Precision on the Berkeley DeepDrive Dataset [{number}]."

    chat = ScriptedChat(reply)
    answer = Assistant(Settings(data_dir=hash_bundled_dir, embed="hash"), chat=chat).ask(ONE_MISSING)
    prompt = chat.requests[0][-1]["content"]
    assert "asks 2 things" in prompt and "2. What is its latency?" in prompt
    assert "1. What mean Average Precision does HybridNets reach on the Berkeley DeepDrive Dataset?" in prompt
    assert answer.status == "partial" and answer.missing == "report the latency"
    assert answer.text.startswith("The abstract of [1] does not report the latency; it reports: HybridNets")


def test_an_llm_reply_that_names_the_missing_part_is_kept_as_written(hash_bundled_dir: Path) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        number = re.search(r'<source id="(\d+)"[^>]*>\n\[\d+\] HybridNets', messages[-1]["content"]).group(1)
        return (
            f"HybridNets reaches 77.3 mean Average Precision on the Berkeley DeepDrive Dataset [{number}]. "
            f"The abstract of [{number}] does not state its latency."
        )

    answer = Assistant(Settings(data_dir=hash_bundled_dir, embed="hash"), chat=ScriptedChat(reply)).ask(ONE_MISSING)
    assert answer.status == "partial" and answer.missing == "report the latency"
    assert answer.text.startswith("HybridNets reaches 77.3") and "does not state its latency" in answer.text
