"""`rag mcp`: the server runs as a subprocess and the official `mcp` client talks to it over stdio, once for the
module (over the session's hashed-embedding index of the bundled corpus); tool logic also in-process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from rag import Assistant, Settings

QUESTION = "How much faster is Transformer TTS than Tacotron2?"
QUERY = "transformer text to speech"


def hash_settings(data_dir: Path) -> Settings:
    # hashed bag-of-words cosines are not calibrated like MiniLM's, so abstention is off here
    return Settings(data_dir=data_dir, embed="hash", llm="extractive", abstain_threshold=0.0)


@pytest.fixture(scope="module")
def index_dir(hash_bundled_dir: Path) -> Path:
    return hash_bundled_dir  # read-only here


async def _session(index_dir: Path, cwd: Path) -> dict[str, Any]:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rag.cli", "mcp"],
        env={  # merged over the client's safe defaults (PATH, HOME, ...); no OPENAI_* reaches the server
            "RAG_DATA_DIR": str(index_dir),
            "RAG_EMBED": "hash",
            "RAG_LLM": "extractive",
            "RAG_ABSTAIN_THRESHOLD": "0",
        },
        cwd=cwd,
    )
    async with Client(server, read_timeout_seconds=120) as client:
        return {
            "tools": (await client.list_tools()).tools,
            "search": await client.call_tool("search_papers", {"query": QUERY, "k": 3}),
            "dated": await client.call_tool("search_papers", {"query": "neural networks", "year_from": 2021}),
            "ask": await client.call_tool("ask_papers", {"question": QUESTION}),
            "too_long": await client.call_tool("ask_papers", {"question": "why " * 1000}),
            "missing": await client.call_tool("ask_papers", {}),
        }


@pytest.fixture(scope="module")
def results(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return asyncio.run(_session(index_dir, tmp_path_factory.mktemp("mcp-cwd")))


@pytest.mark.slow
def test_lists_the_two_read_only_tools(results: dict[str, Any]) -> None:
    tools = {t.name: t for t in results["tools"]}
    assert set(tools) == {"search_papers", "ask_papers"}
    assert tools["search_papers"].input_schema["required"] == ["query"]
    assert tools["ask_papers"].input_schema["required"] == ["question"]
    assert all(t.annotations.read_only_hint for t in tools.values())
    assert all(t.description and t.output_schema for t in tools.values())


@pytest.mark.slow
def test_search_papers_returns_paper_records_best_first(results: dict[str, Any], index_dir: Path) -> None:
    found = results["search"]
    assert not found.is_error
    records = found.structured_content["results"]
    expected = Assistant(hash_settings(index_dir)).search(QUERY, 3)
    assert [r["paper"]["id"] for r in records] == [h.paper.id for h in expected]
    first = records[0]
    assert first["paper"]["title"] == expected[0].paper.title and first["paper"]["abstract"]
    assert first["score"] == pytest.approx(expected[0].score) and first["passage"] == expected[0].passage
    dated = results["dated"].structured_content["results"]
    assert dated and all(r["paper"]["year"] >= 2021 for r in dated)


@pytest.mark.slow
def test_ask_papers_returns_a_cited_answer(results: dict[str, Any]) -> None:
    answer = results["ask"]
    assert not answer.is_error
    body = answer.structured_content
    assert "4.25" in body["text"] and not body["abstained"] and body["status"] == "answered"
    used = {int(n) for n in re.findall(r"\[(\d+)\]", body["text"])}
    assert used == {c["number"] for c in body["citations"]} and used
    for citation in body["citations"]:
        assert citation["quote"].rstrip(".") in citation["paper"]["abstract"]
        assert f"[{citation['number']}] {citation['paper']['title']}" in body["references"]
    assert answer.content[0].type == "text" and "4.25" in answer.content[0].text  # for clients without structure


@pytest.mark.slow
def test_bad_calls_are_tool_errors_not_crashes(results: dict[str, Any]) -> None:
    assert results["too_long"].is_error and "RAG_MAX_QUESTION_CHARS" in results["too_long"].content[0].text
    assert results["missing"].is_error and "question" in results["missing"].content[0].text


@pytest.mark.parametrize("k", [0, 500])
def test_tools_clamp_k_and_filter_years_in_process(hash_bundled_dir: Path, k: int) -> None:
    """The same server object, connected in-process (no subprocess): k is clamped to 1..50, years filter."""
    from rag.mcp import build_server

    async def calls() -> tuple[Any, Any]:
        async with Client(build_server(Assistant(hash_settings(hash_bundled_dir)))) as client:
            clamped = await client.call_tool("search_papers", {"query": QUERY, "k": k})
            dated = await client.call_tool("search_papers", {"query": QUERY, "year_from": 2020, "year_to": 2021})
            return clamped, dated

    clamped, dated = asyncio.run(calls())
    assert len(clamped.structured_content["results"]) == (1 if k < 1 else 50)
    years = [r["paper"]["year"] for r in dated.structured_content["results"]]
    assert years and all(2020 <= y <= 2021 for y in years)


# --- a message with an id but no method --------------------------------------------------------------
BAD_REQUESTS = ['{"jsonrpc": "2.0", "id": 7}', '{"jsonrpc": "2.0", "id": "a", "params": {}}', '{"id": 3, "method": 5}']


def _parse(line: str) -> Any:
    import mcp_types

    try:
        return mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except Exception as exc:  # what the stdio transport hands the session for a line it cannot read
        return exc


@pytest.mark.parametrize("line", BAD_REQUESTS)
def test_a_message_with_an_id_but_no_method_gets_an_invalid_request_error(line: str) -> None:
    import anyio
    import mcp_types
    from mcp.shared.message import SessionMessage

    from rag.mcp import answer_invalid_requests

    async def relay() -> tuple[list[Any], list[Any]]:
        incoming_send, incoming = anyio.create_memory_object_stream(10)
        replies_send, replies = anyio.create_memory_object_stream(10)
        forward, forwarded = anyio.create_memory_object_stream(10)
        ok = SessionMessage(mcp_types.JSONRPCNotification(jsonrpc="2.0", method="notifications/initialized"))
        async with incoming_send:
            for item in (_parse(line), _parse("not json"), ok):
                await incoming_send.send(item)
        await answer_invalid_requests(incoming, replies_send, forward)
        replies_send.close()
        return [r async for r in replies], [f async for f in forwarded]

    replies, forwarded = anyio.run(relay)
    assert len(replies) == 1
    error = replies[0].message
    assert isinstance(error, mcp_types.JSONRPCError) and error.error.code == mcp_types.INVALID_REQUEST
    assert error.id == json.loads(line)["id"]
    assert len(forwarded) == 2 and isinstance(forwarded[0], Exception)  # anything else goes on as before


@pytest.mark.slow
def test_rag_mcp_answers_a_request_without_a_method(index_dir: Path, tmp_path: Path) -> None:
    """Over the real stdio transport: the client gets an error for its id instead of waiting forever."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env |= {"RAG_DATA_DIR": str(index_dir), "RAG_EMBED": "hash", "RAG_LLM": "extractive"}
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    lines = [json.dumps(init), '{"jsonrpc": "2.0", "method": "notifications/initialized"}', BAD_REQUESTS[0]]
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "mcp"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    replies = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [r.get("id") for r in replies] == [1, 7], done.stderr[-2000:]
    assert replies[1]["error"]["code"] == -32600


