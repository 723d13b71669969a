"""`rag mcp`: the server runs as a subprocess and the official `mcp` client talks to it over stdio, once for the
module (over the session's hashed-embedding index of the bundled corpus); tool logic also in-process."""

from __future__ import annotations

import asyncio
import re
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
