"""llama-index doors: our retriever and query engine inside stock llama-index components, and llama-index's
`OpenAILike` as the answering model through `Assistant(llm=...)`, against a real `llama_cpp.server` on loopback
serving the bundled SmolLM2 (nothing mocked). Fast tests use a hashed-embedding index of the bundled corpus."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_index.core import Settings as LlamaSettings
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers import get_response_synthesizer
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.tools import QueryEngineTool
from llama_index.llms.openai_like import OpenAILike

from rag import Assistant, ConfigError, Settings
from rag.citations import UNSUPPORTED
from rag.integrations.llama_index import PAPER_KEYS, LlamaIndexChat
from rag.types import Answer
from tests.conftest import free_port, model_answered
from tests.llm_servers import llama_server

QUESTION = "How much faster is Transformer TTS than Tacotron2?"


def hash_settings(data_dir: Path, **extra: object) -> Settings:
    # hashed bag-of-words cosines are not calibrated like MiniLM's, so abstention is off here
    return Settings(data_dir=data_dir, embed="hash", llm="extractive", abstain_threshold=0.0, **extra)


@pytest.fixture()
def index_dir(hash_bundled_dir: Path) -> Path:
    return hash_bundled_dir  # read-only here


@pytest.fixture()
def assistant(index_dir: Path) -> Iterator[Assistant]:
    a = Assistant(hash_settings(index_dir))
    yield a
    a.close()


@pytest.fixture(scope="module")
def llm_url() -> Iterator[str]:
    """`llama_cpp.server` with the bundled SmolLM2 on 127.0.0.1 (without the weight repacking that crashes some
    VMs), once for the module."""
    with llama_server() as url:
        yield url


def openai_like(url: str, **extra: object) -> OpenAILike:
    options = {"max_tokens": 120, "timeout": 300.0, "max_retries": 0, "context_window": 4096, **extra}
    return OpenAILike(model="smollm2", api_base=url, api_key="not-needed", is_chat_model=True, **options)


def markers(text: str) -> set[int]:
    return {int(n) for group in re.findall(r"\[(\d+(?:,\s*\d+)*)\]", text) for n in group.split(",")}


@pytest.fixture(autouse=True)
def no_global_llm() -> Iterator[None]:
    """Nothing may resolve llama-index's global LLM (it silently falls back to OpenAI)."""
    LlamaSettings._llm = None
    yield
    assert LlamaSettings._llm is None


# --- without an LLM ----------------------------------------------------------------------------


def test_retriever_nodes_carry_passage_metadata_and_fused_score(assistant: Assistant) -> None:
    retriever = assistant.as_retriever(k=4, mode="hybrid")
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve("transformer text to speech")
    hits = assistant.search("transformer text to speech", 4, mode="hybrid")
    assert [n.node.metadata["paper_id"] for n in nodes] == [h.paper.id for h in hits]
    for node, hit in zip(nodes, hits, strict=True):
        assert node.score == pytest.approx(hit.score)
        assert node.node.get_content() == hit.passage
        meta = node.node.metadata
        assert set(PAPER_KEYS) <= meta.keys()
        assert (meta["title"], meta["year"], meta["source"]) == (hit.paper.title, hit.paper.year, hit.paper.source)
        assert meta["authors"] == ", ".join(hit.paper.authors) and meta["url"] == (hit.paper.url or "")
        shown = node.node.get_content(metadata_mode="llm")
        assert hit.paper.title in shown and hit.paper.source not in shown


def test_retriever_honours_mode_filters_and_async(assistant: Assistant) -> None:
    lexical = asyncio.run(assistant.as_retriever(k=3, mode="bm25").aretrieve("quantization"))
    assert [n.node.metadata["paper_id"] for n in lexical] == [
        h.paper.id for h in assistant.search("quantization", 3, mode="bm25")
    ]
    dated = assistant.as_retriever(k=5, year=(2020, 2022)).retrieve("neural networks")
    assert dated and all(2020 <= n.node.metadata["year"] <= 2022 for n in dated)


def test_query_engine_response_is_the_checked_answer_with_cited_papers(assistant: Assistant) -> None:
    response = assistant.as_query_engine(k=3).query(QUESTION)
    answer = response.metadata["answer"]
    assert isinstance(answer, Answer) and answer.citations
    assert response.response == answer.text and "4.25" in answer.text
    assert [n.node.metadata["citation"] for n in response.source_nodes] == [c.number for c in answer.citations]
    assert markers(response.response) == {n.node.metadata["citation"] for n in response.source_nodes}
    for node, citation in zip(response.source_nodes, answer.citations, strict=True):
        assert node.node.metadata["paper_id"] == citation.paper.id
        assert node.node.metadata["quote"] == citation.quote
        assert citation.quote.rstrip(".") in citation.paper.abstract


