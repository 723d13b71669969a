"""Server mode: a real `chroma run` on a loopback port (RAG_CHROMA_URL) gives the same index, hits and answers as
embedded Chroma, survives `kill -9` mid-ingest, sends RAG_CHROMA_TOKEN, and an unreachable server is one line."""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag import Assistant, Settings
from rag.errors import BackendUnavailableError, ConfigError
from rag.index.store import VectorStore
from tests.conftest import CORPUS, free_port, running
from tests.gateway import Gateway
from tests.test_crash_safety import rag_ingest as crash_ingest
from tests.test_crash_safety import write_files

QUERIES = [
    "speech synthesis with transformers",
    "post-training quantization of neural networks",
    "graph neural networks for molecules",
    "reinforcement learning from human feedback",
]
QUESTION = "Which papers propose post-training quantization methods?"
_names = itertools.count()


def server_settings(data: Path, url: str, **overrides: object) -> Settings:
    """Hash-embedded settings on the Chroma server at `url`, in a collection of their own."""
    base = {"data_dir": data, "embed": "hash", "llm": "extractive", "chroma_url": url}
    return Settings(**{**base, "collection": f"t{os.getpid()}-{next(_names)}", **overrides})


def exact_search(settings: Settings) -> None:
    """Make the settings' collection (created if new) search exactly: an HNSW search whose beam is wider than the
    collection visits every vector its graph reaches (every one, on MiniLM vectors of the bundled corpus). Two
    builds of one index differ in their graphs (even on one thread), so approximate rankings differ below the first
    hits; exact ones must not. Set before the index is first searched: a loaded index keeps its beam width."""
    store = VectorStore(settings)
    store.collection.modify(configuration={"hnsw": {"ef_search": 100_000}})
    assert store.collection.configuration["hnsw"]["ef_search"] == 100_000


def exact_copy(data: Path, to: Path) -> Settings:
    """Settings on a copy of the embedded index in `data`, made to search exactly (see `exact_search`)."""
    shutil.copytree(data, to)
    settings = Settings(data_dir=to, llm="extractive")
    exact_search(settings)
    return settings


def ranking(assistant: Assistant, query: str, **kwargs: object) -> list[tuple[str, float]]:
    return [(h.paper.id, round(h.score, 4)) for h in assistant.search(query, k=10, **kwargs)]


def same_stats(a: Assistant, b: Assistant) -> None:
    ignore = {"index_bytes", "data_dir"}  # the server keeps the vectors elsewhere
    sa, sb = a.stats().model_dump(exclude=ignore), b.stats().model_dump(exclude=ignore)
    assert sa == sb
    assert sa["papers"] == 410 and sa["chunks"] == sa["vectors"] == sa["bm25_entries"]


def stored(a: Assistant) -> tuple[list[str], np.ndarray, list[dict]]:
    """Every chunk id, vector and metadata in the store, in id order."""
    got = a.store.collection.get(include=["embeddings", "metadatas"])
    order = sorted(range(len(got["ids"])), key=got["ids"].__getitem__)
    vectors = np.asarray(got["embeddings"], dtype=np.float32)[order]
    return [got["ids"][i] for i in order], vectors, [got["metadatas"][i] for i in order]


def same_store(a: Assistant, b: Assistant) -> None:
    """The same vectors (to float32 precision: a server sends them as JSON) and metadata under the same ids."""
    (ids_a, vec_a, meta_a), (ids_b, vec_b, meta_b) = stored(a), stored(b)
    assert ids_a == ids_b and meta_a == meta_b
    assert np.allclose(vec_a, vec_b, rtol=0, atol=1e-6)


def same_answers(a: Assistant, b: Assistant, modes: tuple[str, ...], ask: bool = True) -> None:
    """The same hits in the same order (with and without filters, the filtered ones in the last mode) and, with
    `ask`, the same answer, through both."""
    one_file = sorted(CORPUS.glob("*.txt"))[0].name
    for query in QUERIES:
        for mode in modes:
            assert ranking(a, query, mode=mode) == ranking(b, query, mode=mode), (query, mode)
        years = ranking(a, query, year=(2021, 2022), mode=modes[-1])
        assert years and years == ranking(b, query, year=(2021, 2022), mode=modes[-1])
        in_file = ranking(a, query, sources=[one_file], mode=modes[-1])
        assert in_file and in_file == ranking(b, query, sources=[one_file], mode=modes[-1])
    if ask:
        mine, theirs = a.ask(QUESTION), b.ask(QUESTION)
        assert mine.text == theirs.text and mine.citations and not mine.abstained
        assert [c.paper.id for c in mine.citations] == [c.paper.id for c in theirs.citations]


