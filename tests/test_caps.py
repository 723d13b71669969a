"""Caps on everything a client sends: history turns and their number, the condensed question, the `/ask` body, MCP
arguments and the Python API's search query. Each is refused in one line naming its setting, before any retrieval
(a retriever that fails when called proves it); a 10 MB history turn never becomes a search."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag import Assistant
from rag.api import create_app
from rag.errors import InputError
from rag.retrieval import Retriever
from rag.types import Answer, QueryOptions
from tests.fakes import ScriptedChat, fake_assistant, write_jsonl

TEN_MB = "x" * 10_000_000
PAPERS = [
    {"id": f"p{i}", "title": f"Squid camouflage study {i}", "abstract": f"Squids hide by counter-illumination {i}."}
    for i in range(3)
]


@pytest.fixture()
def assistant(tmp_path: Path) -> Iterator[Assistant]:
    a = fake_assistant(tmp_path / "data", llm="extractive", abstain_threshold=0.0)
    a.ingest([write_jsonl(tmp_path / "papers.jsonl", PAPERS)], progress=False)
    yield a
    a.close()


@pytest.fixture()
def no_retrieval(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Retrieval that fails the test when it runs: a refused input must never reach it."""
    queries: list[str] = []

    def search(self: Retriever, query: str, *args: Any, **kwargs: Any) -> Any:
        queries.append(query)
        raise AssertionError(f"retrieval ran on a {len(query):,}-character query")

    monkeypatch.setattr(Retriever, "search", search)
    return queries


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def bot(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


# --- Python API ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("history", "setting"),
    [
        ([user(TEN_MB), bot("ok")], "RAG_MAX_QUESTION_CHARS"),  # an earlier question is a question
        ([user("squids?"), bot("y" * 8001)], "RAG_MAX_TURN_CHARS"),
        ([user("squids?"), bot("ok")] * 11, "RAG_MAX_HISTORY_TURNS"),
    ],
)
def test_history_over_a_cap_is_refused_before_retrieval(
    assistant: Assistant, no_retrieval: list[str], history: list[dict[str, str]], setting: str
) -> None:
    for call in (assistant.ask, lambda q, **kw: next(assistant.stream(q, **kw))):
        with pytest.raises(InputError, match=setting) as refused:
            call("And what about them?", history=history)
        assert "\n" not in str(refused.value)
    assert no_retrieval == []


@pytest.mark.parametrize("turn", [{"role": "system", "content": "x"}, {"role": "user"}, "hello", {"content": 3}])
def test_a_malformed_history_turn_is_an_input_error(assistant: Assistant, no_retrieval: list[str], turn: Any) -> None:
    with pytest.raises(InputError, match="history turn 1"):
        assistant.ask("What about them?", history=[turn])


def test_history_within_the_caps_is_answered(assistant: Assistant) -> None:
    history = [user("squid camouflage"), bot("y" * 8000)] * 10  # 20 turns, each at its cap
    answer = assistant.ask("How do they hide?", history=history)
    assert isinstance(answer, Answer) and answer.sources


def test_a_long_search_query_is_refused_by_the_python_api(assistant: Assistant, no_retrieval: list[str]) -> None:
    with pytest.raises(InputError, match=r"search query is 2,001 characters long; the limit is 2,000 \(RAG_MAX_QUE"):
        assistant.search("q" * 2001)
    assert no_retrieval == []


def test_a_condensed_question_over_the_cap_is_refused(tmp_path: Path, no_retrieval: list[str]) -> None:
    """A follow-up condensed into a standalone question longer than the cap is never searched. (A reply is cut at
    1.5x the tokens asked for, so a small cap stands in for a huge condensed question here.)"""
    chat = ScriptedChat(lambda messages: "w" * 200)
    a = fake_assistant(tmp_path / "data", chat, abstain_threshold=0.0, max_question_chars=50)
    with pytest.raises(InputError, match=r"search query is 200 characters long.*RAG_MAX_QUESTION_CHARS"):
        a.ask("And them?", history=[user("squid camouflage"), bot("They glow.")])
    assert len(chat.requests) == 1 and no_retrieval == []  # condensed, then refused


