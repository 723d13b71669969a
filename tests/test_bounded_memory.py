"""What a client can make a long-lived server keep (issue 17, item 7): only configured chat models are accepted, in
the Python API, the REST API and the UI, with a one-line refusal; the answerers and the corpus-term counts kept are
bounded, least recently used dropped first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Assistant, Settings
from rag.answering import offered_models
from rag.api import create_app
from rag.assistant import MAX_ANSWERERS
from rag.errors import InputError
from rag.index.bm25 import BM25Index
from rag.index.terms import CorpusTerms

QUESTION = "How much faster is Transformer TTS than Tacotron2?"
MODELS = [f"model-{i}" for i in range(MAX_ANSWERERS + 2)]


@pytest.fixture()
def assistant(hash_bundled_dir: Path) -> Iterator[Assistant]:
    a = Assistant(
        # a server that is never reached: answerers for the openai backend are built, not used
        Settings(
            data_dir=hash_bundled_dir,
            embed="hash",
            llm="extractive",
            abstain_threshold=0.0,
            openai_base_url="http://127.0.0.1:9/v1",
        ),
        allowed_models=MODELS,
    )
    yield a
    a.close()


def test_allowed_models_come_from_a_comma_separated_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_ALLOWED_MODELS", " big, small ,,")
    monkeypatch.setenv("RAG_OPENAI_MODEL", "default-model")
    assert offered_models(Settings()) == ["default-model", "big", "small"]
    monkeypatch.delenv("RAG_ALLOWED_MODELS")
    assert offered_models(Settings()) == ["default-model"]  # by default only the configured model


@pytest.mark.parametrize("model", ["gpt-5", "x" * 1_000_000, "gpt-4.1-mini\nand more", ""])
def test_a_model_that_is_not_offered_is_refused_in_one_line(assistant: Assistant, model: str) -> None:
    if not model:  # empty means the default
        assert assistant.answerer("openai", model) is assistant.answerer("openai")
        return
    with pytest.raises(InputError, match="is not offered here") as refused:
        assistant.ask(QUESTION, backend="openai", model=model)
    message = str(refused.value)
    assert "\n" not in message and len(message) < 400 and "RAG_ALLOWED_MODELS" in message
    assert "model-0" in message  # says what is offered
    assert not assistant._answerers  # nothing was built or kept for it


def test_answerers_are_kept_for_the_most_recently_used_models_only(assistant: Assistant) -> None:
    first = assistant.answerer("openai", MODELS[0])
    assert assistant.answerer("openai", MODELS[0]) is first  # built once, then reused
    for model in MODELS[1:]:
        assistant.answerer("openai", model)
    assert len(assistant._answerers) == MAX_ANSWERERS
    assert assistant.answerer("openai", MODELS[-1]) is assistant.answerer("openai", MODELS[-1])
    assert assistant.answerer("openai", MODELS[0]) is not first  # the least recently used was dropped
    assert first.settings.openai_model == MODELS[0]


def test_the_model_name_does_not_multiply_answerers_of_other_backends(assistant: Assistant) -> None:
    extractive = {id(assistant.answerer("extractive", model)) for model in MODELS}
    assert len(extractive) == 1 and len(assistant._answerers) == 1


def test_rest_ask_accepts_only_offered_models(assistant: Assistant) -> None:
    client = TestClient(create_app(assistant), base_url="http://127.0.0.1:8000", raise_server_exceptions=False)
    ok = client.post("/ask", json={"question": QUESTION, "model": MODELS[3]})
    assert ok.status_code == 200 and ok.json()["citations"]
    for stream in (False, True):
        for model, complaint in (("gpt-5", "is not offered here"), ("x" * 100_000, "at most 200 characters")):
            response = client.post("/ask", json={"question": QUESTION, "model": model, "stream": stream})
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert complaint in error and "\n" not in error and len(error) < 400
    assert set(assistant._answerers) == {("extractive", None)}


def test_the_ui_offers_a_list_of_the_configured_models(assistant: Assistant) -> None:
    import gradio as gr

    from rag.ui.app import build_app

    demo = build_app(assistant, uploads_enabled=False)
    (widget,) = [b for b in demo.blocks.values() if getattr(b, "label", None) == "OpenAI(-compatible) model"]
    assert isinstance(widget, gr.Dropdown) and not widget.allow_custom_value
    assert [value for _, value in widget.choices] == offered_models(assistant.settings)
    assert widget.value == assistant.settings.openai_model
    assert widget.preprocess(MODELS[1]) == MODELS[1]
    with pytest.raises(gr.Error):  # what a client sends outside the list never reaches the assistant
        widget.preprocess("x" * 1_000_000)


def test_corpus_term_counts_keep_the_most_recently_used_words(
    hash_bundled_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rag.index.terms.MAX_COUNTS", 3)
    scored: list[str] = []
    original = BM25Index.scores

    def scores(self: BM25Index, text: str, *args: object, **kwargs: object):
        scored.append(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(BM25Index, "scores", scores)
    terms = CorpusTerms(hash_bundled_dir / "bm25")
    for word in ("speech", "transformer", "graph", "speech", "quantization"):  # 'transformer' is the oldest now
        terms.count(word)
    assert scored == ["speech", "transformer", "graph", "quantization"]
    terms.count("speech")
    terms.count("transformer")
    assert scored[-1] == "transformer" and scored.count("speech") == 1  # dropped and recounted; kept
    assert len(terms._counts) == 3
