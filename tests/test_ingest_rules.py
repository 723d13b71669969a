"""Ingest rules, fast (hash embedder): duplicate ids with other text, source links and filters, re-runs."""

from __future__ import annotations

import json
from pathlib import Path

from rag import Assistant, Settings


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def make(tmp_path: Path) -> Assistant:
    return Assistant(Settings(data_dir=tmp_path / "index", embed="hash"))


def test_a_repeated_id_with_other_text_in_one_file_keeps_the_later_line_and_says_so(tmp_path: Path) -> None:
    f = jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "X1", "title": "Old title", "abstract": "The first version talks about bees."},
            {"id": "X2", "title": "Other", "abstract": "Something about ants."},
            {"id": "X1", "title": "New title", "abstract": "The second version talks about wasps."},
        ],
    )
    a = make(tmp_path)
    report = a.ingest([f], progress=False)
    assert a.stats().papers == 2
    assert a.manifest.get("X1").abstract == "The second version talks about wasps."
    assert len(report.conflicts) == 1 and f"{f}:3: id X1" in report.conflicts[0]
    assert a.search("wasps", k=1, mode="bm25")[0].paper.id == "X1"
    assert a.search("bees", k=2, mode="bm25") == []  # the replaced text is gone from BM25 too
    s = a.stats()
    assert s.chunks == s.vectors == s.bm25_entries == 2


def test_a_known_id_with_other_text_in_another_file_updates_the_paper_and_says_so(tmp_path: Path) -> None:
    a = make(tmp_path)
    first = jsonl(tmp_path / "a.jsonl", [{"id": "X1", "title": "T", "abstract": "Bees dance to share routes."}])
    second = jsonl(tmp_path / "b.jsonl", [{"id": "X1", "title": "T", "abstract": "Wasps build paper nests."}])
    assert a.ingest([first], progress=False).conflicts == []
    report = a.ingest([second], progress=False)
    assert len(report.conflicts) == 1 and "id X1 was read before" in report.conflicts[0]
    assert report.papers_updated == 1
    paper = a.manifest.get("X1")
    assert paper.abstract == "Wasps build paper nests."
    assert {s.rsplit(":", 1)[0] for s in paper.sources} == {str(first), str(second)}
    s = a.stats()
    assert (s.papers, s.chunks, s.vectors, s.bm25_entries) == (1, 1, 1, 1)


def test_the_same_record_in_two_files_is_one_paper_that_both_source_filters_find(tmp_path: Path) -> None:
    a = make(tmp_path)
    rec = {
        "id": "Y",
        "title": "Shared paper on coral reefs",
        "abstract": "Coral reefs bleach in warm water.",
        "year": 2021,
    }
    one = jsonl(tmp_path / "one.jsonl", [rec, {"id": "Z", "title": "Solo", "abstract": "Coral gardens.", "year": 2019}])
    two = jsonl(tmp_path / "two.jsonl", [rec])
    a.ingest([one, two], progress=False)
    assert a.stats().papers == 2
    for mode in ("hybrid", "dense", "bm25"):
        hits = a.search("coral reefs", k=5, mode=mode, sources=["two.jsonl"])
        assert [h.paper.id for h in hits] == ["Y"], mode
        hits = a.search("coral", k=5, mode=mode, sources=["one.jsonl"], year=(2019, 2019))
        assert [h.paper.id for h in hits] == ["Z"], mode
    assert a.search("coral", k=5, sources=["nope.jsonl"]) == []
    # the second file is edited to drop the record: the paper stays (one.jsonl still has it), two's filter is empty
    two.write_text(json.dumps({"id": "W", "title": "Whales", "abstract": "Whales sing."}) + "\n")
    a.ingest([two], progress=False)
    assert a.manifest.get("Y") is not None
    for mode in ("hybrid", "dense", "bm25"):
        assert "Y" not in [h.paper.id for h in a.search("coral reefs", k=5, mode=mode, sources=["two.jsonl"])]
        assert "Y" in [h.paper.id for h in a.search("coral reefs", k=5, mode=mode, sources=["one.jsonl"])]


def test_a_rerun_of_a_half_ingested_file_embeds_only_the_rest(tmp_path: Path) -> None:
    records = [{"id": f"r{i}", "title": f"Paper {i}", "abstract": f"Topic {i} with words w{i}."} for i in range(600)]
    half = jsonl(tmp_path / "big.jsonl", records[:300])
    a = make(tmp_path)
    a.ingest([half], progress=False)
    jsonl(half, records)  # the file grows (as a download that was cut and resumed)
    report = a.ingest([half], progress=False)
    assert report.papers_added == 300 and report.chunks_added == 300
    assert report.papers_unchanged == 300


def test_cli_reports_conflicts_and_stats_show_every_store(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.setenv("RAG_EMBED", "hash")
    f = jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "X1", "title": "Old", "abstract": "Bees dance."},
            {"id": "X1", "title": "New", "abstract": "Wasps build."},
        ],
    )
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(f)])
    assert result.exit_code == 0, result.output
    assert f"updated {f}:2: id X1 was read before with other text" in " ".join(result.output.split())
    stats = runner.invoke(app, ["stats"])
    assert "papers: 1\nchunks: 1\nvectors: 1\nBM25 entries: 1\n" in stats.output


def test_a_file_that_vanishes_before_it_is_read_is_one_error_and_the_rest_ingests(tmp_path: Path, monkeypatch) -> None:
    import rag.index.ingest as ingest_module

    good = jsonl(tmp_path / "good.jsonl", [{"id": "G", "title": "Good", "abstract": "Good text."}])
    gone = jsonl(tmp_path / "gone.jsonl", [{"id": "H", "title": "Gone", "abstract": "Gone text."}])
    real = ingest_module.file_digest

    def vanishing(path: Path) -> str:
        if path.name == "gone.jsonl":
            path.unlink()  # deleted between the directory walk and the read
        return real(path)

    monkeypatch.setattr(ingest_module, "file_digest", vanishing)
    a = make(tmp_path)
    report = a.ingest([good, gone], progress=False)
    assert [str(e) for e in report.errors] == [f"{gone}: cannot read: No such file or directory"]
    assert a.stats().papers == 1
