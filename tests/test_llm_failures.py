"""LLM servers that misbehave, and questions too long for the model.

Every server failure ends in the extractive answer with a one-line notice, never an exception out of `ask` and
never a traceback in `rag ask`. No test here asserts a duration (the CI machine can run at load 10): a server that
fails fast is asked with a deadline far longer than any answer takes, and the deadline tests use servers that hang or
drip forever, so only a working deadline can end the answer (the guard that keeps a broken one from hanging the suite
is generous), and the server sees the client go away. Retry timing is checked on a fake clock.

The server is a small fake OpenAI-compatible HTTP server (stdlib, 127.0.0.1) with one mode per failure;
the client side is the real `openai` package, the real index (hash embedder, real Chroma) and the real CLI.
A question over `max_question_chars` is refused in one line; one at the cap still fits the local model.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import openai
import pytest
from typer.testing import CliRunner

from rag import Assistant, Settings
from rag.api import create_app
from rag.cli import app
from rag.errors import BackendUnavailableError, ConfigError, InputError
from rag.generation import backends
from rag.generation.backends import OpenAIBackend
from rag.generation.chat import Reply
from rag.generation.prompts import NO_ANSWER
from rag.tokens import count_tokens
from rag.types import Answer
from tests.conftest import FIXTURES, free_port

LONG = 600.0
"""The deadline of tests about anything but the deadline: no busy machine turns their answer into a fallback."""
GUARD = 300.0
"""How long a test waits on something that a working deadline (or close) brings within seconds; only a broken one
reaches it (it keeps a hang from stalling the suite, it times nothing)."""
QUESTION = "How does the sparse mixture router change the compute of protein folding models?"
ANSWER_DELTAS = ["Sparse ", "mixture ", "routers ", "halve ", "the ", "compute ", "of ", "dense ", "folding ", "[1]."]


class FakeOpenAI(ThreadingHTTPServer):
    """An OpenAI-compatible chat endpoint that misbehaves as `mode` says; records every request body."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.requests: list[dict] = []
        self.stop = threading.Event()  # ends the hung and dripping responses when the test is over
        self.url = f"http://127.0.0.1:{self.server_address[1]}/v1"
        self.sent = 0  # bytes of the last streamed reply that the client's socket took
        self.streaming = threading.Event()  # the endless reply has started
        self.closed_by_client = threading.Event()  # a streamed reply ended because the client closed its connection


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        getattr(self, f"_{self.server.mode}")(body)

    # --- helpers ---------------------------------------------------------------------------
    def _start(self, status: int = 200, content_type: str = "text/event-stream", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")  # the body ends when the connection does
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.close_connection = True

    def _event(self, data: object) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        self.wfile.write(f"data: {text}\n\n".encode())
        self.wfile.flush()

    @staticmethod
    def _chunk(content: str | None = None, finish: str | None = None) -> dict:
        delta = {"content": content} if content is not None else {}
        return {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _error(self, status: int, message: str, **headers: str) -> None:
        payload = json.dumps({"error": {"message": message, "type": "fake", "code": status}}).encode()
        self._start(status, "application/json", Content_Length=str(len(payload)), **headers)
        self.wfile.write(payload)

    # --- modes -----------------------------------------------------------------------------
    def _ok(self, body: dict) -> None:
        """A well-behaved stream; usage when asked for, made of this request's own sizes."""
        self._start()
        for delta in ANSWER_DELTAS:
            self._event(self._chunk(delta))
        self._event(self._chunk(finish="stop"))
        if body.get("stream_options", {}).get("include_usage"):
            prompt = sum(len(m["content"]) for m in body["messages"])
            usage = {"prompt_tokens": prompt, "completion_tokens": len(ANSWER_DELTAS), "total_tokens": prompt + 10}
            self._event({**self._chunk(), "choices": [], "usage": usage})
        self._event("[DONE]")

    def _uncited(self, body: dict) -> None:
        """A well-formed reply that cites nothing (a weak model's usual failure)."""
        self._start()
        for delta in ANSWER_DELTAS[:-1]:
            self._event(self._chunk(delta))
        self._event(self._chunk(finish="stop"))
        self._event("[DONE]")

    def _no_answer(self, body: dict) -> None:
        """A model that says the sources do not answer."""
        self._start()
        self._event(self._chunk(NO_ANSWER))
        self._event(self._chunk(finish="stop"))
        self._event("[DONE]")

    def _slow_ok(self, body: dict) -> None:
        time.sleep(1.0)  # two concurrent requests overlap
        self._ok(body)

    def _reject_usage(self, body: dict) -> None:
        """A server that refuses the stream_options field (as some older compatible servers do)."""
        if "stream_options" in body:
            self._error(400, "Unrecognized request argument supplied: stream_options")
        else:
            self._ok(body)

    def _bad_sse(self, body: dict) -> None:
        self._start()
        self._event(self._chunk("Sparse "))
        self._event('{"id": "c1", "choices": [{"delta": {"content": "mixture')  # invalid JSON
        self._event(self._chunk(finish="stop"))
        self._event("[DONE]")

    def _not_json(self, body: dict) -> None:
        payload = b'{"id": "c1", "object": "chat.completion", "choices": [{"message": {"content": "Spars'
        self._start(200, "application/json", Content_Length=str(len(payload)))
        self.wfile.write(payload)

    def _cut(self, body: dict) -> None:
        """Half an answer, then the connection closes: no finish_reason, no [DONE]."""
        self._start()
        for delta in ANSWER_DELTAS[:4]:
            self._event(self._chunk(delta))

    def _hung(self, body: dict) -> None:
        """Accepts and reads the request, never answers; notes when the client closes the connection."""
        readable = select.poll()  # not select.select: a busy test process may hold descriptors above 1023
        readable.register(self.connection, select.POLLIN)
        while not self.server.stop.wait(0.02):
            if readable.poll(0):
                try:
                    gone = not self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    gone = True
                if gone:
                    self.server.closed_by_client.set()
                    return

    def _rate_limited(self, body: dict) -> None:
        self._error(429, "Rate limit reached", Retry_After="3600")

    def _error_500(self, body: dict) -> None:
        self._error(500, "internal error")

    def _stream_until_closed(self, deltas: Iterator[str]) -> None:
        """Stream `deltas` as chunks, counting the bytes sent, until they run out or the client closes."""
        self._start()
        self.server.sent = 0
        self.server.streaming.set()
        try:
            for delta in deltas:
                event = f"data: {json.dumps(self._chunk(delta))}\n\n".encode()
                self.wfile.write(event)
                self.wfile.flush()
                self.server.sent += len(event)
            self._event(self._chunk(finish="stop"))
            self._event("[DONE]")
        except OSError:  # the client closed the connection
            self.server.closed_by_client.set()

    def _ignore_max_tokens(self, body: dict) -> None:
        """A reply of 64 MB, whatever `max_tokens` asked (sockets buffer a few MB at most)."""
        word = "verbose " * 128  # 1 KB
        self._stream_until_closed(word for _ in range(64 * 1024))

    def _endless(self, body: dict) -> None:
        """A token every 20 ms until the client leaves (or the test ends)."""
        self._stream_until_closed("more " for _ in iter(lambda: self.server.stop.wait(0.02), True))

    def _drip(self, body: dict) -> None:
        """One token every 50 ms, forever: never a read time-out, only the answer deadline can end it."""
        self._start()
        try:
            while not self.server.stop.wait(0.05):
                self._event(self._chunk("more "))
        except OSError:  # the client went away
            self.server.closed_by_client.set()


@pytest.fixture()
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hash_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small on-disk index (real Chroma, hash embedder) of the fixture papers."""
    data = tmp_path_factory.mktemp("hash-index")
    assistant = Assistant(Settings(data_dir=data, embed="hash"))
    report = assistant.ingest([FIXTURES / "papers.jsonl"], progress=False)
    assert report.papers_added == 3, report
    # warm this process (imports of openai, Chroma, BM25): the deadlines below are the answer's, not a cold start's
    assistant.ask(QUESTION, backend="extractive")
    OpenAIBackend(llm_settings(data, "http://127.0.0.1:9/v1"))
    assistant.close()
    return data


@pytest.fixture()
def deadline(hash_index: Path) -> float:
    """A deadline that must run out, scaled from how long an answer without an LLM takes now (the machine's load):
    ten of those and 2 s, so that the request reaches the server well before it ends, even at load 10."""
    assistant = Assistant(Settings(data_dir=hash_index, embed="hash"))
    started = time.monotonic()
    assistant.ask(QUESTION, backend="extractive")
    baseline = time.monotonic() - started
    assistant.close()
    return 2.0 + 10 * baseline


def llm_settings(data_dir: Path, url: str, **overrides: object) -> Settings:
    base = {
        "data_dir": data_dir,
        "embed": "hash",
        "llm": "openai",
        "openai_base_url": url,
        "openai_model": "fake",
        "answer_deadline": LONG,
        "abstain_threshold": -1.0,  # the hash embedder's cosines are not calibrated; always reach the LLM
    }
    return Settings(**{**base, **overrides})


def guarded_ask(
    settings: Settings, question: str = QUESTION, history: list[dict[str, str]] | None = None, **kwargs: object
) -> Answer:
    """`ask` in a thread; fails (instead of hanging the suite) when it has not come back after `GUARD` seconds
    beyond the deadline, which only a broken deadline does with a server that hangs forever."""
    assistant = Assistant(settings, **kwargs)
    result: list[Answer | BaseException] = []

    def run() -> None:
        try:
            result.append(assistant.ask(question, history=history))
        except BaseException as exc:  # handed to the test below
            result.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=settings.answer_deadline + GUARD)
    assert result, "ask still running long after its deadline: the deadline did not end it"
    assistant.close()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


FAILURES = {  # the server's failure -> what the notice says
    "bad_sse": "malformed reply",
    "not_json": "malformed reply (application/json, not an event stream)",
    "cut": "stopped before it was complete",
    "rate_limited": "retry after 3600 s, past the answer deadline",
    "error_500": "answered with an error (500)",
    "uncited": "cited none of the retrieved papers",  # a reply that grounds nothing is no answer either
}


@pytest.mark.parametrize("mode", FAILURES)
def test_a_misbehaving_server_gives_the_extractive_answer_with_a_notice(
    mode: str, fake_server: FakeOpenAI, hash_index: Path
) -> None:
    fake_server.mode = mode
    answer = guarded_ask(llm_settings(hash_index, fake_server.url))  # a 600 s deadline: the failure is the server's
    assert answer.backend == "extractive" and not answer.abstained
    assert answer.notice and FAILURES[mode] in answer.notice and "\n" not in answer.notice
    assert answer.citations[0].paper.title == "Sparse Mixture Routers for Protein Folding"
    assert fake_server.requests, "the LLM was never asked"


DEADLINE_NOTICES = {  # a server that never ends -> what the notice says
    # the request's own time-out is the deadline's remainder: whichever of the two fires first speaks
    "hung": ("answer deadline", "timed out"),
    # a token every 50 ms never lets a read time out: only the deadline of the reply ends it
    "drip": ("answer deadline",),
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", DEADLINE_NOTICES)
def test_the_deadline_ends_an_answer_from_a_server_that_never_finishes(
    mode: str, fake_server: FakeOpenAI, hash_index: Path, deadline: float
) -> None:
    fake_server.mode = mode  # it hangs or drips until the test ends: without the deadline the answer never comes
    answer = guarded_ask(llm_settings(hash_index, fake_server.url, answer_deadline=deadline))
    assert answer.backend == "extractive" and not answer.abstained
    assert answer.notice and any(words in answer.notice for words in DEADLINE_NOTICES[mode]), answer.notice
    assert answer.citations[0].paper.title == "Sparse Mixture Routers for Protein Folding"
    assert len(fake_server.requests) == 1
    assert fake_server.closed_by_client.wait(GUARD), "the client never dropped the request it gave up on"


def test_a_reply_gives_up_at_its_deadline_and_closes_the_stream_it_left() -> None:
    """The deadline of `Reply` alone, without HTTP: a stream that blocks until released."""
    release, closed, started = threading.Event(), threading.Event(), threading.Event()

    def blocking() -> Iterator[str]:
        try:
            yield "first "
            started.set()
            release.wait(GUARD)  # a server that stops sending
            yield "never read"
        finally:
            closed.set()

    reply = Reply(blocking(), deadline=time.monotonic() + 0.1)
    got: list[str] = []
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            got.extend(reply)
            outcome.append(None)
        except BaseException as exc:  # handed to the test below
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(GUARD)  # only a reply that ignores its deadline waits for the release
    assert outcome and isinstance(outcome[0], BackendUnavailableError), outcome
    assert "answer deadline" in str(outcome[0]) and got == ["first "]
    assert started.is_set() and not closed.is_set()  # the worker still waits on the stream...
    release.set()
    assert closed.wait(GUARD), "the abandoned stream was never closed"  # ...and closes it, unread, once it can


class RecordingBackend(OpenAIBackend):
    """The real OpenAI backend, noting the deadline each call is given."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.deadlines: list[float | None] = []

    def reply(self, messages, *, max_tokens, temperature=0.0, deadline=None):  # type: ignore[no-untyped-def]
        self.deadlines.append(deadline)
        return super().reply(messages, max_tokens=max_tokens, temperature=temperature, deadline=deadline)


@pytest.mark.slow
def test_a_follow_up_shares_one_deadline_between_condensing_and_answering(
    fake_server: FakeOpenAI, hash_index: Path, deadline: float
) -> None:
    fake_server.mode = "hung"
    settings = llm_settings(hash_index, fake_server.url, answer_deadline=deadline)
    chat = RecordingBackend(settings)
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "An answer [1]."}]
    answer = guarded_ask(settings, "What did it use?", history, chat=chat)
    assert answer.backend == "extractive" and answer.notice
    assert len(chat.deadlines) == 2 and chat.deadlines[0] is not None  # condensing, then answering...
    assert chat.deadlines[0] == chat.deadlines[1]  # ...within one deadline, not one each


def test_retries_stop_at_the_deadline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A server that keeps answering 500, on a fake clock: tries back off 0.5, 1, 2, 4, 8, 8 s and stop before a
    wait would cross the 30 s deadline, whatever `llm_max_retries` allows."""
    now = [0.0]
    # the fake clock is this thread's only: `time` is one module, and a worker an earlier test left retrying in the
    # background (its own backoff sleeps) must neither move this clock nor be frozen by it
    me, real_monotonic, real_sleep = threading.current_thread(), time.monotonic, time.sleep
    monkeypatch.setattr(
        backends.time, "monotonic", lambda: now[0] if threading.current_thread() is me else real_monotonic()
    )
    monkeypatch.setattr(
        backends.time,
        "sleep",
        lambda s: now.__setitem__(0, now[0] + s) if threading.current_thread() is me else real_sleep(s),
    )
    tries: list[float] = []
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")

    def create(**_: object) -> None:
        tries.append(now[0])
        raise openai.InternalServerError("internal error", response=httpx.Response(500, request=request), body=None)

    backend = OpenAIBackend(llm_settings(tmp_path, "http://127.0.0.1:9/v1", llm_max_retries=50))
    monkeypatch.setattr(backend.client.chat.completions, "create", create)
    with pytest.raises(BackendUnavailableError, match=r"answered with an error \(500\) and keeps failing, past the"):
        backend._open([{"role": "user", "content": "q"}], 16, 0.0, deadline=30.0)
    assert tries == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 23.5]  # the next wait (8 s) would have ended at 31.5
    assert now[0] == 23.5  # it gave up at once, without sleeping towards the deadline


def test_a_well_behaved_server_answers_with_its_own_usage(fake_server: FakeOpenAI, hash_index: Path) -> None:
    answer = guarded_ask(llm_settings(hash_index, fake_server.url))
    assert answer.backend == "openai" and answer.notice is None
    assert fake_server.requests[0]["stream_options"] == {"include_usage": True}
    prompt = sum(len(m["content"]) for m in fake_server.requests[0]["messages"])
    assert answer.usage == {"prompt_tokens": prompt, "completion_tokens": len(ANSWER_DELTAS)}


def test_concurrent_asks_each_get_their_own_usage(fake_server: FakeOpenAI, hash_index: Path) -> None:
    fake_server.mode = "slow_ok"  # the two requests overlap on the server
    assistant = Assistant(llm_settings(hash_index, fake_server.url))  # one Assistant, as the UI shares it
    questions = [
        QUESTION,
        "By how much does the sparse mixture router cut the compute of dense protein folding models?",
    ]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(assistant.ask, questions))
    assistant.close()
    assert len(fake_server.requests) == 2
    for question, answer in zip(questions, answers, strict=True):
        (request,) = [r for r in fake_server.requests if question in r["messages"][-1]["content"]]
        assert answer.notice is None and "estimated" not in answer.usage
        assert answer.usage["prompt_tokens"] == sum(len(m["content"]) for m in request["messages"])
    assert answers[0].usage != answers[1].usage


def test_a_server_refusing_stream_options_still_answers_with_estimated_usage(
    fake_server: FakeOpenAI, hash_index: Path
) -> None:
    fake_server.mode = "reject_usage"
    answer = guarded_ask(llm_settings(hash_index, fake_server.url))
    assert answer.backend == "openai" and answer.notice is None
    assert ["stream_options" in r for r in fake_server.requests] == [True, False]
    assert answer.usage["estimated"] == 1 and answer.usage["completion_tokens"] > 0


@pytest.mark.slow
def test_rag_ask_prints_a_one_line_notice_and_no_traceback(fake_server: FakeOpenAI, hash_index: Path) -> None:
    fake_server.mode = "bad_sse"
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(hash_index),
        "RAG_EMBED": "hash",
        "RAG_LLM": "openai",
        "OPENAI_BASE_URL": fake_server.url,
        "RAG_OPENAI_MODEL": "fake",
        "RAG_ANSWER_DEADLINE": str(LONG),  # the failure is the reply's, not the time: no busy machine changes it
        "RAG_ABSTAIN_THRESHOLD": "-1",
        "COLUMNS": "400",  # keep rich from wrapping the notice
    }
    env.pop("OPENAI_API_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", QUESTION], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    notices = [line for line in (result.stderr + result.stdout).splitlines() if "malformed reply" in line]
    assert len(notices) == 1 and notices[0].startswith("notice:") and "extractive answer" in notices[0]
    assert "Sparse Mixture Routers for Protein Folding" in result.stdout


# --- question length (item 18) ---------------------------------------------------------------


def question_of(chars: int) -> str:
    sentence = "Which methods make speech synthesis with transformers faster than Tacotron2, and by how much? "
    return (sentence * (chars // len(sentence) + 1))[:chars]


def test_a_question_over_the_cap_is_refused_in_one_line(hash_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=hash_index, embed="hash", llm="extractive", max_question_chars=500)
    assistant = Assistant(settings)
    assert assistant.ask(question_of(500)).text  # at the cap: answered
    with pytest.raises(InputError, match=r"the question is 501 characters long; the limit is 500 \(RAG_MAX_"):
        assistant.ask(question_of(501))
    assistant.close()
    monkeypatch.setenv("RAG_DATA_DIR", str(hash_index))
    monkeypatch.setenv("RAG_EMBED", "hash")
    result = CliRunner().invoke(app, ["ask", question_of(Settings().max_question_chars + 1)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().startswith("error: the question is 2,001 characters long; the limit is 2,000")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_question_at_the_cap_still_fits_the_local_model(bundled_dir: Path) -> None:
    settings = Settings(
        data_dir=bundled_dir,  # long abstracts to fill the small model's context
        abstain_threshold=-1.0,
        max_answer_tokens=16,  # a short answer leaves the most room for sources
        answer_deadline=600,  # the check is the context, not the time: the CI machine can be slow
    )
    assistant = Assistant(settings)
    answer = assistant.ask(question_of(settings.max_question_chars), k=8, backend="local")
    assistant.close()
    assert answer.usage  # the model replied (a prompt that did not fit leaves no usage)
    assert "does not fit" not in (answer.notice or "")  # the prompt fit (16 tokens may still cite nothing)
    assert len(answer.sources) >= 2


# --- replies that never end, and clients that leave (issue 17, item 8) ----------------------------


def test_a_model_that_says_the_sources_do_not_answer_abstains_without_a_fallback(
    fake_server: FakeOpenAI, hash_index: Path
) -> None:
    fake_server.mode = "no_answer"
    answer = guarded_ask(llm_settings(hash_index, fake_server.url))
    assert answer.abstained and answer.backend == "openai" and answer.notice is None


def test_a_server_that_ignores_max_tokens_is_cut_and_its_stream_closed(
    fake_server: FakeOpenAI, hash_index: Path
) -> None:
    fake_server.mode = "ignore_max_tokens"
    assistant = Assistant(llm_settings(hash_index, fake_server.url, max_answer_tokens=100))
    items = list(assistant.stream(QUESTION))
    assistant.close()
    answer = items[-1]
    assert isinstance(answer, Answer) and answer.backend == "extractive"  # "verbose verbose ..." cites nothing
    assert answer.notice and "cited none of the retrieved papers" in answer.notice
    assert fake_server.requests[0]["max_tokens"] == 100
    assert count_tokens("".join(items[:-1])) <= 150 + 2  # 1.5 x max_answer_tokens was read, nothing more
    assert fake_server.closed_by_client.wait(GUARD), "the client never closed the stream"
    assert fake_server.sent < 16 * 2**20  # it stopped reading: of the 64 MB only what sockets buffer went out


def test_a_read_timeout_is_not_retried_when_the_deadline_cannot_hold_another_try(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each try waits `request_timeout` (10 s) for a server that never answers: with a 30 s deadline the second try
    ends at 20.5 s and a third could have only 8.5 s, less than the server has already failed to answer in."""
    now = [0.0]
    monkeypatch.setattr(backends.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(backends.time, "sleep", lambda s: now.__setitem__(0, now[0] + s))
    timeouts: list[float] = []

    def create(*, timeout: httpx.Timeout, **_: object) -> None:
        assert timeout.connect == backends.CONNECT_TIMEOUT  # a server that is not there is not waited for
        timeouts.append(timeout.read)
        now[0] += timeout.read
        raise openai.APITimeoutError(request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))

    backend = OpenAIBackend(llm_settings(tmp_path, "http://127.0.0.1:9/v1", request_timeout=10.0))
    monkeypatch.setattr(backend.client.chat.completions, "create", create)
    with pytest.raises(BackendUnavailableError, match=r"timed out and another 10 s try would end past the answer"):
        backend._open([{"role": "user", "content": "q"}], 16, 0.0, deadline=30.0)
    assert timeouts == [10.0, 10.0]  # two whole tries; no third, cut-short one


@pytest.mark.slow
def test_a_server_that_sleeps_past_the_request_timeout_is_tried_once(
    fake_server: FakeOpenAI, hash_index: Path, deadline: float
) -> None:
    fake_server.mode = "hung"
    settings = llm_settings(hash_index, fake_server.url, answer_deadline=deadline, request_timeout=deadline * 0.6)
    answer = guarded_ask(settings)
    assert len(fake_server.requests) == 1  # a second try would have had less time than the first
    assert answer.backend == "extractive" and answer.notice and "timed out" in answer.notice


@contextmanager
def serving(app: object) -> Iterator[str]:
    """`app` under a real uvicorn on a free loopback port, in a background thread; yields its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
        assert thread.is_alive(), "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_the_llm_stream_ends_when_the_sse_client_leaves(fake_server: FakeOpenAI, hash_index: Path) -> None:
    fake_server.mode = "endless"  # a token every 20 ms, for as long as someone reads
    settings = llm_settings(hash_index, fake_server.url, answer_deadline=300.0, max_answer_tokens=100_000)
    assistant = Assistant(settings)
    # The abandoned generators of a request sit in reference cycles; without an explicit close they (and the LLM
    # stream they hold) end only when the cycle collector runs, which took minutes in production. With it off here,
    # only an explicit close can end the upstream stream.
    gc.disable()
    try:
        with serving(create_app(assistant)) as url, httpx.Client(base_url=url, timeout=60) as client:
            with client.stream("POST", "/ask", json={"question": QUESTION, "stream": True}) as response:
                assert response.status_code == 200
                lines = response.iter_lines()
                assert next(line for line in lines if line.startswith("event:")) == "event: delta"
            # the client left after its first delta, long before the 300 s deadline or the token cap
            assert fake_server.closed_by_client.wait(GUARD), "the upstream LLM stream is still being read"
    finally:
        gc.enable()
        assistant.close()


# --- a missing key and a server that is not there are said at once (issue 19, item 6) ------------------------------


def count_connects(monkeypatch: pytest.MonkeyPatch, port: int) -> list[object]:
    """The TCP connects made to `port` from now on (socket.create_connection: what httpx's sync transport uses)."""
    connects: list[object] = []
    real = socket.create_connection

    def counting(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        if address[1] == port:
            connects.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting)
    return connects


def test_an_unreachable_server_is_named_and_tried_once(hash_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connection refused: no retry can help, so none is made, and the notice names the setting to fix."""
    port = free_port()  # nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    connects = count_connects(monkeypatch, port)
    answer = guarded_ask(llm_settings(hash_index, url, llm_max_retries=5))
    assert len(connects) == 1  # one attempt, not 1 + 5 retries with back-off
    assert answer.backend == "extractive" and answer.citations
    assert answer.notice and "\n" not in answer.notice
    assert f"the LLM server at OPENAI_BASE_URL={url} cannot be reached (connection refused)" in answer.notice


MISSING_KEY = r"the openai backend needs OPENAI_API_KEY \(or OPENAI_BASE_URL"


@pytest.mark.parametrize(("llm", "backend"), [("openai", None), ("extractive", "openai")])
def test_a_missing_key_is_said_before_any_retrieval(hash_index: Path, llm: str, backend: str | None) -> None:
    assistant = Assistant(Settings(data_dir=hash_index, embed="hash", llm=llm))  # no OPENAI_* (conftest)
    with pytest.raises(ConfigError, match=MISSING_KEY):
        assistant.ask(QUESTION, backend=backend)
    assert "embedder" not in assistant.__dict__ and "retriever" not in assistant.__dict__  # nothing loaded, searched
    assistant.close()


def test_a_missing_key_is_one_line_in_rest_and_mcp(hash_index: Path) -> None:
    from fastapi.testclient import TestClient
    from mcp import Client

    from rag.mcp import build_server

    assistant = Assistant(Settings(data_dir=hash_index, embed="hash", llm="openai"))
    client = TestClient(create_app(assistant), base_url="http://127.0.0.1:8000")
    response = client.post("/ask", json={"question": QUESTION})
    assert response.status_code == 400
    assert re.match(MISSING_KEY, response.json()["error"]) and "\n" not in response.json()["error"]

    async def call() -> object:
        async with Client(build_server(assistant)) as mcp:
            return await mcp.call_tool("ask_papers", {"question": QUESTION})

    result = asyncio.run(call())
    assert result.is_error and re.search(MISSING_KEY, result.content[0].text) and "\n" not in result.content[0].text
    assert "embedder" not in assistant.__dict__  # neither door retrieved anything first
    assistant.close()


def test_rag_ask_without_a_key_says_so_before_indexing(isolated_env: Path) -> None:
    """A newcomer's first `rag ask --backend openai` on an empty data dir: the error comes first, not after the
    bundled corpus has been indexed (that took a minute)."""
    result = CliRunner().invoke(app, ["ask", "--backend", "openai", QUESTION])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and re.match("error: " + MISSING_KEY, lines[0]), result.output
    assert not isolated_env.exists() or not any(isolated_env.iterdir())  # nothing was indexed


def test_rag_ask_names_an_unreachable_server_before_it_answers(
    hash_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rag ask` probes the server once before indexing or retrieving; refused, it says so first, once, and answers
    from the retrieved papers without trying the LLM again."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    connects = count_connects(monkeypatch, port)
    for name, value in {"RAG_DATA_DIR": str(hash_index), "RAG_EMBED": "hash", "OPENAI_BASE_URL": url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAG_ABSTAIN_THRESHOLD", "-1")
    monkeypatch.setenv("COLUMNS", "400")  # keep rich from wrapping the notice
    result = CliRunner().invoke(app, ["ask", "--backend", "openai", QUESTION])
    assert result.exit_code == 0 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    notice = f"notice: the LLM server at OPENAI_BASE_URL={url} cannot be reached (connection refused); showing an"
    assert lines[0].startswith(notice)  # first, before the answer
    assert sum("cannot be reached" in line for line in lines) == 1  # once, not again with the answer
    assert "Sparse Mixture Routers for Protein Folding" in result.output
    assert len(connects) == 1  # the probe; the LLM is not tried a second time
    json_result = CliRunner().invoke(app, ["ask", "--backend", "openai", "--json", QUESTION])
    answer = Answer.model_validate_json(json_result.output[json_result.output.index("{") :])
    assert answer.backend == "extractive" and "cannot be reached (connection refused)" in (answer.notice or "")
