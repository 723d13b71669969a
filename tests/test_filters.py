"""Year and source filters at any size: correct, k results when that many exist, the same papers whichever way
the dense side applies them (over-fetch with masks, or Chroma metadata)."""

from __future__ import annotations

import json

import pytest

import rag.retrieval
from rag import Assistant, Settings

TOPICS = "graph vision speech robot protein quantum language reward".split()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("filters")
    files = []
    for f in range(4):
        path = root / f"src{f}.jsonl"
        with path.open("w") as fh:
            for i in range(150):
                topic = TOPICS[(i + f) % len(TOPICS)]
                rec = {
                    "id": f"f{f}-{i}",
                    "title": f"{topic} study {i}",
                    "abstract": f"We study {topic} models with method m{i % 7} on data d{i % 5}.",
                    "year": 2016 + (i % 8),
                }
                fh.write(json.dumps(rec) + "\n")
        files.append(path)
    a = Assistant(Settings(data_dir=root / "index", embed="hash"))
    a.ingest(files, progress=False)
    return a


FILTERS = [
    {"year": (2019, 2020)},
    {"sources": ["src2.jsonl"]},
    {"year": (2021, 2021), "sources": ["src0.jsonl", "src3.jsonl"]},
    {"year": (2016, 2023)},
]


@pytest.mark.parametrize("kwargs", FILTERS, ids=["year", "source", "both", "wide-year"])
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_hit_passes_the_filter_and_k_come_back(index: Assistant, mode: str, kwargs: dict) -> None:
    hits = index.search("speech models with method m3", k=10, mode=mode, **kwargs)
    if mode != "bm25":  # BM25 returns only papers with a lexical match
        assert len(hits) == 10
    assert hits
    for h in hits:
        if "year" in kwargs:
            assert kwargs["year"][0] <= h.paper.year <= kwargs["year"][1]
        if "sources" in kwargs:
            assert any(s.rsplit(":", 1)[0].rsplit("/", 1)[-1] in kwargs["sources"] for s in h.paper.sources)


@pytest.mark.parametrize("kwargs", FILTERS, ids=["year", "source", "both", "wide-year"])
def test_overfetch_and_chroma_metadata_filters_agree(
    index: Assistant, kwargs: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = [h.paper.id for h in index.search("robot protein data d2", k=10, mode="dense", **kwargs)]
    monkeypatch.setattr(rag.retrieval, "OVERFETCH_MIN_SHARE", 1.01)  # force Chroma's own filtered search
    slow = [h.paper.id for h in index.search("robot protein data d2", k=10, mode="dense", **kwargs)]
    assert fast == slow


def test_a_filter_nothing_passes_returns_nothing(index: Assistant) -> None:
    for mode in ("hybrid", "dense", "bm25"):
        assert index.search("speech", k=5, mode=mode, year=(1990, 1991)) == []
        assert index.search("speech", k=5, mode=mode, sources=["missing.jsonl"]) == []
