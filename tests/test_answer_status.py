"""One question per answer status, end to end over the bundled corpus: `Assistant.ask`, `rag ask` (text and
--json) and, with the real llama_cpp.server, the LLM path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Assistant, Settings
from rag.cli import app
from rag.coverage import question_words
from rag.followup import needs_context
from rag.generation.prompts import GREETED, NAMES_NOTHING, NO_ANSWER
from rag.query import analyze
from rag.topicless import greeting, names_nothing, topicless
from tests.conftest import model_answered

runner = CliRunner()

ANSWERED = "Which BLEU score did the deep LSTM reach on the WMT'14 English to French test set?"
PARTIAL = "How many GPUs were used to train the sequence-to-sequence LSTM for English to French translation?"
ABSTAINED = "What accuracy does Qwen2-72B reach on MMLU?"
SEQ2SEQ = "Sequence to Sequence Learning with Neural Networks"


@pytest.fixture()
def hashed(hash_bundled_dir: Path) -> Assistant:
    return Assistant(Settings(data_dir=hash_bundled_dir, embed="hash", llm="extractive"))


def test_answered_states_the_asked_number_with_its_citation(hashed: Assistant) -> None:
    answer = hashed.ask(ANSWERED)
    assert answer.status == "answered" and not answer.abstained and answer.missing is None
    assert "34.8" in answer.text and answer.citations[0].paper.title == SEQ2SEQ


@pytest.mark.parametrize("verb", ["proposes", "proposed", "presented", "presents"])
def test_the_verb_of_a_which_paper_question_is_never_a_word_the_abstract_must_mention(
    hashed: Assistant, verb: str
) -> None:
    """The abstract says "we propose"; a question's "proposes" or "presented" is the same verb, not a missing term
    (it was: "The abstract of [1] does not mention proposes")."""
    answer = hashed.ask(f"Which paper {verb} wide residual networks?")
    assert answer.status == "answered" and answer.missing is None, answer.text
    assert answer.citations[0].paper.title == "Wide Residual Networks"


NAMES_NOTHING_CASES = [
    "Which paper?",
    "Which paper proposes?",
    "What does it show?",
    "How many?",
    "Please, which paper?",
    "What are the results?",
    "Summarize it.",
    "What is the main contribution?",  # emphasis and the parts any paper has: still no topic
    "What's the key idea?",
    "Summarize the key findings.",
    "Any limitations?",
    "Give me a short summary.",  # "a" after the opener asks how to answer
]


@pytest.mark.parametrize("question", NAMES_NOTHING_CASES)
def test_a_question_that_names_nothing_is_asked_what_to_look_for(hashed: Assistant, question: str) -> None:
    """Any paper would answer "Which paper?" as well as another: it was answered from whichever ranked first."""
    answer = hashed.ask(question)
    assert answer.status == "abstained" and answer.abstained, answer.text
    assert answer.text == NAMES_NOTHING and answer.citations == [] and answer.sources == []


@pytest.mark.parametrize(
    "question",
    [
        "How long does training take?",  # a measure of training: the figure is asked
        "I'm reading about wide residual networks; which paper?",  # the preamble names it
        "Quel article propose les réseaux résiduels larges ?",  # words the lists do not read
        "Which paper reports 34.8 BLEU?",  # a number
        "Which paper proposes WRNs?",  # a name
        "Is training fast?",  # words a question also asks with ("how fast", "trained on")
        "How big should models be?",  # a stop word for matching
        "Which paper is from 2017?",  # a year
        "Which papers use R?",  # a letter
        "What is OR?",  # an acronym that is a stop word
        "What is ∇?",  # a symbol
        "What is the main contribution of wide residual networks?",  # emphasis beside a topic
        "What are the key limitations of dropout?",
    ],
)
def test_a_question_that_names_something_is_not_asked_what_to_look_for(hashed: Assistant, question: str) -> None:
    assert hashed.ask(question).text != NAMES_NOTHING


@pytest.mark.parametrize("question", NAMES_NOTHING_CASES)
def test_a_question_that_names_nothing_reads_as_a_follow_up(question: str) -> None:
    """In a conversation such a question is rewritten with the turns before it, never answered NAMES_NOTHING; a
    greeting asks nothing of the turns before it."""
    assert names_nothing(analyze(question)) and (needs_context(question) or greeting(question))


def test_a_follow_up_that_names_nothing_is_read_with_the_conversation(hashed: Assistant) -> None:
    history = [{"role": "user", "content": "What do wide residual networks improve?"}]
    history.append({"role": "assistant", "content": hashed.ask(history[0]["content"]).text})
    for question in ("What are the results?", "What's the main contribution?"):
        answer = hashed.ask(question, history=history)
        assert answer.status == "answered", answer.text
        assert answer.citations[0].paper.title == "Wide Residual Networks", answer.text


@pytest.mark.parametrize("said", ["hi there", "Thanks a lot!", "ok", "k", "thank u", "hi, how are you?"])
def test_a_greeting_or_thanks_is_answered_with_what_to_ask_and_nothing_searched(hashed: Assistant, said: str) -> None:
    answer = hashed.ask(said)
    assert answer.text == GREETED and answer.citations == [] and answer.sources == []


def test_a_greeting_is_no_topic_for_the_question_after_it(hashed: Assistant) -> None:
    """After "hello", "Which paper?" was rewritten "Which paper (hello)?" and answered from an unrelated paper."""
    history = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": hashed.ask("hello").text}]
    assert history[1]["content"] == GREETED
    for question in ("Which paper?", "What's the main idea?"):
        answer = hashed.ask(question, history=history)
        assert answer.text == NAMES_NOTHING and answer.standalone_question in (None, question), answer.text


@pytest.mark.parametrize(
    "question",
    ["What's the upshot of VMFormer?", "What is the takeaway of VMFormer?"],
)
def test_words_that_ask_to_sum_a_paper_up_are_not_asked_of_its_abstract(hashed: Assistant, question: str) -> None:
    """No abstract writes "upshot" or "takeaway": they were abstained ("No indexed abstract seems to mention
    upshot")."""
    answer = hashed.ask(question)
    assert answer.status == "answered" and answer.missing is None, answer.text
    assert answer.citations[0].paper.title.startswith("VMFormer")


@pytest.mark.parametrize(
    ("question", "asked", "not_asked"),
    [
        ("What's the upshot of VMFormer?", {"VMFormer"}, {"upshot"}),
        ("What is the main idea behind Padé units?", {"Padé", "units"}, {"main", "idea"}),
        ("What's the central idea behind Pointer Networks?", {"Pointer", "Networks"}, {"central", "idea"}),
        ("VMFormer in a nutshell?", {"VMFormer"}, {"nutshell"}),
        ("What are gist tokens?", {"gist", "tokens"}, set()),  # a noun it modifies: a topic
        ("What are the principal axes in GeoCalib?", {"principal", "axes", "GeoCalib"}, set()),
        ("What does main memory hold?", {"main", "memory", "hold"}, set()),
    ],
)
def test_a_summing_up_word_is_asked_of_the_abstract_only_where_it_names_a_thing(
    question: str, asked: set[str], not_asked: set[str]
) -> None:
    """helper-98: dropping "gist" and "principal" everywhere let "What are gist tokens?" be answered."""
    words = set(question_words(question).values())
    assert asked <= words and not (not_asked & words), words


@pytest.mark.parametrize(
    "question",
    [
        "What is generalization?",  # a stem shared with "general" is no list word
        "What is abstractive summarization?",
        "Why is explainability important?",
        "What is a good prior?",  # a field's word for a thing
        "What is advantage?",
        "What are messages?",
        "How big should models be?",
        "What is the problem of big models?",
        "What is a primary key?",  # "a": a thing of that name (helper-99)
        "What is a good point?",
        "What is a central line?",
    ],
)
def test_a_topic_that_shares_a_stem_or_a_word_with_the_lists_is_a_topic(question: str) -> None:
    """helper-98: matching stems made 78 of 224 topical questions name nothing ("generalization": "general")."""
    assert not topicless(question) and not names_nothing(analyze(question))


@pytest.mark.parametrize(
    "text", ["", "?", "a", "an?", "’s", "hi hi hi", "\u200b", "é\u0301", "😀 thanks", "main", "a " * 500]
)
def test_the_topic_reading_takes_any_text(text: str) -> None:
    """A client's history turn may hold anything: every reader returns, whatever the text."""
    assert isinstance(topicless(text), bool) and isinstance(greeting(text), bool)
    assert isinstance(needs_context(text), bool) and isinstance(question_words(text), dict)


def test_partial_says_what_the_abstract_does_not_state_and_what_it_does(hashed: Assistant) -> None:
    answer = hashed.ask(PARTIAL)
    assert answer.status == "partial" and not answer.abstained
    assert answer.missing == "mention GPUs"
    lead = re.match(
        r"The abstracts? of \[1\](?:, \[\d\])*(?: and \[\d\])? do(?:es)? not mention GPUs; (?:it|they) report",
        answer.text,
    )
    assert lead, answer.text
    rest = answer.text[lead.end() :]
    assert answer.citations[0].paper.title == SEQ2SEQ and "34.8" in rest and "[1]" in rest


def test_abstained_when_the_question_names_what_no_abstract_mentions(hashed: Assistant) -> None:
    answer = hashed.ask(ABSTAINED)
    assert answer.status == "abstained" and answer.abstained and answer.citations == []
    assert answer.text.startswith(NO_ANSWER) and "Qwen2-72B" in answer.text


def test_an_abstention_for_low_coverage_speaks_of_the_closest_abstracts_not_the_whole_index(
    hash_bundled_dir: Path,
) -> None:
    """Only a name no indexed abstract holds justifies "No indexed abstract ..."; a coverage abstention was
    judged on the cited abstracts alone, and other abstracts may well hold the words."""
    strict = Settings(
        data_dir=hash_bundled_dir, embed="hash", llm="extractive", partial_coverage=1.0, abstain_coverage=1.0
    )
    answer = Assistant(strict).ask("Which paper argues for making residual networks wider and shallower?")
    assert answer.status == "abstained" and answer.missing and answer.missing.startswith("mention ")
    assert f"The closest abstracts do not {answer.missing}." in answer.text
    assert "No indexed abstract" not in answer.text


@pytest.mark.parametrize(
    ("question", "status"), [(ANSWERED, "answered"), (PARTIAL, "partial"), (ABSTAINED, "abstained")]
)
def test_cli_ask_shows_the_status(
    question: str, status: str, hash_bundled_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(hash_bundled_dir))
    monkeypatch.setenv("RAG_EMBED", "hash")
    result = runner.invoke(app, ["ask", question, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == status and data["abstained"] == (status == "abstained")
    text = runner.invoke(app, ["ask", question])
    assert text.exit_code == 0 and f"Status: {status}" in text.output


@pytest.mark.slow
def test_llm_answer_without_the_asked_number_is_not_answered(llama_server_url: str, bundled_dir: Path) -> None:
    settings = Settings(data_dir=bundled_dir, llm="openai", openai_base_url=llama_server_url, openai_model="smollm2")
    settings = settings.model_copy(update={"answer_deadline": 600.0, "request_timeout": 600.0})  # a busy CI machine
    answer = Assistant(settings).ask(PARTIAL)
    model_answered(answer, "openai")
    assert answer.status in ("partial", "abstained")
    if answer.status == "partial":
        assert answer.missing and "not" in answer.text.lower()


def test_ui_and_api_show_partial_answers_apart() -> None:
    from rag.types import Answer
    from rag.ui.render import answer_markdown, api_markdown

    partial = Answer(
        question="q",
        text="The abstract of [1] does not mention GPUs; it reports: x [1].",
        status="partial",
        missing="mention GPUs",
    )
    answered = Answer(question="q", text="It reaches 34.8 BLEU [1].")
    assert "Partly answered: the abstracts do not mention GPUs" in answer_markdown(partial)
    assert "Partly answered" not in answer_markdown(answered)
    assert api_markdown(partial).endswith("Status: partial (the abstracts do not mention GPUs)")
    assert api_markdown(answered).endswith("Status: answered")
