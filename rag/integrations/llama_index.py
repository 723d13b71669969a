"""llama-index components over the assistant: a retriever, a query engine, and any llama-index LLM as the
answering model.

Nothing here touches llama-index's global `Settings` (it silently falls back to OpenAI): every component
gets what it needs passed in.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import LLM, ChatMessage
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import ValidationError

from rag.errors import BackendUnavailableError, ConfigError
from rag.generation.chat import ChatBackend, Message, Usage
from rag.types import Answer, Hit, QueryOptions

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.retrieval import Mode


class Assistant(Protocol):
    """What these components need of `rag.Assistant` (named here so that this door depends on the façade's
    shape, not on its module: `rag.assistant` imports this one lazily)."""

    settings: Settings

    def search(self, *args: Any, **kwargs: Any) -> list[Hit]: ...

    def ask(self, *args: Any, **kwargs: Any) -> Answer: ...


PAPER_KEYS = ("paper_id", "title", "year", "authors", "source", "url")
"""The metadata every node carries (authors joined by ", ", so vector stores that want scalars take it)."""
_LLM_VISIBLE = {"title", "year"}  # what a downstream synthesizer shows its LLM besides the passage


def hit_node(hit: Hit, **extra: Any) -> NodeWithScore:
    """A retrieved passage as a llama-index node with the paper's metadata and our fused score."""
    p = hit.paper
    metadata = {
        "paper_id": p.id,
        "title": p.title,
        "year": p.year,
        "authors": ", ".join(p.authors),
        "source": p.source,
        "url": p.url or "",
        **extra,
    }
    node = TextNode(
        id_=hit.chunk_id or p.id,
        text=hit.passage or p.abstract,
        metadata=metadata,
        excluded_llm_metadata_keys=[key for key in metadata if key not in _LLM_VISIBLE],
        excluded_embed_metadata_keys=[key for key in metadata if key != "title"],
    )
    return NodeWithScore(node=node, score=hit.score)


def answer_response(answer: Answer) -> Response:
    """A checked `Answer` as a llama-index `Response`: the cited text, the cited papers as source nodes (in
    citation order, each with its `citation` number and supporting `quote`), and the `Answer` in metadata."""
    given = {h.paper.id: h for h in answer.sources}
    nodes = [
        hit_node(
            given.get(c.paper.id) or Hit(paper=c.paper, score=0.0, passage=c.quote), citation=c.number, quote=c.quote
        )
        for c in answer.citations
    ]
    return Response(
        response=answer.text,
        source_nodes=nodes,
        metadata={"answer": answer, "abstained": answer.abstained, "notice": answer.notice, "backend": answer.backend},
    )


class AssistantRetriever(BaseRetriever):
    """Hybrid (or dense, or BM25) search over the assistant's index, as a llama-index retriever."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        k: int | None = None,
        mode: Mode | None = None,
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.k, self.mode, self.year, self.sources = k, mode, year, sources

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.assistant.search(
            query_bundle.query_str, self.k, mode=self.mode, year=self.year, sources=self.sources
        )
        return [hit_node(h) for h in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


class AssistantQueryEngine(BaseQueryEngine):
    """The assistant's whole answering pipeline as a llama-index query engine: its `Response` holds the checked,
    cited answer text and the cited papers as `source_nodes`."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        k: int | None = None,
        year: tuple[int, int] | None = None,
        sources: Sequence[str] | None = None,
        backend: str | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.k, self.year, self.sources, self.backend = k, year, sources, backend

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """The papers an answer to this query would be written from."""
        k = self.k or self.assistant.settings.answer_k
        hits = self.assistant.search(query_bundle.query_str, k, year=self.year, sources=self.sources)
        return [hit_node(h) for h in hits]

    def _query(self, query_bundle: QueryBundle) -> Response:
        options = QueryOptions(k=self.k, year=self.year, sources=self.sources, backend=self.backend)
        answer = self.assistant.ask(query_bundle.query_str, options)
        return answer_response(answer)

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)


def _usage(raw: Any) -> Usage | None:
    usage = raw.get("usage") if isinstance(raw, dict) else getattr(raw, "usage", None)
    if isinstance(usage, dict):
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    else:
        prompt, completion = getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)
    if isinstance(prompt, int) and isinstance(completion, int):
        return Usage(prompt_tokens=prompt, completion_tokens=completion)
    return None


class LlamaIndexChat(ChatBackend):
    """Any llama-index LLM (Anthropic, Gemini, Bedrock, Ollama, OpenAILike, ...) as the answering model.

    The LLM's own settings (max_tokens, temperature, timeouts, retries) apply: they are the provider's, set
    where the LLM is made; the answer deadline still bounds the wait. Any error it raises becomes
    `BackendUnavailableError`, so the answer falls back to the extractive one with a notice, as for the
    built-in backends.
    """

    name = "llama-index"

    def __init__(self, llm: LLM) -> None:
        super().__init__()
        if not isinstance(llm, LLM):
            raise ConfigError(f"llm= takes a llama-index LLM (llama_index.core.llms.LLM), not {type(llm).__name__}")
        self.llm = llm
        metadata = llm.metadata
        self.model = metadata.model_name
        self.context_window = metadata.context_window

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0, deadline: float | None = None
    ) -> Iterator[str | Usage]:
        chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        usage = None
        try:
            for chunk in self.llm.stream_chat(chat):
                usage = _usage(chunk.raw) or usage
                if chunk.delta:
                    yield chunk.delta
        except Exception as exc:  # any provider's error: the caller falls back to the extractive answer
            raise BackendUnavailableError(
                f"the llama-index LLM {type(self.llm).__name__} failed ({type(exc).__name__})"
            ) from None
        if usage is not None:
            yield usage


def llm_from_settings(settings: Settings) -> LLM:
    """The llama-index LLM that `RAG_LLM_CLASS` and `RAG_LLM_KWARGS` describe."""
    path = settings.llm_class or ""
    module_name, _, class_name = path.rpartition(".")
    if not module_name.startswith("llama_index.") or not class_name:
        raise ConfigError(
            f"RAG_LLM_CLASS={path!r} must name a llama-index LLM class, e.g. llama_index.llms.ollama.Ollama"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        package = "llama-index-" + module_name.removeprefix("llama_index.").replace(".", "-").replace("_", "-")
        raise ConfigError(f"RAG_LLM_CLASS: cannot import {module_name}; install it (pip install {package})") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, LLM)):
        raise ConfigError(f"RAG_LLM_CLASS: {path} is not a llama-index LLM class")
    try:
        return cls(**settings.llm_kwargs)
    except ValidationError as exc:  # name the fields, never echo their values (they may hold keys)
        fields = ", ".join(".".join(str(part) for part in e["loc"]) or "?" for e in exc.errors())
        raise ConfigError(f"RAG_LLM_KWARGS do not fit {class_name}: check {fields}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"RAG_LLM_KWARGS do not fit {class_name} ({type(exc).__name__})") from None
