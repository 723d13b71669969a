"""Shared fixtures: every test gets its own data dir; the bundled index is built once per session."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rag import Assistant, Settings
from rag.corpus.load import bundled_corpus_dir

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = bundled_corpus_dir()


SLOW_TIMEOUT = 900
"""Seconds a slow test (a model, a server, a browser) may run before pytest-timeout fails it: generous, because
CI may share 2 cores with other work at load 10; the fast tests' limit is `timeout` in pyproject.toml."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every slow test gets the slow limit unless it names its own."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the user's index or an API key from the environment."""
    data = tmp_path / "data"
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM", "RAG_EMBED", "RAG_CHROMA_URL", "RAG_CHROMA_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    # a busy CI machine (load 10 on 2 cores) must not turn a real model's answer into a deadline fallback; tests of
    # the deadline itself set their own
    monkeypatch.setenv("RAG_ANSWER_DEADLINE", "600")
    return data


@pytest.fixture(autouse=True)
def threads_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A CLI command run in-process sets the thread variables and torch's pool (`rag.runtime`); each test's
    changes are undone, so later tests and the servers they start see the process as it was."""
    import os

    from rag import runtime

    for var in (*runtime.THREAD_VARS, "OMP_WAIT_POLICY", "TOKENIZERS_PARALLELISM"):
        was = os.environ.get(var)
        monkeypatch.setenv(var, was or "")  # records the old state (unset included) for the undo
        if was is None:
            monkeypatch.delenv(var)
    monkeypatch.setattr(runtime, "_set_here", {})
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else int(os.environ.get("OMP_NUM_THREADS") or 0)
    yield
    torch = sys.modules.get("torch")
    threads = threads or os.cpu_count() or 1  # torch imported during the test: its default pool
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def bundled_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the bundled corpus, indexed once for the whole session."""
    data = tmp_path_factory.mktemp("bundled-index")
    assistant = Assistant(Settings(data_dir=data))
    report = assistant.ingest(progress=False)
    assistant.close()
    assert not report.errors, report.errors
    return data


@pytest.fixture(scope="session")
def hash_bundled_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the bundled corpus indexed with the hash embedder (`RAG_EMBED=hash`: seconds, no model),
    once per session, for fast tests of the CLI and the public API."""
    data = tmp_path_factory.mktemp("hash-index")
    assistant = Assistant(Settings(data_dir=data, embed="hash"))
    report = assistant.ingest(progress=False)
    assistant.close()
    assert not report.errors and report.papers_added == 410, report
    return data


@pytest.fixture()
def bundled(bundled_dir: Path) -> Iterator[Assistant]:
    """An Assistant over the session's bundled index (read-only use)."""
    assistant = Assistant(Settings(data_dir=bundled_dir))
    yield assistant
    assistant.close()


def copy_corpus(dest: Path) -> Path:
    """A writable copy of the bundled corpus."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in CORPUS.glob("*.txt"):
        (dest / f.name).write_bytes(f.read_bytes())
    return dest


UNCITED = "cited none of the retrieved papers"
"""The notice of an answer whose model reply grounded nothing, which gave way to the extractive answer."""


def model_answered(answer: Any, backend: str) -> bool:
    """Whether the model of `backend` gave `answer` (no notice), or else, with the notice that says so, its reply
    cited nothing and the extractive answer took its place (a small model's usual failure); anything else fails."""
    if answer.backend == backend:
        assert answer.notice is None, answer.notice
        return True
    assert answer.backend == "extractive" and UNCITED in (answer.notice or ""), (answer.backend, answer.notice)
    assert answer.usage.get("completion_tokens", 0) > 0  # the model was asked and replied
    return False


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float, what: str) -> None:
    """Poll `url` until it answers; fail when the server process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # loopback only
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.5)


@contextmanager
def running(
    cmd: list[str],
    ready: str,
    what: str,
    *,
    timeout: float = 60.0,
    log: Path | None = None,
    stop_timeout: float = 10.0,
    **popen: Any,
) -> Iterator[subprocess.Popen]:
    """A server subprocess that answers at `ready` for the duration of the block, then is stopped (SIGTERM, SIGKILL
    if it lingers). Its output goes to `log` when given (and into the error when it does not start), else nowhere."""
    with log.open("w") if log else contextlib.nullcontext() as fh:
        out = fh or subprocess.DEVNULL
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT if fh else subprocess.DEVNULL, **popen)
    try:
        try:
            wait_for(ready, proc, timeout, what)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{log.read_text()}" if log else str(exc)) from None
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


CHROMIUM = "/usr/bin/chromium"  # Debian's: never a browser download


@contextmanager
def open_page(url: str, viewport: dict[str, int]) -> Iterator[Any]:
    """A chromium page on the app at `viewport`, once the app has loaded."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport=viewport)
            page.goto(url)
            page.locator("#question textarea").wait_for(timeout=60_000)
            yield page
        finally:
            browser.close()


@contextmanager
def rag_chat_over(bundled_dir: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[str]:
    """`rag chat` on a free loopback port over a copy of the session's bundled index (no LLM key: extractive)."""
    import os

    data = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(bundled_dir, data)
    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(data)}
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    log = tmp_path_factory.mktemp(f"{name}-log") / "chat.log"
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "-m", "rag.cli", "chat", "--port", str(port)]
    with running(cmd, url, "rag chat", timeout=120, log=log, stop_timeout=20, env=env):
        yield url


@pytest.fixture(scope="session")
def llama_server_url() -> Iterator[str]:
    """`llama_cpp.server` serving the bundled SmolLM2 GGUF on a free loopback port (the /v1 URL), once per session."""
    from tests.llm_servers import llama_server

    with llama_server() as url:
        yield url


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`) on a free loopback port with its own data folder; tests keep apart by
    collection name (`Settings(collection=...)`)."""
    chroma = Path(sys.executable).with_name("chroma")
    exe = str(chroma) if chroma.exists() else shutil.which("chroma")
    assert exe, "the chroma CLI (from the chromadb package) is not installed"
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    args = [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)]
    url = f"http://127.0.0.1:{port}"
    with running(args, f"{url}/api/v2/heartbeat", "chroma run"):
        yield url
