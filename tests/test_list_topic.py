"""Which-papers answers: every listed paper is about what was asked (per paper, as a one-paper answer would be
judged), and a filter that leaves no such paper gives an abstention that names the filter."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Assistant
from tests.fakes import fake_assistant, write_jsonl

SPEECH = [
    {
        "id": f"tts-{i}",
        "title": title,
        "abstract": f"We present {name}, a transformer network for speech synthesis that generates mel spectrograms "
        "from text in parallel. Listeners rate its speech synthesis close to recordings.",
    }
    for i, (name, title) in enumerate(
        [("FastVoice", "FastVoice: parallel speech synthesis"), ("TransTTS", "Transformer speech synthesis")]
    )
]
OTHER = [
    {
        "id": f"other-{i}",
        "title": title,
        "abstract": f"{title} with a transformer. We report accuracy on standard benchmarks of {topic}.",
        "year": 2020 + i,
    }
    for i, (title, topic) in enumerate(
        [
            ("Graph pooling for molecules", "molecular property prediction"),
            ("Transformers for image segmentation", "semantic segmentation"),
            ("Transformers for tabular data", "tabular classification"),
        ]
    )
]


@pytest.fixture
def assistant(tmp_path: Path) -> Assistant:
    a = fake_assistant(tmp_path / "data")
    a.ingest([write_jsonl(tmp_path / "papers.jsonl", SPEECH + OTHER)])
    return a


def test_a_which_papers_answer_lists_only_papers_about_the_question(assistant: Assistant) -> None:
    answer = assistant.ask("Which papers use transformers for speech synthesis?")
    assert answer.status != "abstained"
    cited = {c.paper.id for c in answer.citations}
    assert cited and cited <= {"tts-0", "tts-1"}
    assert all(s.paper.id.startswith("tts-") for s in answer.sources)  # the off-topic papers are not even offered


def test_a_year_filter_that_leaves_no_relevant_paper_abstains_naming_the_filter(assistant: Assistant) -> None:
    answer = assistant.ask("Which papers use transformers for speech synthesis?", year=(2019, 2023))
    assert answer.status == "abstained" and not answer.citations
    assert "No paper from 2019-2023 in the index seems to be about" in answer.text
    assert "speech" in answer.text


@pytest.mark.parametrize(
    "question", ["Which papers use transformers for speech synthesis?", "How many listeners rated FastVoice?"]
)
def test_a_question_is_analysed_once_per_request(
    assistant: Assistant, question: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.assistant
    import rag.query

    calls: list[str] = []
    real = rag.query.analyze

    def counted(text: str) -> rag.query.Question:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(rag.query, "analyze", counted)
    monkeypatch.setattr(rag.assistant, "analyze", counted)
    answer = assistant.ask(question)
    assert answer.sources  # it went through retrieval, answering, checking and judging
    assert calls == [question]


def test_a_which_method_answer_leads_with_the_name_the_abstract_gives(tmp_path: Path) -> None:
    from rag.generation.extractive import method_name

    abstract = "Matting videos is hard. We propose a transformer, called VidMatte, that predicts alpha mattes."
    assert method_name(abstract, "Which method predicts alpha mattes?") == "VidMatte"
    assert method_name(abstract, "Which method is VidMatte?") is None  # the question already holds it
    assert method_name("Nothing is introduced here by DNN.", "Which model?") is None

    abstract = "We propose a transformer, called VidMatte. It predicts alpha mattes for video matting from queries."
    papers = [{"id": "vm", "title": "Video matting from learned queries", "abstract": abstract}]
    a = fake_assistant(tmp_path / "vm")
    a.ingest([write_jsonl(tmp_path / "vm.jsonl", papers)])
    answer = a.ask("Which method predicts alpha mattes for video matting?", backend="extractive")
    assert answer.citations and answer.text.startswith("Video matting from learned queries: VidMatte — ")
    assert answer.sentences[0].supported


def test_retrieval_relevance_is_computed_once_per_answer(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """The abstention check and the judge read one relevance (a BM25-only search embeds the passages for it)."""
    from rag.answering import Answerer

    calls: list[int] = []
    real = Answerer.relevance

    def counted(self: Answerer, question: str, hits: list) -> float:
        calls.append(len(hits))
        return real(self, question, hits)

    monkeypatch.setattr(Answerer, "relevance", counted)
    answer = assistant.ask("How many listeners rated FastVoice speech synthesis?")
    assert answer.signals is not None and answer.signals["relevance"] > 0  # it reached the judge
    assert len(calls) == 1
