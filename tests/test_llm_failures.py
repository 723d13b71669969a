"""LLM servers that misbehave, and questions too long for the model.

Every server failure ends in the extractive answer with a one-line notice, within
the answer deadline plus 2 s, never an exception out of `ask` and never a traceback in `rag ask`.

The server is a small fake OpenAI-compatible HTTP server (stdlib, 127.0.0.1) with one mode per failure;
the client side is the real `openai` package, the real index (hash embedder, real Chroma) and the real CLI.
A question over `max_question_chars` is refused in one line; one at the cap still fits the local model.
"""

from __future__ import annotations

import gc
import json
import os
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
from rag.errors import BackendUnavailableError, InputError
from rag.generation import backends
from rag.generation.backends import OpenAIBackend
from rag.tokens import count_tokens
from rag.types import Answer
from tests.conftest import FIXTURES, free_port

DEADLINE = 4.0
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
        self.server.stop.wait(60)  # accepts and reads the request, never answers

    def _rate_limited(self, body: dict) -> None:
        self._error(429, "Rate limit reached", Retry_After="30")

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
        """One token every 2 s, forever."""
        self._start()
        try:
            while not self.server.stop.wait(2.0):
                self._event(self._chunk("more "))
        except OSError:  # the client went away
            pass


@pytest.fixture()
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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
    # warm this process (imports of openai, Chroma, BM25): the timings below are the answer's, not a cold start's
    assistant.ask(QUESTION, backend="extractive")
    OpenAIBackend(llm_settings(data, "http://127.0.0.1:9/v1"))
    assistant.close()
    return data


def llm_settings(data_dir: Path, url: str, **overrides: object) -> Settings:
    base = {
        "data_dir": data_dir,
        "embed": "hash",
        "llm": "openai",
        "openai_base_url": url,
        "openai_model": "fake",
        "answer_deadline": DEADLINE,
        "abstain_threshold": -1.0,  # the hash embedder's cosines are not calibrated; always reach the LLM
    }
    return Settings(**{**base, **overrides})


def timed_ask(
    settings: Settings, question: str = QUESTION, history: list[dict[str, str]] | None = None
) -> tuple[Answer, float]:
    """`ask` and its duration; fails (instead of hanging the suite) when it runs far past the deadline."""
    assistant = Assistant(settings)
    result: list[Answer | BaseException] = []

    def run() -> None:
        try:
            result.append(assistant.ask(question, history=history))
        except BaseException as exc:  # handed to the test below
            result.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=DEADLINE + 30)
    elapsed = time.monotonic() - started
    assert result, f"ask still running after {elapsed:.0f} s"
    assistant.close()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0], elapsed


FAILURES = {
    "bad_sse": "malformed reply",
    "not_json": "malformed reply (application/json, not an event stream)",
    "cut": "stopped before it was complete",
    "hung": "answer deadline",
    "rate_limited": "retry after 30 s, past the answer deadline",
    "drip": "answer deadline",
    "error_500": "answered with an error (500)",
}


SLOW_MODES = {"hung", "drip"}  # each waits out the whole deadline


@pytest.mark.parametrize("mode", [pytest.param(m, marks=pytest.mark.slow) if m in SLOW_MODES else m for m in FAILURES])
def test_a_misbehaving_server_gives_the_extractive_answer_with_a_notice_in_time(
    mode: str, fake_server: FakeOpenAI, hash_index: Path
) -> None:
    fake_server.mode = mode
    answer, elapsed = timed_ask(llm_settings(hash_index, fake_server.url))
    assert elapsed < DEADLINE + 2, f"{mode}: {elapsed:.1f} s"
    assert answer.backend == "extractive" and not answer.abstained
    assert answer.notice and FAILURES[mode] in answer.notice and "\n" not in answer.notice
    assert answer.citations[0].paper.title == "Sparse Mixture Routers for Protein Folding"
    assert fake_server.requests, "the LLM was never asked"


