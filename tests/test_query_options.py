"""One `QueryOptions` for every door: the object and the keywords answer alike, and mixing them is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Answer, Assistant, ConfigError, InputError, QueryOptions, RagError, Settings

QUESTION = "How much faster is Transformer TTS than Tacotron2?"


@pytest.fixture
def assistant(hash_bundled_dir: Path) -> Iterator[Assistant]:
    a = Assistant(Settings(data_dir=hash_bundled_dir, embed="hash", llm="extractive"))
    yield a
    a.close()


def test_options_as_one_object_answer_as_the_same_keywords(assistant: Assistant) -> None:
    history = [{"role": "user", "content": "Which paper speeds up speech synthesis?"}]
    keywords = assistant.ask(QUESTION, k=2, history=history, backend="extractive")
    options = assistant.ask(QUESTION, QueryOptions(k=2, history=history, backend="extractive"))
    assert (options.text, options.status) == (keywords.text, keywords.status)
    assert [c.paper.id for c in options.citations] == [c.paper.id for c in keywords.citations]
    assert len(options.sources) == len(keywords.sources) == 2  # k reached retrieval


def test_the_options_reach_the_checks_whichever_way_they_come(assistant: Assistant) -> None:
    bad = [{"role": "system", "content": "x"}]
    with pytest.raises(InputError, match="history turn 1 must be"):
        assistant.ask(QUESTION, QueryOptions(history=bad))
    with pytest.raises(InputError, match="history turn 1 must be"):
        assistant.ask(QUESTION, history=bad)


def test_an_object_and_keywords_together_are_refused_in_one_line(assistant: Assistant) -> None:
    with pytest.raises(ConfigError, match=r"either as QueryOptions or as keywords, not both \(k\)"):
        assistant.ask(QUESTION, QueryOptions(k=2), k=3)


@pytest.mark.parametrize("as_object", [True, False], ids=["object", "keywords"])
def test_each_option_reaches_the_answer(assistant: Assistant, as_object: bool) -> None:
    def ask(**options: object) -> Answer:
        return assistant.ask(QUESTION, QueryOptions(**options)) if as_object else assistant.ask(QUESTION, **options)  # type: ignore[arg-type]

    with pytest.raises(RagError, match="no-such-model"):  # the model is checked against the allowed ones
        ask(backend="openai", model="no-such-model")
    dated = ask(year=(2019, 2023))
    assert all(2019 <= (h.paper.year or 0) <= 2023 for h in dated.sources)  # the year filter reached retrieval
    assert not ask(sources=["no-such-file.txt"]).citations  # no paper comes from that file: nothing to cite


def test_something_else_in_the_options_place_is_refused_in_one_line(assistant: Assistant) -> None:
    history = [{"role": "user", "content": "Which paper speeds up speech synthesis?"}]
    with pytest.raises(ConfigError, match="options must be a QueryOptions, not list: pass the others by keyword"):
        assistant.ask(QUESTION, history)  # type: ignore[arg-type]
