"""Ingest that cannot lose state: a real `rag ingest` killed with SIGKILL at chosen points, a batch that fails
inside a long-lived process, and two writers at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag import Assistant, Settings
from rag.errors import IndexBusyError
from rag.index.embedders import HashEmbedder

WORDS = "graph vision speech robot protein quantum language reward sparse kernel tensor market".split()


def write_files(folder: Path, files: int = 3, per_file: int = 300) -> list[Path]:
    """JSONL files of made-up papers; paper i of file f has the unique word `zq{f}x{i}` in its title."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = []
    for f in range(files):
        path = folder / f"part{f}.jsonl"
        with path.open("w") as fh:
            for i in range(per_file):
                words = " ".join(rng.choice(WORDS, 40))
                record = {
                    "id": f"p{f}-{i}",
                    "title": f"Study zq{f}x{i} of {WORDS[i % len(WORDS)]}",
                    "abstract": f"We study {words}. Results for zq{f}x{i} are reported.",
                    "year": 2015 + i % 10,
                }
                fh.write(json.dumps(record) + "\n")
        paths.append(path)
    return paths


def counts(data: Path) -> dict[str, int]:
    a = Assistant(Settings(data_dir=data, embed="hash"))
    s = a.stats()
    a.close()
    return {"papers": s.papers, "chunks": s.chunks, "vectors": s.vectors, "bm25": s.bm25_entries}


KILLER = """
import os, signal, sys
from rag.index import ingest, store, manifest
point, nth = os.environ["KILL_AT"], int(os.environ["KILL_NTH"])
calls = {"n": 0}

def killing(fn, after):
    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == nth and not after:
            os.kill(os.getpid(), signal.SIGKILL)
        result = fn(*args, **kwargs)
        if calls["n"] == nth and after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapper

if point == "upsert":        # inside a batch: manifest rows written, vectors half-way, nothing committed
    store.VectorStore.upsert = killing(store.VectorStore.upsert, after=True)
elif point == "journal":     # the journal is committed, the batch not yet started
    manifest.Manifest.journal_add = killing(manifest.Manifest.journal_add, after=True)
elif point == "rebuild":     # after the last manifest commit, before the BM25 rebuild
    ingest.Ingestor.rebuild_bm25 = killing(ingest.Ingestor.rebuild_bm25, after=False)
elif point == "bm25-save":   # the new BM25 generation half-saved
    from rag.index import bm25
    bm25.np.savez = killing(bm25.np.savez, after=True)
sys.argv = ["rag", "ingest", *sys.argv[1:]]
from rag.cli import app
app()
"""


