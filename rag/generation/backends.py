"""LLM backends behind one small interface (`rag.generation.chat`): OpenAI (or any OpenAI-compatible server), here,
and the bundled SmolLM2 run in-process by llama.cpp (`rag.generation.local`); `make_backend` picks one. The only
openai import.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from rag.config import Settings
from rag.errors import BackendUnavailableError, ConfigError
from rag.generation.chat import ChatBackend, Message, Usage
from rag.generation.local import LocalBackend

log = logging.getLogger(__name__)


def retry_after(headers: Any) -> float | None:
    """Seconds a server asks to wait (`retry-after-ms`, `retry-after` in seconds or as an HTTP date)."""
    if headers is None:
        return None
    if value := headers.get("retry-after-ms"):
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None


CONNECT_TIMEOUT = 5.0
"""Seconds a connection to the LLM server may take to open (capped by the request time-out): a server that does not
accept a connection in it is not there, and waiting out the whole answer deadline for it helps nobody."""


OFFLINE_DEFAULT = "extractive"
"""What `RAG_LLM=auto` uses without a key or base URL: the better offline backend on our answer
benchmark (eval/results/answers.md)."""


def resolve_backend(settings: Settings) -> str:
    """The backend `RAG_LLM` names, with `auto` resolved."""
    if settings.llm != "auto":
        return settings.llm
    return "openai" if settings.openai_api_key or settings.openai_base_url else OFFLINE_DEFAULT


def check_settings(kind: str, settings: Settings) -> None:
    """Raise `ConfigError` at once when the `kind` backend cannot work with `settings`: callers check this before any
    index, model or network work, so that a missing key is reported in a second, not after retrieval."""
    if kind == "openai" and not (settings.openai_api_key or settings.openai_base_url):
        raise ConfigError(
            "the openai backend needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server); "
            "set one, or choose another backend (RAG_LLM=extractive or local)"
        )


def unreachable(settings: Settings) -> str | None:
    """Why the OpenAI(-compatible) server cannot be reached, from one TCP connection attempt (at most
    `CONNECT_TIMEOUT`), or None when it accepts one or when a proxy would carry the requests (only the request can
    tell then). For a one-shot command to say so before it indexes or retrieves anything."""
    import socket
    import urllib.request
    from urllib.parse import urlsplit

    if urllib.request.getproxies():
        return None
    url = urlsplit(settings.openai_base_url or "https://api.openai.com/v1")
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:  # a port out of range: the request will say so
        return None
    try:
        socket.create_connection((url.hostname or "", port), timeout=CONNECT_TIMEOUT).close()
    except TimeoutError:
        why = f"no connection within {CONNECT_TIMEOUT:.0f} s"
    except OSError as exc:
        why = (exc.strerror or type(exc).__name__).lower()
    else:
        return None
    if settings.openai_base_url:
        return f"the LLM server at OPENAI_BASE_URL={settings.openai_base_url} cannot be reached ({why})"
    return f"the OpenAI API cannot be reached ({why}): check the network, or set OPENAI_BASE_URL"


class OpenAIBackend(ChatBackend):
    """The OpenAI API or an OpenAI-compatible server (Ollama, vLLM, llama.cpp's server)."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        check_settings(self.name, settings)
        from openai import OpenAI

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        # retries are ours (below), so that none is started that cannot finish before the deadline
        self.client = OpenAI(api_key=key, base_url=settings.openai_base_url, max_retries=0)
        self.client.chat.completions  # noqa: B018 - loads the client's lazy modules now, not on the answer's clock
        self.model = settings.openai_model
        self.context_window = settings.llm_context_window or (128_000 if not settings.openai_base_url else 4096)
        self.request_timeout = settings.request_timeout
        self.base_url = settings.openai_base_url
        self.max_retries = settings.llm_max_retries
        self.deadline_s = settings.answer_deadline
        self.usage_option = True  # ask for usage in the stream until the server turns the option down

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0, deadline: float | None = None
    ) -> Iterator[str | Usage]:
        import openai

        deadline = deadline if deadline is not None else time.monotonic() + self.deadline_s
        stream = self._open(messages, max_tokens, temperature, deadline)
        finished = False
        try:
            with stream:
                for chunk in stream:
                    if getattr(chunk, "usage", None):
                        yield Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finished = finished or bool(choice.finish_reason)
                    if choice.delta and choice.delta.content:
                        yield choice.delta.content
        except json.JSONDecodeError:
            raise BackendUnavailableError("the LLM server sent a malformed reply (invalid JSON)") from None
        except openai.APITimeoutError:
            raise BackendUnavailableError("the LLM server timed out") from None
        except openai.APIError as exc:
            raise BackendUnavailableError(f"the LLM server's reply broke off ({type(exc).__name__})") from None
        if not finished:  # the stream ended without the server saying the reply was done: a cut, not an answer
            kind = stream.response.headers.get("content-type", "").split(";")[0].strip()
            if kind != "text/event-stream":
                raise BackendUnavailableError(
                    f"the LLM server sent a malformed reply ({kind or 'an untyped body'}, not an event stream)"
                )
            raise BackendUnavailableError("the LLM server's reply stopped before it was complete")

    def _open(self, messages: list[Message], max_tokens: int, temperature: float, deadline: float) -> Any:
        """The response stream, after at most `max_retries` retries, none of which would end past the deadline."""
        import httpx
        import openai

        retries = 0
        while True:
            extra: dict[str, Any] = {"stream_options": {"include_usage": True}} if self.usage_option else {}
            timeout = max(min(self.request_timeout, deadline - time.monotonic()), 0.05)
            connect = min(timeout, CONNECT_TIMEOUT)  # less only when the deadline is nearly out: a time-out then
            try:
                return self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stream=True,
                    timeout=httpx.Timeout(timeout, connect=connect),
                    **extra,
                )
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if not self.usage_option or "stream_options" not in str(exc):
                    raise BackendUnavailableError(f"the LLM server refused the request ({exc.status_code})") from None
                log.info("the LLM server does not take stream_options; token usage will be estimated")
                self.usage_option = False
            except openai.AuthenticationError:
                where = f" for OPENAI_BASE_URL={self.base_url}" if self.base_url else ""
                raise BackendUnavailableError(
                    f"the LLM server refused the key (401): check OPENAI_API_KEY{where}"
                ) from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                if _not_there(exc, connect):  # refused, no route, no such host: trying again cannot help; say so now
                    raise BackendUnavailableError(self._unreachable(exc)) from None
                failure = _describe(exc)
                if retries >= self.max_retries:
                    raise BackendUnavailableError(failure) from None
                response = getattr(exc, "response", None)
                asked = retry_after(response.headers if response is not None else None)
                wait = asked if asked is not None and asked >= 0 else min(0.5 * 2**retries, 8.0)
                # a server too slow to answer in `timeout` gets another try only if the deadline holds a whole one
                attempt = timeout if isinstance(exc, openai.APITimeoutError) else 0.0
                if time.monotonic() + wait + attempt >= deadline:
                    why = f"asks to retry after {wait:.0f} s" if asked is not None else "keeps failing"
                    why = f"another {timeout:.0f} s try would end" if attempt else f"{why},"
                    raise BackendUnavailableError(f"{failure} and {why} past the answer deadline") from None
                time.sleep(wait)
                retries += 1
            except openai.APIStatusError as exc:
                raise BackendUnavailableError(f"the LLM server answered with an error ({exc.status_code})") from None

    def _unreachable(self, exc: Exception) -> str:
        """'the LLM server at OPENAI_BASE_URL=... cannot be reached (connection refused)': the setting named."""
        why = _reason(exc)
        if self.base_url:
            return f"the LLM server at OPENAI_BASE_URL={self.base_url} cannot be reached ({why})"
        return f"the OpenAI API cannot be reached ({why}): check the network, or set OPENAI_BASE_URL"