# --- REST /ask ---------------------------------------------------------------------------------
@pytest.fixture()
def client(assistant: Assistant) -> TestClient:
    return TestClient(create_app(assistant), base_url="http://127.0.0.1:8000", raise_server_exceptions=False)


def test_an_ask_body_over_the_cap_gets_413_unread(assistant: Assistant, client: TestClient, no_retrieval) -> None:
    asked: list[str] = []
    assistant.ask = lambda *a, **k: asked.append("ask")  # type: ignore[method-assign]
    body = {"question": "And them?", "history": [user(TEN_MB)]}
    response = client.post("/ask", json=body)
    assert response.status_code == 413
    assert response.json() == {"error": "the request body is larger than 1,024 KB (RAG_API_MAX_BODY_KB)"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap counts the bytes as they come
        yield b'{"question": "And them?", "history": [{"role": "user", "content": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}]}'

    chunked = client.post("/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413 and "RAG_API_MAX_BODY_KB" in chunked.json()["error"]
    assert asked == [] and no_retrieval == []


@pytest.mark.parametrize(
    ("history", "setting"),
    [
        ([user("q" * 2001)], "RAG_MAX_QUESTION_CHARS"),
        ([user("squids?"), bot("y" * 8001)], "RAG_MAX_TURN_CHARS"),
        ([user("squids?"), bot("ok")] * 11, "RAG_MAX_HISTORY_TURNS"),
    ],
)
def test_rest_history_over_a_cap_gets_400(
    client: TestClient, no_retrieval: list[str], history: list[dict[str, str]], setting: str
) -> None:
    for stream in (False, True):
        response = client.post("/ask", json={"question": "And them?", "history": history, "stream": stream})
        assert response.status_code == 400 and setting in response.json()["error"]
    assert no_retrieval == []


def test_rest_search_query_over_the_cap_gets_400(client: TestClient, no_retrieval: list[str]) -> None:
    response = client.get("/search", params={"q": "q" * 2001})
    assert response.status_code == 400 and "RAG_MAX_QUESTION_CHARS" in response.json()["error"]
    assert no_retrieval == []


# --- MCP ---------------------------------------------------------------------------------------
def test_mcp_arguments_are_capped(assistant: Assistant, no_retrieval: list[str]) -> None:
    from mcp import Client

    from rag.mcp import build_server

    async def calls() -> tuple[Any, Any]:
        async with Client(build_server(assistant)) as mcp:
            search = await mcp.call_tool("search_papers", {"query": "q" * 2001})
            ask = await mcp.call_tool("ask_papers", {"question": "q" * 2001})
            return search, ask

    search, ask = asyncio.run(calls())
    for result in (search, ask):
        assert result.is_error and "RAG_MAX_QUESTION_CHARS" in result.content[0].text
    assert no_retrieval == []


# --- the web UI ----------------------------------------------------------------------------------
def test_the_ui_gives_the_answerer_only_its_latest_turns(assistant: Assistant) -> None:
    from rag.ui.app import build_app

    seen: list[list[dict[str, str]]] = []

    def stream(question: str, options: QueryOptions) -> Iterator[str | Answer]:
        seen.append(options.history or [])
        yield Answer(question=question, text="z" * 20_000)

    assistant.stream = stream  # type: ignore[method-assign]
    demo = build_app(assistant)
    respond = next(f.fn for f in demo.fns.values() if f.name == "respond")
    turns = [user("squids?"), bot("ok")] * 30
    *_, last = respond("And them?", [], turns, "extractive", "", 5, None, None)
    assert seen[0] == turns[-20:]  # RAG_MAX_HISTORY_TURNS
    new_turns = last[1]
    assert new_turns[-1] == bot("z" * 8000)  # kept within RAG_MAX_TURN_CHARS for the next question
