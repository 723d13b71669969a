"""What every answering model offers the answerer: a reply streamed in text deltas, cut at a token cap and a
deadline, with the usage the server reported (`ChatBackend`, `Reply`, `Usage`).

Every call returns its own `Reply`: the text deltas, then the token usage of that call, so
concurrent users never see each other's figures. A reply never outlives its deadline: the backend
is read in a worker thread and the caller waits only for the time left, so a server that hangs,
throttles with a long `Retry-After` or drips tokens cannot hold an answer past it. A reply that
ends without the server saying it is finished (a cut stream) or that cannot be parsed raises
`BackendUnavailableError`, which callers turn into a fallback with a notice. A reply is cut at `REPLY_CAP` times
the tokens asked for, and its stream closed there, so a server that ignores `max_tokens` cannot send megabytes
that the citation check would then have to read.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from rag.errors import BackendUnavailableError
from rag.tokens import count_tokens, encoding

log = logging.getLogger(__name__)
Message = dict[str, str]

REPLY_CAP = 1.5
"""A reply is cut at this many times the `max_tokens` it was asked for (servers may ignore the option)."""
CHARS_PER_TOKEN = 16
"""More characters than any token holds: a delta is cut to this many per token left before it is counted."""


@dataclass(frozen=True)
class Usage:
    """Token counts a server reported for one call."""

    prompt_tokens: int
    completion_tokens: int


class Reply:
    """One chat completion read in a worker thread and bounded by a deadline.

    Iterate it (once) for the text deltas; afterwards `usage` holds the token counts the server
    reported for this call (empty when it reported none). Waiting stops at the deadline whatever the
    backend does; the worker then stops at its next chunk (or at its own time-out) and its
    generator is closed, which closes the HTTP response.
    """

    def __init__(self, stream: Iterator[str | Usage], deadline: float, max_tokens: int | None = None) -> None:
        self.usage: dict[str, int] = {}
        self.deadline = deadline
        self.limit = None if max_tokens is None else max(int(REPLY_CAP * max_tokens), 1)
        """Tokens read before the reply is cut and its stream closed (None: no limit)."""
        self.cut = False
        """Whether the reply ran past `limit` and was cut there."""
        self._stream = stream
        self._cancelled = threading.Event()
        self._read = False

    def __iter__(self) -> Generator[str, None, None]:
        if self._read:
            raise RuntimeError("a Reply can be read only once")
        self._read = True
        items: queue.Queue[tuple[str, Any]] = queue.Queue()
        budget = self.deadline - time.monotonic()
        threading.Thread(target=self._work, args=(items,), name="llm-reply", daemon=True).start()
        try:
            while True:
                try:
                    kind, value = items.get(timeout=max(self.deadline - time.monotonic(), 0.0))
                except queue.Empty:
                    raise BackendUnavailableError(
                        f"the LLM did not finish within the {budget:.0f} s answer deadline"
                    ) from None
                if kind == "delta":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            self._cancelled.set()

    def _work(self, items: queue.Queue[tuple[str, Any]]) -> None:
        used = 0
        try:
            for item in self._stream:
                if self._cancelled.is_set():
                    break
                if isinstance(item, Usage):
                    self.usage = {"prompt_tokens": item.prompt_tokens, "completion_tokens": item.completion_tokens}
                    continue
                if self.limit is not None:
                    item, used = _within(item, used, self.limit)
                if item:
                    items.put(("delta", item))
                if self.limit is not None and used >= self.limit:
                    self.cut = True  # a server that ignores max_tokens: stop reading; the stream is closed below
                    log.warning("the LLM reply was cut at %d tokens (the server ignored max_tokens)", self.limit)
                    items.put(("end", None))
                    break
            else:
                items.put(("end", None))
        except BackendUnavailableError as exc:
            items.put(("error", exc))
        except Exception as exc:  # whatever else a client library raises mid-stream is a failed reply too
            log.debug("LLM reply failed", exc_info=True)
            items.put(("error", BackendUnavailableError(f"the LLM reply failed ({type(exc).__name__})")))
        finally:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()  # a generator's `finally` / `with` blocks run here, in the worker


def _within(delta: str, used: int, limit: int) -> tuple[str, int]:
    """`delta` cut so that no more than `limit` tokens are read in all, and the tokens read after it; a reply that
    reaches `limit` exactly is cut there too (what follows would be over)."""
    delta = delta[: (limit - used) * CHARS_PER_TOKEN]  # a huge delta is never tokenized whole
    tokens = count_tokens(delta)
    if used + tokens < limit:
        return delta, used + tokens
    ids = encoding().encode(delta, disallowed_special=())
    return encoding().decode(ids[: limit - used]), limit


class ChatBackend(ABC):
    """Streams chat completions. `stream` is what a backend implements; callers use `reply` (bounded by a
    deadline, usage per call) or `complete`."""

    name: str
    model: str
    context_window: int
    deadline_s: float = 30.0
    """The time limit of a call that names no deadline."""

    @abstractmethod
    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0, deadline: float | None = None
    ) -> Iterator[str | Usage]:
        """Yield the reply's text deltas, and a `Usage` when the server reports one. `deadline` (a
        `time.monotonic()` instant) caps request time-outs and retries; raise `BackendUnavailableError`
        for a reply that fails or is incomplete."""

    def reply(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0, deadline: float | None = None
    ) -> Reply:
        """A reply to `messages` that never runs past `deadline` (default: `deadline_s` from now), cut at `REPLY_CAP`
        times `max_tokens`."""
        when = deadline if deadline is not None else time.monotonic() + self.deadline_s
        stream = self.stream(messages, max_tokens=max_tokens, temperature=temperature, deadline=when)
        return Reply(stream, when, max_tokens)

    def complete(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0, deadline: float | None = None
    ) -> str:
        """The whole reply, within the deadline."""
        return "".join(self.reply(messages, max_tokens=max_tokens, temperature=temperature, deadline=deadline))
