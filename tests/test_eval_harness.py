"""The whole `rag eval` harness on a few questions, end to end with the offline default."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Settings
from rag.cli import app
from rag.errors import ConfigError
from rag.evaluation.runner import load_config, presets, run_eval

pytestmark = pytest.mark.slow


def test_presets_and_config_files(tmp_path: Path) -> None:
    assert {"bm25", "dense", "hybrid", "hybrid+mmr"} <= set(presets())
    assert load_config("bm25").overrides == {"search_mode": "bm25"}
    (tmp_path / "mine.toml").write_text('dense_weight = 0.5\nfusion = "rrf"\n')
    assert load_config(str(tmp_path / "mine.toml")).overrides == {"dense_weight": 0.5, "fusion": "rrf"}
    (tmp_path / "bad.toml").write_text("no_such_setting = 1\n")
    with pytest.raises(ConfigError, match="unknown settings"):
        load_config(str(tmp_path / "bad.toml"))


def test_eval_writes_the_four_outputs_with_numbers(bundled_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_dir, data)
    qa = tmp_path / "qa.jsonl"
    shipped = (Path(__file__).parents[1] / "rag" / "data" / "qa" / "bundled.jsonl").read_text().splitlines()
    qa.write_text("\n".join(shipped[:4] + shipped[-2:]) + "\n")  # 4 answerable, 2 unanswerable
    out, _results = run_eval(
        settings=Settings(data_dir=data), qa=qa, configs=["hybrid", "bm25"], out=tmp_path / "r", progress=False
    )
    assert {p.name for p in out.iterdir()} >= {
        "metrics.json",
        "report.md",
        "metrics.png",
        "latency.png",
        "predictions.jsonl",
    }
    metrics = json.loads((out / "metrics.json").read_text())
    for name in ("hybrid", "bm25"):
        r, a = metrics[name]["qa"]["retrieval"], metrics[name]["qa"]["answers"]
        for key in ("recall@5", "mrr@10", "ndcg@10"):
            assert isinstance(r[key], float) and 0 <= r[key] <= 1
        for key in (
            "citation_precision",
            "citation_recall",
            "citation_support_rate",
            "abstention_recall",
            "false_refusal_rate",
            "key_fact_accuracy",
        ):
            assert isinstance(a[key], float) and 0 <= a[key] <= 1
        assert a["faithfulness"] is None  # no judge configured: not measured
    assert metrics["hybrid"]["qa"]["retrieval"]["recall@5"] == 1.0
    assert metrics["hybrid"]["qa"]["answers"]["abstention_recall"] == 1.0
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 12 and {"answer", "cited", "retrieved", "why_failed"} <= json.loads(lines[0]).keys()
    report = (out / "report.md").read_text()
    assert "| hybrid |" in report and "| bm25 |" in report and "not measured" in report


def test_eval_is_deterministic_with_the_extractive_backend(bundled_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_dir, data)
    runs = [
        run_eval(settings=Settings(data_dir=data), limit=3, out=tmp_path / f"r{i}", progress=False)[1] for i in range(2)
    ]
    first, second = (r["default"]["qa"]["answers"] for r in runs)
    for key in ("key_fact_accuracy", "citation_precision", "citation_recall", "abstention_recall"):
        assert first[key] == second[key]


def test_cli_eval_with_a_limit(bundled_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_dir, data)
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    result = CliRunner().invoke(app, ["eval", "--limit", "2", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "R@5" in result.output and (tmp_path / "cli" / "report.md").exists()


def test_beir_format_retrieval_through_the_same_harness(tmp_path: Path) -> None:
    beir = Path(__file__).parent / "fixtures" / "beir-mini"
    out, results = run_eval(
        settings=Settings(data_dir=tmp_path / "data"),
        beir=beir,
        configs=["hybrid", "bm25"],
        out=tmp_path / "r",
        progress=False,
    )
    for name in ("hybrid", "bm25"):
        entry = results[name]["beir"]
        assert "qa" not in results[name]
        assert entry["queries"] == 3 and entry["recall@1"] == 1.0 and entry["ndcg@10"] == 1.0
    assert "BEIR: beir-mini" in (out / "report.md").read_text()