def _not_there(exc: Exception, connect: float) -> bool:
    """Whether a failed request never reached a server: the connection was refused, had no route or named an unknown
    host, or was not accepted within the whole `CONNECT_TIMEOUT` (`connect`: the connect time-out it had)."""
    import httpx
    import openai

    if not isinstance(exc, openai.APIConnectionError):
        return False
    return isinstance(exc.__cause__, httpx.ConnectError) or (
        isinstance(exc.__cause__, httpx.ConnectTimeout) and connect >= CONNECT_TIMEOUT
    )


def _reason(exc: Exception) -> str:
    """The operating system's words for a failed connection ('connection refused'), else the exception's name."""
    import httpx

    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectTimeout):
        return f"no connection within {CONNECT_TIMEOUT:.0f} s"
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        cause = cause.__cause__ or cause.__context__
    text = str(exc.__cause__ or exc).strip().splitlines()
    return text[-1][:120] if text else type(exc).__name__


def _describe(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.RateLimitError):
        return "the LLM server is rate-limiting requests (429)"
    if isinstance(exc, openai.APITimeoutError):
        return "the LLM server timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "the LLM server cannot be reached"
    return f"the LLM server answered with an error ({getattr(exc, 'status_code', '?')})"


def make_backend(kind: str, settings: Settings) -> ChatBackend:
    """The chat backend for `kind` ('openai' or 'local')."""
    if kind == "openai":
        return OpenAIBackend(settings)
    if kind == "local":
        return LocalBackend(settings)
    raise ConfigError(f"unknown LLM backend {kind!r}")
