"""The OpenAI code path end to end against a real OpenAI-compatible server on loopback.

`python -m llama_cpp.server` serves the bundled SmolLM2 GGUF on 127.0.0.1; nothing is mocked.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.citations import UNSUPPORTED
from rag.generation.backends import OpenAIBackend, smollm2_path
from rag.types import Answer
from tests.conftest import free_port, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            smollm2_path(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for(f"{url}/models", proc, 60, "llama_cpp.server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def openai_settings(data_dir: Path, url: str) -> Settings:
    return Settings(data_dir=data_dir, llm="openai", openai_base_url=url, openai_model="smollm2")


def test_backend_streams_deltas_from_the_server(server_url: str, tmp_path: Path) -> None:
    backend = OpenAIBackend(openai_settings(tmp_path, server_url))
    deltas = list(backend.stream([{"role": "user", "content": "Count from one to five."}], max_tokens=24))
    assert len(deltas) > 1 and "".join(deltas).strip()


def test_ask_through_the_openai_backend_is_grounded(server_url: str, bundled_dir: Path) -> None:
    assistant = Assistant(openai_settings(bundled_dir, server_url))
    items = list(assistant.stream("What technique approximates codeword selection in compact binary networks?"))
    answer = items[-1]
    assert isinstance(answer, Answer)
    assert answer.backend == "openai" and answer.notice is None
    assert len(items) > 2  # streamed in several deltas
    assert answer.usage["completion_tokens"] > 0
    assert answer.abstained or answer.sentences
    for sentence in answer.sentences:
        assert (sentence.citations and sentence.supported) or not sentence.supported or not sentence.text.strip(" .")
    if any(not s.supported for s in answer.sentences):
        assert UNSUPPORTED in answer.text


def test_unreachable_server_gives_retrieved_papers_and_a_notice(bundled_dir: Path) -> None:
    settings = openai_settings(bundled_dir, f"http://127.0.0.1:{free_port()}/v1")
    settings = settings.model_copy(update={"llm_max_retries": 0, "request_timeout": 5.0})
    answer = Assistant(settings).ask("Which paper proposes wide residual networks?")
    assert answer.notice and "cannot be reached" in answer.notice
    assert answer.backend == "extractive" and answer.citations
    assert answer.citations[0].paper.title == "Wide Residual Networks"