@pytest.mark.slow
def test_a_follow_up_shares_one_deadline_between_condensing_and_answering(
    fake_server: FakeOpenAI, hash_index: Path
) -> None:
    fake_server.mode = "hung"
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "An answer [1]."}]
    answer, elapsed = timed_ask(llm_settings(hash_index, fake_server.url), "What did it use?", history)
    assert elapsed < DEADLINE + 2, f"{elapsed:.1f} s"  # not twice the deadline
    assert answer.backend == "extractive" and answer.notice


@pytest.mark.slow
def test_retries_stop_at_the_deadline(fake_server: FakeOpenAI, hash_index: Path) -> None:
    fake_server.mode = "error_500"
    answer, elapsed = timed_ask(llm_settings(hash_index, fake_server.url, llm_max_retries=50))
    assert elapsed < DEADLINE + 2
    assert 2 <= len(fake_server.requests) < 10  # it retried, with back-off, and gave up before the deadline
    assert answer.notice and "past the answer deadline" in answer.notice


def test_a_well_behaved_server_answers_with_its_own_usage(fake_server: FakeOpenAI, hash_index: Path) -> None:
    answer, _ = timed_ask(llm_settings(hash_index, fake_server.url))
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
    answer, _ = timed_ask(llm_settings(hash_index, fake_server.url))
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
        "RAG_ANSWER_DEADLINE": str(DEADLINE),
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
    assert answer.notice is None, answer.notice  # no "does not fit the local model's context" fallback
    assert answer.backend == "local" and len(answer.sources) >= 2


# --- replies that never end, and clients that leave (issue 17, item 8) ----------------------------


def test_a_server_that_ignores_max_tokens_is_cut_and_its_stream_closed(
    fake_server: FakeOpenAI, hash_index: Path
) -> None:
    fake_server.mode = "ignore_max_tokens"
    assistant = Assistant(llm_settings(hash_index, fake_server.url, max_answer_tokens=100))
    items = list(assistant.stream(QUESTION))
    assistant.close()
    answer = items[-1]
    assert isinstance(answer, Answer) and answer.backend == "openai" and answer.notice is None
    assert fake_server.requests[0]["max_tokens"] == 100
    assert count_tokens("".join(items[:-1])) <= 150 + 2  # 1.5 x max_answer_tokens was read, nothing more
    assert fake_server.closed_by_client.wait(30), "the client never closed the stream"
    assert fake_server.sent < 16 * 2**20  # it stopped reading: of the 64 MB only what sockets buffer went out
    assert len(answer.sentences) <= 3  # and the citation check saw only the cut reply


def test_a_read_timeout_is_not_retried_when_the_deadline_cannot_hold_another_try(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each try waits `request_timeout` (10 s) for a server that never answers: with a 30 s deadline the second try
    ends at 20.5 s and a third could have only 8.5 s, less than the server has already failed to answer in."""
    now = [0.0]
    monkeypatch.setattr(backends.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(backends.time, "sleep", lambda s: now.__setitem__(0, now[0] + s))
    timeouts: list[float] = []

    def create(*, timeout: float, **_: object) -> None:
        timeouts.append(timeout)
        now[0] += timeout
        raise openai.APITimeoutError(request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))

    backend = OpenAIBackend(llm_settings(tmp_path, "http://127.0.0.1:9/v1", request_timeout=10.0))
    monkeypatch.setattr(backend.client.chat.completions, "create", create)
    with pytest.raises(BackendUnavailableError, match=r"timed out and another 10 s try would end past the answer"):
        backend._open([{"role": "user", "content": "q"}], 16, 0.0, deadline=30.0)
    assert timeouts == [10.0, 10.0]  # two whole tries; no third, cut-short one


@pytest.mark.slow
def test_a_server_that_sleeps_past_the_request_timeout_is_tried_once(fake_server: FakeOpenAI, hash_index: Path) -> None:
    fake_server.mode = "hung"
    answer, _ = timed_ask(llm_settings(hash_index, fake_server.url, request_timeout=DEADLINE * 0.6))
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
            assert fake_server.closed_by_client.wait(30), "the upstream LLM stream is still being read"
    finally:
        gc.enable()
        assistant.close()
