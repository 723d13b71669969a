"""Follow-ups decided, not guessed: a self-contained question is never rewritten (not by the heuristic, not by an
LLM), a dependent one has its reference resolved to what the conversation's last answer named, and every door
shows the rewritten question."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rag import Assistant
from rag.answering import Answerer
from rag.config import Settings
from rag.followup import needs_context, own_question, referent, standalone
from rag.generation.context import Source
from rag.generation.extractive import ExtractiveAnswerer, without_title
from rag.index.embedders import HashEmbedder
from rag.query import analyze
from rag.support import SentenceEmbeddings
from rag.types import Hit, Paper
from tests.fakes import ScriptedChat

FOLLOWUPS = Path(__file__).resolve().parents[1] / "rag" / "data" / "qa" / "followups.jsonl"

SPEECH = [
    {"role": "user", "content": "Which model synthesises speech with a transformer?"},
    {"role": "assistant", "content": "TransformerTTS replaces the recurrent layers of Tacotron2 with attention [1]."},
]

INDEPENDENT = [
    # an internal pronoun with its antecedent in the question itself
    "Which papers learn activation functions instead of fixing them by hand?",
    "How can dynamic programming be made differentiable so it can be used as a layer?",
    # "this corpus" is the index, not the conversation
    "Does this corpus include a paper on crop yield prediction?",
    # expletive "it", a bare name, a keyword query, an opener that is not ellipsis
    "Is it possible to train a GAN without labels?",
    "What is SoundStream?",
    "What is the main contribution of SoundStream?",  # emphasis beside a topic
    "What are the key limitations of dropout?",
    "What is a good prior?",  # words with a field's sense: helper-98
    "simple baselines",
    "Why is explainability important?",
    "equivariant GNN for molecular properties?",
    "And which paper uses hypernetworks to generate weights for LSTMs?",
    "With what confidence do networks label fooling images as real objects?",
    "How many image-text pairs pre-train the model that learns visual concepts from language supervision?",
]

DEPENDENT = [
    "Is its code available anywhere?",
    "What dataset did they use?",
    "Then what keeps it from collapsing?",
    "Does that hold only for pretrained models?",
    "How does the second one adapt at runtime?",
    "what about uncertainty?",
    "And compared to BM25?",
    "On which datasets?",
    "How many bits?",
    "What do the authors propose?",
    "How much faster is that?",
    "What's the main contribution?",  # emphasis and a part any paper has: of the paper discussed
    "key takeaways?",
    "Any limitations?",
    "ok, why is that?",  # an acknowledgement before a question is no greeting: helper-98
    "Thanks! How does it work?",
    "nice, how so?",
    "Is it any good?",
    "whats the main contributon",  # tired typing
    "Is it OK?",  # a question, not an acknowledgement (helper-99)
    "So is it great?",
]


@pytest.mark.parametrize("question", INDEPENDENT)
def test_a_self_contained_question_is_never_rewritten(question: str) -> None:
    assert not needs_context(question)
    assert standalone(question, SPEECH) == question


@pytest.mark.parametrize("question", DEPENDENT)
def test_a_question_that_leans_on_the_conversation_is_rewritten(question: str) -> None:
    assert needs_context(question)
    rewritten = standalone(question, SPEECH)
    assert rewritten != question and "TransformerTTS" in rewritten
    assert SPEECH[0]["content"] not in rewritten  # resolved, not the previous question glued in front


def test_the_reference_is_replaced_by_what_the_last_answer_named() -> None:
    assert standalone("Is its code available?", SPEECH).startswith("Is TransformerTTS's code available")
    assert standalone("What dataset did they use?", SPEECH).startswith("What dataset did TransformerTTS use")
    assert standalone("Anything?", []) == "Anything?"  # no conversation: nothing to resolve


def test_an_ordinal_follows_the_citation_order_of_a_list_answer() -> None:
    listing = [
        {"role": "user", "content": "Which papers get models of many sizes for different budgets?"},
        {
            "role": "assistant",
            "content": "Conditional Automated Channel Pruning (CACP) prunes at several rates [1], and Stitchable "
            "Neural Networks (SN-Net) stitch pretrained models together [2].",
        },
    ]
    assert referent(listing, "How does the second one adapt at runtime?") == "Stitchable Neural Networks (SN-Net)"
    assert referent(listing, "And the first one?") == "Conditional Automated Channel Pruning (CACP)"
    rewritten = standalone("How does the second one adapt at runtime?", listing)
    assert rewritten == "How does Stitchable Neural Networks (SN-Net) adapt at runtime?"


def test_a_reference_list_or_quoted_title_is_preferred_to_a_name_mentioned_in_passing() -> None:
    quoted = [
        {"role": "user", "content": "How can inference run with integer-only arithmetic?"},
        {
            "role": "assistant",
            "content": "'Quantization and Training for Integer-Arithmetic-Only Inference' does it [1].",
        },
        {"role": "user", "content": "Does it help for models that are already efficient?"},
        {"role": "assistant", "content": "Yes, even on MobileNets [1]."},
    ]
    assert referent(quoted, "On which tasks?") == "Quantization and Training for Integer-Arithmetic-Only Inference"
    listed = [SPEECH[0], {"role": "assistant", "content": "It does [1].\n\nReferences:\n[1] Neural Speech Synthesis"}]
    assert referent(listed, "Is its code out?") == "Neural Speech Synthesis"


def test_an_acronym_the_conversation_spells_out_is_resolved_with_its_long_form() -> None:
    """An abstract may use the long form alone, or write the acronym only once: the rewrite carries both."""
    history = [
        {"role": "user", "content": "self-supervised ways to learn image features without labels?"},
        {
            "role": "assistant",
            "content": "One approach predicts image rotations [1]; another, Noise As Targets (NAT), aligns the deep "
            "features to fixed target representations [2].",
        },
    ]
    rewritten = standalone("How does the second one scale to big datasets?", history)
    assert rewritten == "How does Noise As Targets (NAT) scale to big datasets?"
    assert referent(history, "And the second one?") == "Noise As Targets (NAT)"
    assert referent(SPEECH, "Is its code out?") == "TransformerTTS"  # a name spelled out nowhere stays as it is
    # an acronym that stood for another thing earlier in the conversation: the latest turn's meaning (helper-49)
    earlier = [
        {"role": "user", "content": "What is non-autoregressive translation (NAT)?"},
        {"role": "assistant", "content": "Non-Autoregressive Translation (NAT) generates all tokens in parallel [1]."},
    ]
    assert standalone("How does the second one scale to big datasets?", earlier + history) == rewritten


def test_without_a_name_the_topic_of_the_last_self_contained_question_is_used() -> None:
    history = [
        {"role": "user", "content": "Which work tags music directly from raw waveforms?"},
        {"role": "assistant", "content": "Sample-level deep networks learn from waveforms [1]."},
        {"role": "user", "content": "How does it compare with the state of the art?"},
        {"role": "assistant", "content": "It is comparable to the state of the art [1]."},
    ]
    assert "tags music directly from raw waveforms" in standalone("On which datasets?", history)


def test_a_greeting_gives_no_topic_and_a_later_topic_still_does() -> None:
    greeting = [{"role": "user", "content": "hi there"}, {"role": "assistant", "content": "Hello! Ask away."}]
    assert standalone("Which paper?", greeting) == "Which paper?"  # was "Which paper (hi there)?"
    elliptic = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "Hello!"}]
    elliptic += [{"role": "user", "content": "what about transformers?"}, {"role": "assistant", "content": "None."}]
    assert standalone("Which paper?", elliptic) == "Which paper (about transformers)?"


@pytest.mark.parametrize(
    "thanks",
    [
        "thanks!",
        "Thank you very much",
        "ok",
        "hi",
        "how's it going",
        "got it",
        "tysm",
        "nice one",
        "thanks, that's helpful",
    ],
)
def test_thanks_or_a_greeting_after_an_answer_is_not_rewritten_into_a_question(thanks: str) -> None:
    """A thanks was rewritten ("thanks (TransformerTTS)") and answered from that paper."""
    assert not needs_context(thanks) and standalone(thanks, SPEECH) == thanks


def test_an_llm_is_not_asked_to_condense_a_self_contained_question(tmp_path: Path) -> None:
    chat = ScriptedChat(lambda messages: "A rewrite the user never asked for?")
    answerer = Answerer(Settings(data_dir=tmp_path), HashEmbedder(), chat=chat)
    question = "Which papers learn activation functions instead of fixing them by hand?"
    assert answerer.condense(question, SPEECH) == question
    assert chat.requests == []
    assert answerer.condense("What dataset did they use?", SPEECH) == "A rewrite the user never asked for?"
    assert len(chat.requests) == 1


def test_the_follow_up_set_independent_turns_are_never_rewritten_and_dependent_ones_are() -> None:
    """The helper-written follow-up set (48 conversations): detection on every turn; which paper a rewrite then
    retrieves is measured end to end by eval/bench_followups.py."""
    items = [json.loads(line) for line in FOLLOWUPS.read_text().splitlines() if line and not line.startswith("#")]
    assert len(items) >= 40
    independent = [i for i in items if not i["dependent"]]
    dependent = [i for i in items if i["dependent"]]
    assert all(standalone(i["question"], i["history"]) == i["question"] for i in independent)
    rewritten = sum(standalone(i["question"], i["history"]) != i["question"] for i in dependent)
    assert rewritten / len(dependent) >= 0.9


def test_an_answer_in_the_history_keeps_its_references_within_the_cap() -> None:
    from rag.followup import history_turn
    from rag.types import Answer, Citation, Paper

    papers = [Paper(id=f"p{i}", title=f"Stitchable Networks {i}", abstract="x") for i in (1, 2)]
    answer = Answer(
        question="q",
        text="CACP prunes channels [1], and SN-Net stitches models [2]. " * 20,
        citations=[Citation(number=i + 1, paper=p) for i, p in enumerate(papers)],
    )
    turn = history_turn(answer, 300)
    assert len(turn) <= 300 and turn.endswith("[1] Stitchable Networks 1\n[2] Stitchable Networks 2")
    history = [{"role": "user", "content": "Which papers stitch models?"}, {"role": "assistant", "content": turn}]
    assert referent(history, "How does the second one adapt?") == "Stitchable Networks 2"


def test_a_huge_title_in_a_client_history_does_not_blow_the_question_cap() -> None:
    """The history is the client's: a 3,000-character 'title' must not turn a short follow-up into a rewritten
    question over RAG_MAX_QUESTION_CHARS (it was refused as a 3,011-character search query)."""
    from rag.followup import MAX_REFERENT_CHARS

    history = [SPEECH[0], {"role": "assistant", "content": "It does [1].\n\nReferences:\n[1] " + "Long " * 600}]
    for question in ("Is its code out anywhere?", "what about it", "And the second one?"):
        rewritten = standalone(question, history)
        assert rewritten != question and len(rewritten) <= len(question) + 2 * MAX_REFERENT_CHARS + 10


TWINS = Paper(
    id="twins",
    title="Simple Twin Networks for Label-Free Representation Learning",
    abstract=(
        "Simple twin networks have become a common structure for label-free representation learning. "
        "We report that simple twin networks learn meaningful representations without negative pairs. "
        "What keeps the solutions from collapsing is a stop-gradient operation. "
        "We hope this simple baseline motivates people to rethink twin architectures."
    ),
)


def test_a_rewritten_follow_up_is_answered_by_the_sentence_its_own_words_ask_for() -> None:
    """A rewrite puts the paper's name and the conversation's topic into the question ("what keeps it from
    collapsing?"): every sentence of that paper is about them, so the follow-up's own words pick the answering
    sentence; so do the words of a question besides the title it quotes or the title words it uses."""
    answerer = ExtractiveAnswerer(SentenceEmbeddings(HashEmbedder()), second_sentence=2.0)  # the best sentence only
    source = [Source(1, Hit(paper=TWINS, score=1.0, passage=TWINS.abstract), TWINS.abstract)]
    # a rewrite with the topic as a gloss: its words pull to the sentence that restates them, the follow-up's do not
    rewritten = analyze("Then what keeps TwinNet from collapsing (it has become a common structure for recent models)?")
    assert "stop-gradient" not in answerer.answer(rewritten, source)
    assert "stop-gradient" in answerer.answer(
        replace(rewritten, own_words="Then what keeps it from collapsing?"), source
    )
    # own words that only point back leave the rewrite to pick the sentence
    assert own_question("Then what keeps it from collapsing?") == "Then what keeps it from collapsing?"
    assert own_question("And the second one?") == own_question("What about the first paper?") == ""
    # a title quoted, or its words used: the rest of the question asks
    for question in (
        f"Then what keeps {TWINS.title} from collapsing?",
        "Then what keeps the simple twin networks of label-free representation learning from collapsing?",
    ):
        assert "stop-gradient" in answerer.answer(analyze(question), source)
    assert without_title("What keeps twin models from collapsing?", TWINS) == ""  # one title word: kept
    # the title is cut where it stands even when lower-casing changes the length of what comes before it
    assert without_title(f"İİ what keeps {TWINS.title.upper()} from collapsing?", TWINS) == (
        "İİ what keeps the paper from collapsing?"
    )


def test_only_the_answered_papers_own_title_is_taken_out_of_the_question() -> None:
    """A title of a lower-ranked paper quoted in the question ("the main results of End-To-End Memory Networks"
    while another paper ranks first) is no title of the top paper: nothing is taken out (helper-49)."""
    other = Paper(id="o", title="Memory Networks for Question Answering", abstract="Our main result is a new memory.")
    question = f"What are the main results of {other.title}?"
    assert without_title(question, TWINS) == ""
    assert without_title(question, other) == "What are the main results of the paper?"


@pytest.mark.slow  # the bundled corpus indexed once per session (hash vectors: seconds)
def test_a_follow_up_through_the_assistant_cites_the_sentence_it_asks_for(hash_bundled_dir: Path) -> None:
    assistant = Assistant(Settings(data_dir=hash_bundled_dir, embed="hash", llm="extractive", abstain_threshold=0))
    history = [
        {"role": "user", "content": "Do siamese networks need negative pairs for representation learning?"},
        {
            "role": "assistant",
            "content": "No: simple Siamese networks learn meaningful representations without negative sample pairs, "
            "large batches or momentum encoders [1].\n\nReferences:\n[1] Exploring Simple Siamese Representation "
            "Learning",
        },
    ]
    answer = assistant.ask("Then what keeps it from collapsing?", history=history)
    assistant.close()
    title = "Exploring Simple Siamese Representation Learning"
    assert answer.standalone_question and title in answer.standalone_question
    assert answer.citations[0].paper.title == title
    assert "stop-gradient" in answer.text