@pytest.mark.slow
def test_server_mode_builds_the_same_index_as_embedded(
    chroma_server_url: str, hash_bundled_dir: Path, tmp_path: Path
) -> None:
    embedded = Assistant(Settings(data_dir=hash_bundled_dir, embed="hash", llm="extractive"))
    server = Assistant(server_settings(tmp_path / "server", chroma_server_url))
    report = server.ingest(progress=False)
    assert report.papers_added == 410 and not report.errors
    assert embedded.settings.chroma_dir.is_dir() and not server.settings.chroma_dir.exists()  # really two modes
    same_stats(embedded, server)
    same_store(server, embedded)
    # Only keyword rankings are compared on hash vectors: on these near-orthogonal vectors an HNSW graph leaves a
    # vector or two unreachable, different ones from build to build, so no dense search over them is exact. The
    # MiniLM test below compares every mode.
    same_answers(server, embedded, modes=("bm25",), ask=False)
    # a new client (as another process would be) sees the same collection: nothing lived only in this client
    again = Assistant(server.settings)
    same_store(again, embedded)
    assert ranking(again, QUERIES[0], mode="bm25") == ranking(embedded, QUERIES[0], mode="bm25")
    for a in (embedded, server, again):
        a.close()


@pytest.mark.slow
def test_server_mode_with_minilm_ranks_and_answers_as_embedded_in_every_mode(
    chroma_server_url: str, bundled_dir: Path, tmp_path: Path
) -> None:
    # both search exactly (`exact_search`): two HNSW builds rank alike only then
    embedded = Assistant(exact_copy(bundled_dir, tmp_path / "embedded"))
    on_server = server_settings(tmp_path / "server", chroma_server_url, embed="local")
    exact_search(on_server)
    server = Assistant(on_server)
    assert server.ingest(progress=False).papers_added == 410
    same_stats(embedded, server)
    same_answers(server, embedded, modes=("hybrid", "dense", "bm25"))
    embedded.close()
    server.close()


def rag_ingest(
    settings: Settings, files: list[Path], kill: tuple[str, int] | None = None
) -> subprocess.CompletedProcess:
    """`rag ingest` in a subprocess on the settings' server and collection; with `kill`, SIGKILLed at that point."""
    env = {"RAG_CHROMA_URL": str(settings.chroma_url), "RAG_COLLECTION": settings.collection}
    return crash_ingest(settings.data_dir, files, kill, env)


def counts(settings: Settings) -> dict[str, int]:
    a = Assistant(settings)
    s = a.stats()
    a.close()
    return {"papers": s.papers, "chunks": s.chunks, "vectors": s.vectors, "bm25": s.bm25_entries}


