"""Embeddings where the compute is: RAG_EMBED_DEVICE for the bundled model, and RAG_EMBED=openai end to end against
a real OpenAI-compatible embeddings server (llama.cpp's, on the bundled SmolLM2), in concurrent batches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from rag import Assistant, Settings
from rag.errors import BackendUnavailableError, ConfigError
from rag.generation.local import smollm2_path
from rag.index.embedders import OpenAIEmbedder, make_embedder, resolve_device
from tests.conftest import free_port, running
from tests.gateway import Gateway

MODEL = "smollm2-135m"
TOPICS = [
    ("Protein folding with attention", "We predict protein structures from amino acid sequences with attention."),
    ("Speech synthesis for low-resource languages", "A text-to-speech model trained on ten hours of audio."),
    ("Graph networks for traffic", "Graph neural networks forecast road traffic from sensor graphs."),
    ("Quantum error correction codes", "Surface codes protect logical qubits from noise."),
    ("Reward models for dialogue", "Human preferences train a reward model for chat agents."),
    ("Sparse kernels on GPUs", "Sparse matrix kernels speed up pruned networks on GPUs."),
    ("Market making with reinforcement learning", "An agent quotes prices in a simulated order book."),
    ("Robot grasping from images", "A robot arm learns to grasp unseen objects from camera images."),
    ("Federated learning on phones", "Phones train a shared keyboard model without sending text."),
    ("Climate downscaling with diffusion", "Diffusion models sharpen coarse climate simulations."),
]


def write_papers(path: Path, topics: list[tuple[str, str]], prefix: str) -> Path:
    """A JSONL file with one paper per topic, ids `<prefix>0`, `<prefix>1`, ..."""
    rows = [{"id": f"{prefix}{i}", "title": t, "abstract": a, "year": 2020} for i, (t, a) in enumerate(topics)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# --- RAG_EMBED_DEVICE --------------------------------------------------------------------------


def test_auto_picks_the_device_torch_sees() -> None:
    seen = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert resolve_device("auto") == seen
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_a_device_torch_cannot_see_is_a_config_error(device: str) -> None:
    if resolve_device("auto") == device:
        pytest.skip(f"this machine has {device}")
    with pytest.raises(ConfigError, match=rf"^RAG_EMBED_DEVICE={device}, but torch \S+.* sees no {device} device"):
        make_embedder(Settings(embed_device=device))


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_the_cli_says_so_in_one_line(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has cuda")
    papers = write_papers(tmp_path / "p.jsonl", TOPICS[:2], "d")
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "index"), "RAG_EMBED_DEVICE": "cuda"}
    run = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", str(papers)], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("error: RAG_EMBED_DEVICE=cuda, but torch") and line.endswith("use cpu or auto")
    assert Assistant(Settings(data_dir=tmp_path / "index")).stats().papers == 0  # nothing half-ingested


@pytest.mark.slow
def test_the_bundled_model_runs_where_auto_says() -> None:
    auto = make_embedder(Settings(embed_device="auto"))
    assert auto.model.device.type == resolve_device("auto")
    on_cpu = make_embedder(Settings(embed_device="cpu"))
    assert on_cpu.model.device.type == "cpu"
    texts = [t for t, _ in TOPICS[:4]]
    # the same model wherever it runs: an index built on one device is searched on another
    assert np.allclose(auto.embed(texts), on_cpu.embed(texts), atol=1e-4)


# --- concurrent batches (the logic, with a stand-in for the HTTP call) ---------------------------


class Delayed(OpenAIEmbedder):
    """Answers batch i with the one-hot vectors of its texts' numbers, later batches sooner than earlier ones."""

    def __init__(self, settings: Settings, fail_on: int | None = None) -> None:
        super().__init__(settings)
        self.fail_on = fail_on
        self.active = self.peak = 0
        self.lock = threading.Lock()

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        first = int(texts[0])
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if first == self.fail_on:
                raise BackendUnavailableError("the embedding service failed")
            time.sleep(0.02 * (30 - first) / self.batch_size)
            return np.eye(30, dtype=np.float32)[[int(t) for t in texts]]
        finally:
            with self.lock:
                self.active -= 1


def fake_settings(**overrides: object) -> Settings:
    base = {"embed": "openai", "openai_base_url": "http://127.0.0.1:9/v1", "embed_batch_size": 4}
    return Settings(**{**base, **overrides})


def test_concurrent_batches_come_back_in_input_order() -> None:
    embedder = Delayed(fake_settings(embed_concurrency=3))
    sizes: list[int] = []
    vectors = embedder.embed([str(i) for i in range(30)], on_batch=sizes.append)
    assert np.array_equal(vectors, np.eye(30))  # row i is text i's vector, though later batches finished first
    assert sizes == [4, 4, 4, 4, 4, 4, 4, 2]  # progress in order, once per batch
    assert embedder.peak == 3  # three requests in flight, never more


def test_one_request_at_a_time_when_concurrency_is_one() -> None:
    embedder = Delayed(fake_settings(embed_concurrency=1))
    assert np.array_equal(embedder.embed([str(i) for i in range(30)]), np.eye(30))
    assert embedder.peak == 1


def test_a_failed_batch_fails_the_call_and_leaves_no_threads() -> None:
    embedder = Delayed(fake_settings(embed_concurrency=3), fail_on=8)
    with pytest.raises(BackendUnavailableError):
        embedder.embed([str(i) for i in range(30)])
    assert embedder.active == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("embed")]


