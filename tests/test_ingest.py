"""Ingestion into the real Chroma with the real bundled model: counts, dedup, increments, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.errors import IndexMismatchError
from tests.conftest import CORPUS, FIXTURES

pytestmark = pytest.mark.slow


def small_corpus(dest: Path) -> Path:
    """A writable copy of the 29-paper file (quick to embed)."""
    dest.mkdir(parents=True, exist_ok=True)
    src = next(CORPUS.glob("002_*.txt"))
    shutil.copy(src, dest / src.name)
    return dest / src.name


def test_bundled_corpus_indexes_410_unique_papers(bundled: Assistant) -> None:
    stats = bundled.stats()
    assert stats.papers == 410  # 431 abstracts in four files, 21 copies merged
    assert stats.chunks >= stats.papers
    assert len(stats.sources) == 4
    assert stats.embedding_model == "local:all-MiniLM-L6-v2"
    assert bundled.store.count() == stats.chunks
    assert stats.years[2018] >= 1


def test_a_paper_in_two_files_is_one_paper_with_both_sources(bundled: Assistant) -> None:
    papers = list(bundled.manifest.iter_papers())
    n2n = [p for p in papers if p.title.startswith("N2N Learning: Network to Network Compression")]
    assert len(n2n) == 1
    assert sorted(Path(s).name.split("_")[0] for s in n2n[0].sources) == ["001", "003"]
    assert sum(len(p.sources) > 1 for p in papers) == 18


def test_papers_have_stable_ids(bundled: Assistant) -> None:
    ids = [p.id for p in bundled.manifest.iter_papers()]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 16 for i in ids)


def test_reingesting_unchanged_files_embeds_nothing(bundled_dir: Path) -> None:
    assistant = Assistant(Settings(data_dir=bundled_dir))
    report = assistant.ingest(progress=False)
    assert (report.papers_added, report.papers_updated, report.chunks_added) == (0, 0, 0)
    assert report.papers_unchanged == 410
    assert report.files_skipped_unchanged == 4
    assert report.embed_seconds == 0
    assert "embedder" not in assistant.__dict__  # the model was never even loaded


def test_changed_abstract_replaces_its_chunks_and_removed_paper_goes(tmp_path: Path) -> None:
    path = small_corpus(tmp_path / "c")
    assistant = Assistant()
    first = assistant.ingest([path], progress=False)
    assert (first.papers_added, len(first.errors)) == (29, 0)
    text = path.read_text()
    old = "The Bayesian treatment of neural networks dictates that a prior distribution"
    assert old in text
    text = text.replace(old, "The Bayesian treatment of REVISED networks dictates that a prior distribution")
    # drop the last paper of the file (title, abstract, authors, separator, date)
    blocks = text.rstrip("\n").split("\n\n")
    path.write_text("\n\n".join(blocks[:-4]) + "\n")
    second = assistant.ingest([path], progress=False)
    assert (second.papers_added, second.papers_updated, second.papers_removed) == (0, 1, 1)
    assert second.papers_unchanged == 27 and second.chunks_added == 1
    hits = assistant.search("REVISED networks prior distribution", k=1, mode="bm25")
    assert hits[0].paper.title == "All You Need is a Good Functional Prior for Bayesian Deep Learning"
    assert "REVISED" in hits[0].passage
    assert assistant.stats().papers == 28 and assistant.store.count() == assistant.stats().chunks


def test_prune_removes_papers_whose_files_are_gone(tmp_path: Path) -> None:
    path = small_corpus(tmp_path / "c")
    extra = tmp_path / "extra.jsonl"
    shutil.copy(FIXTURES / "papers.jsonl", extra)
    assistant = Assistant()
    assistant.ingest([path, extra], progress=False)
    assert assistant.stats().papers == 32
    extra.unlink()
    assert assistant.ingest([path], progress=False).papers_removed == 0  # only --prune removes
    report = assistant.ingest([path], prune=True, progress=False)
    assert report.papers_removed == 3
    assert assistant.stats().papers == 29 and assistant.store.count() == 29


def test_a_broken_file_loses_nothing_already_indexed(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    shutil.copy(FIXTURES / "papers.jsonl", good)
    assistant = Assistant()
    assistant.ingest([good], progress=False)
    good.write_bytes(b"\x00\x00garbage")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("title,year\nX,2020\n")
    report = assistant.ingest([good, bad_csv, FIXTURES / "papers.csv", tmp_path / "missing.txt"], progress=False)
    assert report.papers_added == 2  # papers.csv still ingested
    messages = sorted(str(e) for e in report.errors)
    assert len(messages) == 3
    assert any("binary file" in m and "good.jsonl" in m for m in messages)
    assert any("bad.csv:1" in m and "no abstract column" in m for m in messages)
    assert any("missing.txt" in m and "no such file" in m for m in messages)
    assert assistant.stats().papers == 5  # the three earlier papers are kept
    assert assistant.search("glacier melt forecasting", k=1)[0].paper.id == "p-002"


def test_ingesting_fixtures_uses_given_ids_and_dedups_against_them(tmp_path: Path) -> None:
    assistant = Assistant()
    report = assistant.ingest([FIXTURES / "arxiv_snapshot.jsonl", FIXTURES / "beir_corpus.jsonl"], progress=False)
    assert report.papers_added == 4
    lora = assistant.manifest.get("2106.09685")
    assert lora is not None and lora.url == "https://arxiv.org/abs/2106.09685" and lora.year == 2021
    assert assistant.manifest.get("4983") is not None


def test_mixing_embedding_models_is_refused_with_advice(tmp_path: Path) -> None:
    assistant = Assistant()
    assistant.ingest([FIXTURES / "papers.csv"], progress=False)
    assistant.manifest.set_meta("embed_model", "openai:text-embedding-3-small")
    with pytest.raises(IndexMismatchError, match="re-index"):
        assistant.search("bees")
    with pytest.raises(IndexMismatchError):
        assistant.ingest([FIXTURES / "papers.jsonl"], progress=False)
    report = assistant.ingest([FIXTURES / "papers.jsonl"], reindex=True, progress=False)
    assert report.papers_added == 3 and assistant.stats().papers == 3