@pytest.mark.slow
def test_sigkill_mid_ingest_on_a_server_then_rerun_equals_a_clean_run(chroma_server_url: str, tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=2, per_file=300)  # 600 papers: three batches
    clean = server_settings(tmp_path / "clean", chroma_server_url)
    assert rag_ingest(clean, files).returncode == 0
    assert counts(clean) == {"papers": 600, "chunks": 600, "vectors": 600, "bm25": 600}

    killed = server_settings(tmp_path / "killed", chroma_server_url)
    run = rag_ingest(killed, files, kill=("upsert", 2))  # the second batch's vectors are on the server, uncommitted
    assert run.returncode == -9, run.stderr
    a = Assistant(killed)
    a.ingest([], progress=False)  # opening the index for writing repairs it: every store agrees
    a.close()
    after = counts(killed)
    assert after["papers"] == after["chunks"] == after["vectors"] == after["bm25"] < 600, after
    assert rag_ingest(killed, files).returncode == 0
    assert counts(killed) == counts(clean)
    a, b = Assistant(killed), Assistant(clean)
    same_store(a, b)
    assert a.search("zq1x17", k=1, mode="bm25")[0].paper.id == "p1-17"
    a.close()
    b.close()


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_an_unreachable_server_is_one_line_naming_it(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(BackendUnavailableError, match=rf"cannot reach the Chroma server at {url} "):
        Assistant(Settings(data_dir=tmp_path / "x", embed="hash", chroma_url=url)).stats()
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "y"), "RAG_EMBED": "hash", "RAG_CHROMA_URL": url}
    for command in (["stats"], ["search", "speech synthesis"]):
        run = subprocess.run(
            [sys.executable, "-m", "rag.cli", *command], env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 1 and "Traceback" not in run.stderr
        # (search on an empty index first says it will index the bundled corpus)
        assert run.stderr.strip().splitlines()[-1] == (
            f"error: cannot reach the Chroma server at {url} (ConnectError): is it running? (RAG_CHROMA_URL)"
        )


@pytest.mark.slow
def test_the_token_reaches_a_server_that_requires_one_and_is_never_shown(
    chroma_server_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Chroma 1.x's own server (`chroma run`) checks no tokens, so the check is an auth gateway in front of it,
    # the way such a deployment is secured; the client side is Chroma's TokenAuthClientProvider.
    token = "s3cret-Token_42"
    files = write_files(tmp_path / "files", files=1, per_file=20)
    with Gateway(chroma_server_url, token=token).running() as gateway:
        caplog.set_level(logging.DEBUG)
        good = server_settings(tmp_path / "good", gateway.url, chroma_token=token)
        a = Assistant(good)
        a.ingest(files, progress=False)
        assert a.search("zq0x7", k=1, mode="dense")[0].paper.id == "p0-7"
        assert a.stats().vectors == 20
        a.close()
        assert len(gateway.seen) > 5
        assert {s.authorization for s in gateway.seen} == {f"Bearer {token}"}  # on every request
        assert token not in caplog.text and token not in repr(good)

        seen = len(gateway.seen)
        with pytest.raises(ConfigError) as refused:
            Assistant(server_settings(tmp_path / "bad", gateway.url, chroma_token="wrong-token")).stats()
        assert str(refused.value) == (
            f"the Chroma server at {gateway.url} refused the request (HTTP 401): RAG_CHROMA_TOKEN was not accepted"
        )
        assert len(gateway.seen) > seen  # it was asked, and said no
        with pytest.raises(ConfigError, match="it needs a token: set RAG_CHROMA_TOKEN"):
            Assistant(server_settings(tmp_path / "none", gateway.url)).stats()

        env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "cli"), "RAG_EMBED": "hash"}
        env |= {"RAG_CHROMA_URL": gateway.url, "RAG_CHROMA_TOKEN": "wrong-token"}
        run = subprocess.run(
            [sys.executable, "-m", "rag.cli", "stats"], env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 1 and "Traceback" not in run.stderr
        assert run.stderr.strip().splitlines() == [f"error: {refused.value}"]
        assert "wrong-token" not in run.stdout + run.stderr


@pytest.mark.slow
def test_a_server_that_dies_mid_session_is_one_line_and_loses_nothing(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    args = [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "server")]
    url = f"http://127.0.0.1:{port}"
    with running(args, f"{url}/api/v2/heartbeat", "chroma run") as proc:
        files = write_files(tmp_path / "files", files=2, per_file=10)
        a = Assistant(server_settings(tmp_path / "index", url))
        a.ingest(files[:1], progress=False)
        proc.kill()  # the server dies, not stops
        proc.wait(timeout=10)
    with pytest.raises(BackendUnavailableError, match=rf"cannot reach the Chroma server at {url} "):
        a.search("zq0x3", k=3)
    with pytest.raises(BackendUnavailableError, match="cannot reach the Chroma server"):
        a.ingest(files[1:], progress=False)
    assert a.manifest.count_papers() == 10  # the failed batch was rolled back; the first file stays
    assert a.manifest.journal()  # its vector writes wait to be undone once the server is back
