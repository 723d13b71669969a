"""`rag ingest --reindex` builds the new index beside the live one: a server goes on answering from the old index
until the new one takes its place, and a re-index that fails or is killed leaves the old index whole."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rag import Assistant, Settings
from rag.errors import InputError
from rag.index.bm25 import BM25Index
from rag.index.embedders import HashEmbedder
from rag.index.rebuild import RETIRED, staging_dir
from tests.test_crash_safety import FailingEmbedder, counts, rag_ingest, write_files


class HookedEmbedder(HashEmbedder):
    """Embeds as `HashEmbedder` does, calling `hook` first (when set)."""

    hook: Callable[[], None] | None = None

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        if self.hook is not None:
            self.hook()
        return super()._embed_batch(texts)


def top(assistant: Assistant, query: str, mode: str = "hybrid") -> list[str]:
    return [h.paper.id for h in assistant.search(query, k=3, mode=mode)]  # type: ignore[arg-type]


def collections(assistant: Assistant) -> set[str]:
    return {getattr(c, "name", c) for c in assistant.store.client.list_collections()}


def index_folders(data: Path) -> list[Path]:
    """The embedded Chroma's vector-index folders (one per collection, named by its segment id)."""
    return [d for d in (data / "chroma").iterdir() if d.is_dir()]


def settings(data: Path) -> Settings:
    return Settings(data_dir=data, embed="hash", llm="extractive")


def test_a_reader_answers_from_the_old_index_until_the_reindex_is_in_place(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=2, per_file=20)
    embedder = HookedEmbedder()
    writer = Assistant(settings(tmp_path / "data"), embedder=embedder)
    writer.ingest(files[:1], progress=False)
    reader = Assistant(settings(tmp_path / "data"))
    assert top(reader, "zq0x5")[0] == "p0-5"
    seen: list[tuple[str, str, int]] = []

    def look() -> None:  # the reader, while the new index is being built
        seen.append((top(reader, "zq0x5", "hybrid")[0], top(reader, "zq0x5", "dense")[0], reader.stats().papers))

    embedder.hook = look
    writer.ingest(files[1:], reindex=True, progress=False)
    embedder.hook = None
    assert seen and all(s == ("p0-5", "p0-5", 20) for s in seen)  # it was 0 papers and no hits before
    for mode in ("hybrid", "dense", "bm25"):
        assert top(reader, "zq1x5", mode)[0] == "p1-5", mode
        assert "p0-5" not in top(reader, "zq0x5", mode), mode
    stats = reader.stats()
    assert stats.papers == stats.vectors == stats.bm25_entries == 20
    assert not staging_dir(tmp_path / "data").exists()
    assert collections(writer) == {writer.store.name}  # the old collection is dropped
    fresh = Assistant(settings(tmp_path / "data"))
    assert top(fresh, "zq1x5", "dense")[0] == "p1-5"
    for a in (fresh, reader, writer):
        a.close()
    assert len(index_folders(tmp_path / "data")) == 1  # Chroma leaves a deleted collection's folder behind


def test_a_failed_reindex_keeps_the_old_index_and_leaves_nothing_behind(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=2, per_file=20)
    bad = tmp_path / "files" / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "title": "A boom study", "abstract": "boom goes the batch."}) + "\n")
    writer = Assistant(settings(tmp_path / "data"), embedder=FailingEmbedder())
    writer.ingest(files[:1], progress=False)
    live = writer.store.name
    with pytest.raises(RuntimeError):
        writer.ingest([files[1], bad], reindex=True, progress=False)
    s = writer.stats()
    assert (s.papers, s.vectors, s.bm25_entries) == (20, 20, 20)
    assert top(writer, "zq0x5", "dense")[0] == "p0-5"
    assert not staging_dir(tmp_path / "data").exists()
    assert collections(writer) == {live}
    writer.close()
    assert counts(tmp_path / "data") == {"papers": 20, "chunks": 20, "vectors": 20, "bm25": 20}


def test_a_collection_a_killed_swap_left_is_dropped_by_the_next_writer(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=1, per_file=5)
    writer = Assistant(settings(tmp_path / "data"))
    writer.ingest(files, progress=False)
    writer.store.client.get_or_create_collection("abstracts-dead", embedding_function=None)
    writer.manifest.set_meta(RETIRED, "abstracts-dead")
    writer.ingest(files, progress=False)
    assert collections(writer) == {writer.store.name}
    assert writer.manifest.get_meta(RETIRED) is None
    writer.close()