SURROGATE_CALL = (
    '{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    '"params":{"name":"search_papers","arguments":{"query":"graph \\ud800 neural"}}}'
)


def test_a_request_with_an_unpaired_surrogate_gets_a_parse_error_for_its_id() -> None:
    """A JavaScript client cutting a string inside an emoji sends "\\ud800": strict JSON refuses the line, and the
    SDK dropped it without a reply (helper-50: the client waited forever)."""
    import mcp_types

    from rag.mcp import invalid_request_reply

    error = invalid_request_reply(_parse(SURROGATE_CALL % 4))
    assert isinstance(error, mcp_types.JSONRPCError) and error.id == 4
    assert error.error.code == mcp_types.PARSE_ERROR and "surrogate" in error.error.message
    assert invalid_request_reply(_parse('{"jsonrpc": "2.0", "id": 5, "method": ')) is None  # no id to answer


def test_a_tool_given_an_unpaired_surrogate_in_process_says_so_in_one_line(hash_bundled_dir: Path) -> None:
    from rag.mcp import build_server

    async def call() -> Any:
        async with Client(build_server(Assistant(hash_settings(hash_bundled_dir)))) as client:
            return await client.call_tool("search_papers", {"query": "graph \ud800 neural"})

    result = asyncio.run(call())
    assert result.is_error and "unpaired surrogate" in result.content[0].text