# --- a real OpenAI-compatible embeddings server ----------------------------------------------------

# `python -m llama_cpp.server --embedding true` on the bundled GGUF. Two launch tweaks: no weight repacking (its AMX
# kernels kill the process on VMs that do not run them), and mean pooling (llama-server's `--pooling mean`; this
# server has no flag for it, and without pooling it answers one vector per token).
LAUNCH = """
import runpy
import llama_cpp
from rag.generation.local import disable_weight_repacking
disable_weight_repacking()
init = llama_cpp.Llama.__init__
def pooled(self, *args, **kwargs):
    kwargs.setdefault("pooling_type", llama_cpp.LLAMA_POOLING_TYPE_MEAN)
    init(self, *args, **kwargs)
llama_cpp.Llama.__init__ = pooled
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def embeddings_server() -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server with embeddings on, on a free loopback port (its /v1 URL)."""
    port = free_port()
    cmd = [sys.executable, "-c", LAUNCH, "--model", smollm2_path(), "--embedding", "true"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--model_alias", MODEL]
    url = f"http://127.0.0.1:{port}/v1"
    with running(cmd, f"{url}/models", "llama_cpp.server --embedding", timeout=90):
        yield url


def openai_settings(data: Path, url: str, **overrides: object) -> Settings:
    base = {
        "data_dir": data,
        "embed": "openai",
        "openai_base_url": url,
        "openai_embed_model": MODEL,
        "embed_batch_size": 2,
        "embed_concurrency": 3,
        "request_timeout": 300,  # requests wait their turn: this server embeds one at a time
        "llm": "extractive",
    }
    return Settings(**{**base, **overrides})


@pytest.mark.slow
def test_ingest_and_search_through_an_openai_compatible_embeddings_server(
    embeddings_server: str, tmp_path: Path
) -> None:
    papers = write_papers(tmp_path / "papers.jsonl", TOPICS[:7], "e")
    with Gateway(embeddings_server).running() as gateway:
        a = Assistant(openai_settings(tmp_path / "index", gateway.url))
        report = a.ingest([papers], progress=False)
        assert report.papers_added == 7 and not report.errors
        s = a.stats()
        assert (s.papers, s.chunks, s.vectors, s.bm25_entries) == (7, 7, 7, 7)
        assert s.embedding_model == a.store.embedding_model == f"openai:{MODEL}"
        sent = gateway.posts("/embeddings")
        assert [len(body["input"]) for body in sent] == [2, 2, 2, 1]  # RAG_EMBED_BATCH_SIZE texts per request
        assert {body["model"] for body in sent} == {MODEL}
        assert gateway.max_in_flight >= 2  # batches were in flight together

        # every stored vector is the one of its own paper's text (order kept across concurrent batches): each is
        # nearest to that text embedded again (all in one request)
        texts = [t for body in sent for t in body["input"]]
        again = make_embedder(a.settings.model_copy(update={"embed_batch_size": 16})).embed(texts)
        ids = sorted(a.store.ids())
        stored = a.store.vectors(ids)
        for cid in ids:
            nearest = texts[int(np.argmax(again @ stored[cid]))]
            assert nearest.startswith(a.manifest.get(cid.split(":")[0]).title), cid
        title, _ = TOPICS[3]
        hits = a.search(next(t for t in texts if t.startswith(title)), k=3, mode="dense")
        assert hits[0].paper.title == title and hits[0].score > 0.99
        assert a.search("surface codes for logical qubits", k=1)[0].paper.title == title  # hybrid through it too
        a.close()


@pytest.mark.slow
def test_an_embeddings_server_failing_mid_ingest_is_one_line_and_leaves_nothing_half_written(
    embeddings_server: str, tmp_path: Path
) -> None:
    first = write_papers(tmp_path / "first.jsonl", TOPICS[:4], "f")
    second = write_papers(tmp_path / "second.jsonl", TOPICS[4:], "g")
    with Gateway(embeddings_server).running() as gateway:
        settings = openai_settings(tmp_path / "index", gateway.url)
        a = Assistant(settings)
        a.ingest([first], progress=False)
        gateway.fail_after = 1  # one more request goes through, then the server answers 503

        env = {**os.environ, "RAG_DATA_DIR": str(settings.data_dir), "RAG_EMBED": "openai"}
        env |= {"OPENAI_BASE_URL": gateway.url, "RAG_OPENAI_EMBED_MODEL": MODEL, "RAG_EMBED_BATCH_SIZE": "2"}
        env |= {"RAG_EMBED_CONCURRENCY": "3", "RAG_REQUEST_TIMEOUT": "300"}
        cmd = [sys.executable, "-m", "rag.cli", "ingest", str(second)]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 1 and "Traceback" not in run.stderr
        assert run.stderr.strip().splitlines() == [
            f"error: the embedding service at {gateway.url} failed: HTTP 503 (InternalServerError)"
        ]
        s = a.stats()
        assert (s.papers, s.chunks, s.vectors, s.bm25_entries) == (4, 4, 4, 4)  # the first file, whole
        assert all(a.manifest.get(f"g{i}") is None for i in range(6))

        gateway.fail_after = None  # the server is back: the same command finishes the job
        assert subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300).returncode == 0
        s = a.stats()
        assert (s.papers, s.chunks, s.vectors, s.bm25_entries) == (10, 10, 10, 10)
        a.close()