def test_query_engine_works_as_a_stock_llama_index_tool(assistant: Assistant) -> None:
    tool = QueryEngineTool.from_defaults(
        query_engine=assistant.as_query_engine(), name="papers", description="Cited answers from paper abstracts."
    )
    output = tool.call(QUESTION)
    assert "4.25" in output.content and markers(output.content)
    assert asyncio.run(assistant.as_query_engine().aquery(QUESTION)).response == output.content


def test_an_unreachable_llama_index_llm_falls_back_with_a_notice(index_dir: Path) -> None:
    down = openai_like(f"http://127.0.0.1:{free_port()}/v1", timeout=5.0)
    answer = Assistant(hash_settings(index_dir), llm=down).ask(QUESTION)
    assert answer.backend == "extractive" and answer.citations
    assert answer.notice and "OpenAILike failed" in answer.notice and "extractive" in answer.notice


def test_settings_name_a_llama_index_llm_class(index_dir: Path) -> None:
    settings = hash_settings(
        index_dir,
        llm_class="llama_index.llms.openai_like.OpenAILike",
        llm_kwargs={"model": "served-model", "api_base": "http://127.0.0.1:9/v1", "is_chat_model": True},
    )
    chat = Assistant(settings).answerer().llm
    assert isinstance(chat, LlamaIndexChat)
    assert isinstance(chat.llm, OpenAILike) and chat.model == "served-model"


@pytest.mark.parametrize(
    ("llm_class", "kwargs", "complaint"),
    [
        ("os.system", {}, "must name a llama-index LLM class"),
        ("llama_index.llms.nonexistent.Nope", {}, "pip install llama-index-llms-nonexistent"),
        ("llama_index.core.schema.TextNode", {}, "is not a llama-index LLM class"),
        ("llama_index.llms.openai_like.OpenAILike", {"context_window": "secret-value"}, "context_window"),
    ],
)
def test_a_bad_llm_class_setting_is_a_config_error(index_dir: Path, llm_class: str, kwargs: dict, complaint: str):
    with pytest.raises(ConfigError, match=re.escape(complaint)) as caught:
        Assistant(hash_settings(index_dir, llm_class=llm_class, llm_kwargs=kwargs))
    assert "secret-value" not in str(caught.value)


def test_llm_refuses_what_is_not_a_llama_index_llm(index_dir: Path) -> None:
    with pytest.raises(ConfigError, match="llama-index LLM"):
        Assistant(hash_settings(index_dir), llm="gpt-4")


# --- with the real llama_cpp.server --------------------------------------------------------------


@pytest.mark.slow
def test_retriever_inside_a_stock_retriever_query_engine(assistant: Assistant, llm_url: str) -> None:
    retriever = assistant.as_retriever(k=1)  # one abstract keeps the prompt short for SmolLM2 on 2 cores
    synthesizer = get_response_synthesizer(llm=openai_like(llm_url, max_tokens=60), response_mode="compact")
    engine = RetrieverQueryEngine(retriever=retriever, response_synthesizer=synthesizer)
    response = engine.query(QUESTION)
    assert str(response).strip() and str(response) != "Empty Response"
    assert [n.node.node_id for n in response.source_nodes] == [n.node.node_id for n in retriever.retrieve(QUESTION)]
    assert all(n.node.metadata["paper_id"] for n in response.source_nodes)


@pytest.mark.slow
def test_openai_like_answers_through_the_assistant_with_checked_citations(index_dir: Path, llm_url: str) -> None:
    # a generous deadline: on a busy 2-core machine SmolLM2 reads a prompt at ~25 tokens/s
    assistant = Assistant(hash_settings(index_dir, answer_deadline=300.0), llm=openai_like(llm_url))
    items = list(assistant.stream(QUESTION, k=2))
    answer = items[-1]
    assert isinstance(answer, Answer)
    if model_answered(answer, "llama-index"):
        assert answer.model == "smollm2"
    assert len(items) > 2  # streamed in several deltas
    assert answer.usage["completion_tokens"] > 0
    assert answer.abstained or answer.sentences
    assert markers(answer.text) == {c.number for c in answer.citations}
    for sentence in answer.sentences:  # every sentence is cited and supported, or visibly marked
        assert sentence.supported == bool(sentence.citations)  # support is a cited source's, never a fragment's
    if any(s.claim and not s.supported for s in answer.sentences):
        assert UNSUPPORTED in answer.text
