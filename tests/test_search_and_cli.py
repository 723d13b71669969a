"""Search over the bundled index, and the CLI's commands and error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Assistant
from rag.cli import app
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.mark.parametrize(
    ("query", "title"),
    [
        (
            "a transformer replaces the RNNs of Tacotron2 for faster speech synthesis training",
            "Neural Speech Synthesis with Transformer Network",
        ),
        (
            "reinforcement learning agent that shrinks a teacher network into a student",
            "N2N Learning: Network to Network Compression via Policy Gradient Reinforcement Learning",
        ),
    ],
)
def test_search_finds_the_paper_from_a_paraphrase(bundled: Assistant, query: str, title: str) -> None:
    hits = bundled.search(query, k=5)
    assert hits[0].paper.title == title
    assert len({h.paper.id for h in hits}) == len(hits) == 5
    assert hits[0].passage and hits[0].score >= hits[-1].score


def test_untitled_abstract_is_found(bundled: Assistant) -> None:
    hits = bundled.search("clipping the spectrum of convolutional layers with automatic differentiation", k=3)
    assert hits[0].paper.title_derived
    assert "FastClip" in hits[0].paper.abstract


def test_cli_search_json_and_stats(bundled_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(bundled_dir))
    result = runner.invoke(app, ["search", "wide residual networks", "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["paper"]["title"] == "Wide Residual Networks" and len(hits) == 3
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 0 and "papers: 410" in result.output


def test_cli_ingest_reports_errors_in_one_line_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("title,year\nX,2020\n")
    result = runner.invoke(
        app, ["ingest", str(FIXTURES / "papers.csv"), str(tmp_path / "bad.csv"), str(tmp_path / "nope.jsonl")]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "bad.csv:1: no abstract column" in result.output
    assert "nope.jsonl: no such file or directory" in result.output
    assert "2 papers added" in result.output


def test_cli_refuses_a_mixed_model_index_with_one_line(tmp_path: Path) -> None:
    runner.invoke(app, ["ingest", str(FIXTURES / "papers.csv")])
    assistant = Assistant()
    assistant.manifest.set_meta("embed_model", "openai:text-embedding-3-small")
    result = runner.invoke(app, ["search", "bees"])
    assert result.exit_code == 1
    assert "rag ingest --reindex" in result.output and "Traceback" not in result.output


def test_year_filter_returns_k_matching_papers(bundled: Assistant) -> None:
    for mode in ("hybrid", "dense", "bm25"):
        hits = bundled.search("neural networks", k=5, mode=mode, year=(2020, 2023))
        assert len(hits) == 5, mode
        assert all(2020 <= h.paper.year <= 2023 for h in hits), mode


def test_source_filter_returns_k_papers_from_that_file(bundled: Assistant) -> None:
    for mode in ("hybrid", "dense", "bm25"):
        hits = bundled.search("deep learning networks", k=10, mode=mode, sources=["002_4893c560d1485c8f.txt"])
        assert len(hits) == 10, mode
        assert all(any("002_4893c560d1485c8f.txt" in s for s in h.paper.sources) for h in hits), mode


def test_cli_search_with_filters(bundled_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(bundled_dir))
    result = runner.invoke(app, ["search", "deep learning", "--year", "2018-2018", "--mode", "bm25", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits and all(h["paper"]["date"].startswith("2018") for h in hits)
    result = runner.invoke(app, ["search", "deep learning", "--year", "soon"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_year_and_source_filters_combine(bundled: Assistant) -> None:
    for mode in ("hybrid", "dense"):
        hits = bundled.search("deep learning", k=5, mode=mode, year=(2020, 2021), sources=["002_4893c560d1485c8f.txt"])
        assert len(hits) == 5, mode
        assert all(2020 <= h.paper.year <= 2021 for h in hits), mode
        assert all(any("002_4893c560d1485c8f.txt" in s for s in h.paper.sources) for h in hits), mode