def test_reset_after_a_reindex_empties_the_index_under_the_configured_name(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=2, per_file=5)
    writer = Assistant(settings(tmp_path / "data"))
    writer.ingest(files[:1], progress=False)
    writer.ingest(files[1:], reindex=True, progress=False)
    assert writer.store.name != "abstracts"
    writer.reset()
    assert writer.store.name == "abstracts" and collections(writer) == {"abstracts"}
    assert writer.stats().papers == writer.stats().vectors == 0
    writer.ingest(files[:1], progress=False)
    writer.close()
    assert counts(tmp_path / "data") == {"papers": 5, "chunks": 5, "vectors": 5, "bm25": 5}


def test_a_refresh_inside_a_reset_does_not_create_the_dropped_collection_again(tmp_path: Path) -> None:
    # helper-59: a reader's refresh between `reset`'s drop of the collection and the swap of the manifest read the
    # old manifest's name and created that collection again; the next ingest wrote its vectors there, unreachable
    # (papers 60, vectors 0, in about 1 of 150 reset-after-reindex cycles with readers)
    files = write_files(tmp_path / "files", files=2, per_file=5)
    writer = Assistant(settings(tmp_path / "data"))
    writer.ingest(files[:1], progress=False)
    writer.ingest(files[1:], reindex=True, progress=False)
    old = writer.store.name
    writer.store.reset()  # the reset's first step: the manifest still names `old`
    writer.store.refresh()  # a reader's refresh in that window
    assert writer.store.name == "abstracts" and old not in collections(writer)
    writer.reset()
    writer.ingest(files[:1], progress=False)
    writer.close()
    assert counts(tmp_path / "data") == {"papers": 5, "chunks": 5, "vectors": 5, "bm25": 5}


@pytest.mark.slow  # real `rag ingest` processes, one of them SIGKILLed
def test_a_reindex_killed_midway_leaves_the_old_index_and_the_next_writer_clears_what_it_left(tmp_path: Path) -> None:
    files = write_files(tmp_path / "files", files=2, per_file=300)
    data = tmp_path / "data"
    assert rag_ingest(data, files[:1]).returncode == 0
    killed = rag_ingest(data, [files[1], "--reindex"], kill=("upsert", 2))  # type: ignore[list-item]
    assert killed.returncode == -9
    assert staging_dir(data).exists()
    assert counts(data) == {"papers": 300, "chunks": 300, "vectors": 300, "bm25": 300}  # was 0 before
    reader = Assistant(settings(data))
    assert top(reader, "zq0x5", "dense")[0] == "p0-5"
    assert len(collections(reader)) == 2  # the half-built one
    reader.close()
    assert rag_ingest(data, files[1:]).returncode == 0  # the next writer clears it, then ingests as asked
    assert not staging_dir(data).exists()
    assert counts(data) == {"papers": 600, "chunks": 600, "vectors": 600, "bm25": 600}
    reader = Assistant(settings(data))
    assert len(collections(reader)) == 1
    reader.close()
    assert len(index_folders(data)) == 1


def test_a_writer_opened_before_another_reindexed_writes_into_the_new_index(tmp_path: Path) -> None:
    # helper-52: the late writer's papers went into the old, deleted manifest (20 papers, 40 vectors, no BM25 hits)
    files = write_files(tmp_path / "files", files=3, per_file=20)
    first = Assistant(settings(tmp_path / "data"))
    first.ingest(files[:1], progress=False)
    late = Assistant(settings(tmp_path / "data"))
    first.ingest(files[1:2], reindex=True, progress=False)
    late.ingest(files[2:], progress=False)
    for a in (late, first):
        s = a.stats()
        assert (s.papers, s.vectors, s.bm25_entries) == (40, 40, 40)
        assert top(a, "zq2x5", "bm25")[0] == "p2-5" and top(a, "zq1x5", "bm25")[0] == "p1-5"
        # hashed bags of words: the dense hits are of the right file, not always the right paper
        assert top(a, "zq2x5", "dense")[0].startswith("p2-") and top(a, "zq1x5", "dense")[0].startswith("p1-")
    for a in (late, first):
        a.close()


def test_a_reader_that_followed_a_reindex_follows_a_reset_too(tmp_path: Path) -> None:
    # helper-52: the reader kept the dropped collection's name, made it anew and saw no vectors from then on
    files = write_files(tmp_path / "files", files=3, per_file=10)
    writer = Assistant(settings(tmp_path / "data"))
    writer.ingest(files[:1], progress=False)
    reader = Assistant(settings(tmp_path / "data"))
    writer.ingest(files[1:2], reindex=True, progress=False)
    assert top(reader, "zq1x5", "dense")[0] == "p1-5"
    writer.reset()
    writer.ingest(files[2:], progress=False)
    s = reader.stats()
    assert (s.papers, s.vectors, s.bm25_entries) == (10, 10, 10)
    assert all(pid.startswith("p2-") for pid in top(reader, "zq2x5", "dense"))
    assert collections(writer) == {"abstracts"}
    for a in (reader, writer):
        a.close()