def rag_ingest(
    data: Path, files: list[Path], kill: tuple[str, int] | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`rag ingest` in a subprocess (hash embeddings, extra `env`); with `kill`, SIGKILLed at that point."""
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": "hash", **(env or {})}
    if kill:
        env |= {"KILL_AT": kill[0], "KILL_NTH": str(kill[1])}
        cmd = [sys.executable, "-c", textwrap.dedent(KILLER), *map(str, files)]
    else:
        cmd = [sys.executable, "-m", "rag.cli", "ingest", *map(str, files)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[str, int]]:
    root = tmp_path_factory.mktemp("crash")
    files = write_files(root / "files")
    done = rag_ingest(root / "clean", files)
    assert done.returncode == 0, done.stderr
    clean = counts(root / "clean")
    assert clean == {"papers": 900, "chunks": 900, "vectors": 900, "bm25": 900}
    return files, clean


@pytest.mark.slow  # real `rag ingest` processes (about 5 s each)
@pytest.mark.parametrize(
    "kill",
    [("upsert", 3), ("journal", 5), ("rebuild", 1), ("bm25-save", 1)],
    ids=["mid-batch", "after-journal", "after-last-commit", "mid-bm25-save"],
)
def test_sigkill_then_rerun_equals_a_clean_run(
    kill: tuple[str, int], corpus: tuple[list[Path], dict[str, int]], tmp_path: Path
) -> None:
    files, clean = corpus
    data = tmp_path / "index"
    killed = rag_ingest(data, files, kill)
    assert killed.returncode == -9, killed.stderr  # really killed at that point
    # opening the index for writing repairs it at once: every store agrees, before any file is read again
    a = Assistant(Settings(data_dir=data, embed="hash"))
    a.ingest([], progress=False)
    s = a.stats()
    a.close()
    assert s.papers == s.chunks == s.vectors == s.bm25_entries
    rerun = rag_ingest(data, files)
    assert rerun.returncode == 0, rerun.stderr
    assert counts(data) == clean
    a = Assistant(Settings(data_dir=data, embed="hash"))
    for f in range(3):  # a BM25-mode search finds a paper from every file
        hits = a.search(f"zq{f}x17", k=1, mode="bm25")
        assert hits and hits[0].paper.id == f"p{f}-17"
    a.close()


class FailingEmbedder(HashEmbedder):
    """Embeds normally, except texts containing 'boom'."""

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        if any("boom" in t for t in texts):
            raise RuntimeError("embedding service fell over")
        return super()._embed_batch(texts)


def test_a_failing_batch_in_a_long_lived_process_leaves_every_store_equal(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=1, per_file=20)
    bad = tmp_path / "files" / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "title": "A boom study", "abstract": "boom goes the batch."}) + "\n")
    a = Assistant(Settings(data_dir=tmp_path / "index", embed="hash"), embedder=FailingEmbedder())
    a.ingest(files, progress=False)
    with pytest.raises(RuntimeError):
        a.ingest([bad], progress=False)
    s = a.stats()
    assert (s.papers, s.chunks, s.vectors, s.bm25_entries) == (20, 20, 20, 20)
    assert a.manifest.get("x") is None
    # the same process goes on: a good file still ingests and nothing is left half-written
    more = write_files(tmp_path / "more", files=2, per_file=5)[1:]
    a.ingest(more, progress=False)
    s = a.stats()
    assert (s.papers, s.chunks, s.vectors, s.bm25_entries) == (25, 25, 25, 25)


@pytest.mark.slow  # a real `rag ingest` process
def test_a_second_writer_gets_one_line_naming_the_process(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=1, per_file=5)
    settings = Settings(data_dir=tmp_path / "index", embed="hash", write_lock_timeout=0.5)
    first = Assistant(settings)
    first.ingest(files, progress=False)
    with first._writer:  # hold the writer lock as an ingest would
        env = {**os.environ, "RAG_DATA_DIR": str(settings.data_dir), "RAG_EMBED": "hash", "RAG_WRITE_LOCK_TIMEOUT": "1"}
        other = subprocess.run(
            [sys.executable, "-m", "rag.cli", "ingest", str(files[0]), "--reindex"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert other.returncode == 1
        assert f"is being updated by process {os.getpid()}" in other.stderr
        assert "Traceback" not in other.stderr
        # readers keep working while the writer holds the lock
        assert first.search("zq0x3", k=1, mode="bm25")[0].paper.id == "p0-3"
        assert first.stats().papers == 5
    assert counts(settings.data_dir)["papers"] == 5  # the refused --reindex wiped nothing


def test_a_waiting_writer_goes_ahead_when_the_first_is_done(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    files = write_files(tmp_path / "files", files=2, per_file=5)
    settings = Settings(data_dir=tmp_path / "index", embed="hash", write_lock_timeout=30)
    a, b = Assistant(settings), Assistant(settings)
    a._writer.__enter__()
    finished: list[float] = []
    worker = threading.Thread(target=lambda: (b.ingest(files[:1], progress=False), finished.append(time.monotonic())))
    worker.start()
    deadline = time.monotonic() + 60
    while "waiting: the index" not in caplog.text:  # b found the lock taken and waits for it
        assert worker.is_alive() and time.monotonic() < deadline, "the second writer never waited"
        time.sleep(0.01)
    assert not finished  # still waiting
    released = time.monotonic()
    a._writer.__exit__(None, None, None)
    worker.join(30)
    assert finished and finished[0] >= released
    assert b.stats().papers == 5
    impatient = Assistant(settings.model_copy(update={"write_lock_timeout": 0.2}))
    with pytest.raises(IndexBusyError), a._writer, impatient._writer:
        pass
