"""One live index shared by processes: a long-lived reader (the Python API under every door) sees what another
process committed by its next request, in embedded Chroma and against a Chroma server; ids its store lacks are
skipped; a failing store is one line (503 through REST), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Assistant, Settings
from rag.api.app import create_app
from rag.errors import BackendUnavailableError
from rag.index.bm25 import BM25Index
from tests.test_crash_safety import write_files


def ingest_elsewhere(data: Path, files: list[Path], **env: str) -> None:
    """`rag ingest` in another process (hash embedder), as a user running it beside a server would."""
    run = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", *map(str, files)],
        env={**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": "hash", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr


def found(assistant: Assistant, word: str, mode: str) -> list[str]:
    return [h.paper.id for h in assistant.search(f"study {word}", k=5, mode=mode)]


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_a_reader_sees_papers_another_process_committed(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=3, per_file=40)
    data = tmp_path / "data"
    ingest_elsewhere(data, files[:1])
    reader = Assistant(Settings(data_dir=data, embed="hash", llm="extractive"))
    for mode in ("hybrid", "dense", "bm25"):  # every segment of the store is loaded in this process
        assert found(reader, "zq0x5", mode)[0] == "p0-5"
    assert reader.stats().vectors == 40

    ingest_elsewhere(data, files[1:2])  # another process adds 40 papers
    for mode in ("hybrid", "dense", "bm25"):
        assert found(reader, "zq1x7", mode)[0] == "p1-7", mode
    stats = reader.stats()
    assert stats.papers == stats.chunks == stats.vectors == stats.bm25_entries == 80
    answer = reader.ask("What is reported for zq1x9?")  # (the hash embedder's answer may abstain: not the point)
    assert answer.sources[0].paper.id == "p1-9"

    # the REST door over the same long-lived reader
    client = TestClient(create_app(reader), base_url="http://127.0.0.1:8000")
    ingest_elsewhere(data, files[2:])
    hits = client.get("/search", params={"q": "study zq2x3", "k": 3})
    assert hits.status_code == 200 and hits.json()[0]["paper"]["id"] == "p2-3"
    assert client.get("/papers/p2-3").status_code == 200
    assert client.get("/stats").json()["vectors"] == 120
    reader.close()


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_a_reader_follows_a_reindex_by_another_process(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=2, per_file=20)
    data = tmp_path / "data"
    ingest_elsewhere(data, files[:1])
    reader = Assistant(Settings(data_dir=data, embed="hash", llm="extractive"))
    assert found(reader, "zq0x5", "hybrid")[0] == "p0-5"
    run = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", str(files[1]), "--reindex"],
        env={**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": "hash"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert found(reader, "zq1x5", "hybrid")[0] == "p1-5"
    assert found(reader, "zq1x5", "dense")[0] == "p1-5"
    assert "p0-5" not in found(reader, "zq0x5", "hybrid")  # the old papers are gone
    stats = reader.stats()
    assert stats.papers == stats.vectors == stats.bm25_entries == 20
    reader.close()


def test_ids_the_store_lacks_are_skipped(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=1, per_file=20)
    a = Assistant(Settings(data_dir=tmp_path / "data", embed="hash", llm="extractive"))
    a.ingest(files, progress=False)
    a.store.delete(a.manifest.chunk_ids_of("p0-4"))  # the manifest and BM25 know it, the store does not
    assert a.store.vectors(["p0-4:0", "p0-5:0"]).keys() == {"p0-5:0"}
    hits = a.search("study zq0x4", k=5, mode="hybrid")
    assert hits and hits[0].paper.id == "p0-4"  # found by BM25 alone
    assert "dense" not in hits[0].scores
    a.close()


def test_a_failing_local_store_is_one_line_and_a_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chromadb.errors import InternalError

    files = write_files(tmp_path / "files", files=1, per_file=10)
    a = Assistant(Settings(data_dir=tmp_path / "data", embed="hash", llm="extractive"))
    a.ingest(files, progress=False)
    calls = {"n": 0}

    def broken(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        raise InternalError("Error executing plan: Error finding id")

    monkeypatch.setattr(a.store.collection.__class__, "query", broken)
    with pytest.raises(BackendUnavailableError) as failed:
        a.search("study zq0x3", mode="dense")
    assert (
        str(failed.value)
        == f"the vector store in {a.settings.chroma_dir} failed: Error executing plan: Error finding id"
    )
    assert calls["n"] == 2  # tried once more on a freshly opened store
    rest = TestClient(create_app(a), base_url="http://127.0.0.1:8000")
    response = rest.get("/search", params={"q": "study zq0x3", "mode": "dense"})
    assert response.status_code == 503
    assert response.json() == {"error": str(failed.value)}
    a.close()


def test_bm25_load_starts_over_when_a_writer_replaces_the_generation(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "bm25"
    old, new = BM25Index(), BM25Index()
    old.build(["a:0"], ["old text"])
    old.save(folder, "g1")
    new.build(["b:0", "c:0"], ["new text", "more text"])
    real = BM25Index._load
    seen: list[str] = []

    def racing(folder_: Path, generation: str) -> BM25Index:
        seen.append(generation)
        if len(seen) == 1:  # the writer saves g2 (removing g1) between reading CURRENT and reading g1
            new.save(folder, "g2")
        return real(folder_, generation)

    monkeypatch.setattr(BM25Index, "_load", staticmethod(racing))
    loaded = BM25Index.load(folder)
    assert seen == ["g1", "g2"] and loaded.ids == ["b:0", "c:0"] and loaded.generation == "g2"


@pytest.mark.slow
def test_a_reader_on_a_chroma_server_follows_another_process(chroma_server_url: str, tmp_path: Path) -> None:
    from tests.test_chroma_server import server_settings

    files = write_files(tmp_path / "files", files=3, per_file=20)
    settings = server_settings(tmp_path / "data", chroma_server_url, collection=f"live-{uuid.uuid4().hex}")
    env = {"RAG_CHROMA_URL": chroma_server_url, "RAG_COLLECTION": settings.collection}
    ingest_elsewhere(settings.data_dir, files[:1], **env)
    reader = Assistant(settings)
    assert found(reader, "zq0x5", "hybrid")[0] == "p0-5"
    ingest_elsewhere(settings.data_dir, files[1:2], **env)
    for mode in ("hybrid", "dense"):
        assert found(reader, "zq1x7", mode)[0] == "p1-7", mode
    run = subprocess.run(  # the collection is dropped and made anew under the reader
        [sys.executable, "-m", "rag.cli", "ingest", str(files[2]), "--reindex"],
        env={**os.environ, "RAG_DATA_DIR": str(settings.data_dir), "RAG_EMBED": "hash", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert found(reader, "zq2x3", "dense")[0] == "p2-3"
    stats = reader.stats()
    assert stats.papers == stats.vectors == stats.bm25_entries == 20
    reader.close()


@pytest.mark.slow  # real `rag ingest` processes, one of them SIGKILLed
def test_a_reader_beside_a_writer_killed_mid_batch_stays_consistent_and_follows_the_repair(tmp_path: Path) -> None:
    from tests.test_crash_safety import rag_ingest

    files = write_files(tmp_path / "files", files=2, per_file=300)
    data = tmp_path / "data"
    ingest_elsewhere(data, files[:1])
    reader = Assistant(Settings(data_dir=data, embed="hash", llm="extractive"))
    assert found(reader, "zq0x5", "hybrid")[0] == "p0-5"
    killed = rag_ingest(data, files[1:], kill=("upsert", 1))  # vectors written, the batch never committed
    assert killed.returncode == -9
    for mode in ("hybrid", "dense"):  # no error, and no paper of the uncommitted batch
        assert all(not pid.startswith("p1-") for pid in found(reader, "zq1x7", mode)), mode
    assert reader.stats().papers == 300
    ingest_elsewhere(data, files[1:])  # the next writer repairs, then commits the file
    assert found(reader, "zq1x7", "hybrid")[0] == "p1-7"
    stats = reader.stats()
    assert stats.papers == stats.vectors == stats.bm25_entries == 600
    # the reader's dense results are those of a process opening the repaired index now (on these near-orthogonal hash
    # vectors an HNSW graph may leave a vector unreachable, the same for both: that is no reader's staleness)
    fresh = Assistant(Settings(data_dir=data, embed="hash", llm="extractive"))
    for word in ("zq1x7", "zq1x150", "zq1x299", "zq0x5"):
        assert found(reader, word, "dense") == found(fresh, word, "dense"), word
    fresh.close()
    reader.close()


PAPERS = 8000


@pytest.mark.slow  # a real `rag ingest` of 8,000 papers beside a reader searching all along
def test_a_reader_searching_while_another_process_ingests_leaves_the_vector_index_files_whole(tmp_path: Path) -> None:
    # Chroma rewrites its HNSW files when a process loads them for a query or drops its client: a reader's rewrite
    # racing the writer's once grew link_lists.bin to 58 GB beside `rag serve`, and filled the disk
    files = write_files(tmp_path / "files", files=2, per_file=PAPERS)
    data = tmp_path / "data"
    ingest_elsewhere(data, [write_files(tmp_path / "small", files=1, per_file=50)[0]])
    reader = Assistant(Settings(data_dir=data, embed="hash", llm="extractive"))
    writer = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ingest", str(files[1])],
        env={**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": "hash"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    searches = 0
    while writer.poll() is None or searches < 3:  # a new client each time the writer commits a batch
        assert reader.search("study zq0x5", k=5, mode="dense")
        searches += 1
    assert writer.wait() == 0, writer.stderr.read() if writer.stderr else ""
    index_files = list((data / "chroma").glob("*/*.bin"))
    assert index_files and all(f.stat().st_blocks * 512 < 100_000_000 for f in index_files)  # ~14 MB in all
    fresh = Assistant(Settings(data_dir=data, embed="hash", llm="extractive"))
    assert fresh.stats().vectors == reader.stats().vectors == PAPERS + 50
    assert found(fresh, "zq0x5", "hybrid")[0] == found(reader, "zq0x5", "hybrid")[0] == "p0-5"
    fresh.close()
    reader.close()