def test_a_reindex_or_reset_leaves_other_indexes_collections_alone(tmp_path: Path) -> None:
    # helper-53: dropping every "<RAG_COLLECTION>-<hex>" deleted another data dir's "abstracts-20240101" on a shared
    # Chroma server; only the names this index made are dropped
    files = write_files(tmp_path / "files", files=1, per_file=5)
    writer = Assistant(settings(tmp_path / "data"))
    writer.ingest(files, progress=False)
    others = {"abstracts-20240101", "abstracts-0123456789abcdef", "other-index"}
    for name in others:
        writer.store.client.get_or_create_collection(name, embedding_function=None)
    writer.ingest(files, reindex=True, progress=False)
    assert collections(writer) == {writer.store.name} | others
    writer.reset()
    assert collections(writer) == {"abstracts"} | others
    writer.close()


def test_a_reindex_that_reads_no_paper_leaves_the_index_as_it_was(tmp_path: Path) -> None:
    # helper-52: `rag ingest part0.jsnol --reindex` (a typo) swapped in an empty index
    files = write_files(tmp_path / "files", files=1, per_file=10)
    writer = Assistant(settings(tmp_path / "data"))
    writer.ingest(files, progress=False)
    (tmp_path / "empty").mkdir()
    for paths in ([tmp_path / "part0.jsnol"], [tmp_path / "empty"]):
        with pytest.raises(InputError, match=r"the re-index read no paper.*the index is unchanged"):
            writer.ingest(paths, reindex=True, progress=False)
        s = writer.stats()
        assert (s.papers, s.vectors, s.bm25_entries) == (10, 10, 10)
    assert collections(writer) == {writer.store.name} and not staging_dir(tmp_path / "data").exists()
    writer.close()


def failing_live_publish(monkeypatch: pytest.MonkeyPatch, live: Path, failure: BaseException) -> None:
    """Publishing a BM25 generation into the live folder `live` raises `failure` (the staging one still works)."""
    publish = BM25Index.publish

    def failing(self: BM25Index, folder: Path) -> None:
        if folder == live:
            raise failure
        publish(self, folder)

    monkeypatch.setattr(BM25Index, "publish", failing)


def test_a_reindex_stopped_after_the_manifest_moved_has_its_bm25_index_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_files(tmp_path / "files", files=2, per_file=10)
    writer = Assistant(settings(tmp_path / "data"))
    writer.ingest(files[:1], progress=False)
    failing_live_publish(monkeypatch, writer.settings.bm25_dir, SystemExit("killed between the rename and publishing"))
    with pytest.raises(SystemExit):
        writer.ingest(files[1:], reindex=True, progress=False)
    monkeypatch.undo()
    writer.close()
    after = Assistant(settings(tmp_path / "data"))
    assert all(pid.startswith("p1-") for pid in top(after, "zq1x5", "dense"))  # the new index is live
    after.ingest(files[1:], progress=False)  # the next writer rebuilds BM25 from the new manifest
    s = after.stats()
    assert (s.papers, s.vectors, s.bm25_entries) == (10, 10, 10)
    assert top(after, "zq1x5", "bm25")[0] == "p1-5"
    assert len(collections(after)) == 1
    after.close()


def test_a_failure_after_the_manifest_moved_is_a_warning_not_a_failed_reindex(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # helper-53: a full disk while publishing the BM25 index raised a raw OSError although the new index was live
    import errno

    files = write_files(tmp_path / "files", files=2, per_file=10)
    writer = Assistant(settings(tmp_path / "data"))
    writer.ingest(files[:1], progress=False)
    failing_live_publish(monkeypatch, writer.settings.bm25_dir, OSError(errno.ENOSPC, "No space left on device"))
    report = writer.ingest(files[1:], reindex=True, progress=False)
    monkeypatch.undo()
    assert report.papers_added == 10 and "could not be published" in caplog.text
    assert all(pid.startswith("p1-") for pid in top(writer, "zq1x5", "dense"))
    writer.ingest(files[1:], progress=False)  # the next ingest rebuilds the BM25 index
    assert top(writer, "zq1x5", "bm25")[0] == "p1-5"
    assert len(collections(writer)) == 1
    writer.close()
