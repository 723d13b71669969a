"""The whole `rag eval` harness on a few questions, end to end with the offline default; its retrieval metrics
against ir-measures on the same run; the LLM judge against a real OpenAI-compatible server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Settings
from rag.cli import app
from rag.errors import ConfigError
from rag.evaluation.answers import aggregate, key_fact_score
from rag.evaluation.datasets import load_beir
from rag.evaluation.judge import Judge, parse_verdict
from rag.evaluation.metrics import mean, mrr_at_k, ndcg_at_k
from rag.evaluation.runner import load_config, presets, run_eval
from rag.verdict import FEATURES


def test_presets_and_config_files(tmp_path: Path) -> None:
    assert {"bm25", "dense", "hybrid", "hybrid+mmr"} <= set(presets())
    assert load_config("bm25").overrides == {"search_mode": "bm25"}
    (tmp_path / "mine.toml").write_text('dense_weight = 0.5\nfusion = "rrf"\n')
    assert load_config(str(tmp_path / "mine.toml")).overrides == {"dense_weight": 0.5, "fusion": "rrf"}
    (tmp_path / "bad.toml").write_text("no_such_setting = 1\n")
    with pytest.raises(ConfigError, match="unknown settings"):
        load_config(str(tmp_path / "bad.toml"))


@pytest.mark.slow
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
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 12 and {"answer", "cited", "retrieved", "why_failed"} <= preds[0].keys()
    for name in ("hybrid", "bm25"):
        r, a = metrics[name]["qa"]["retrieval"], metrics[name]["qa"]["answers"]
        mine = {p["id"]: p for p in preds if p["config"] == name}
        answerable = [p for p in mine.values() if p["answerable"]]
        # the headline figures are the means of the per-question records ...
        assert r["mrr@10"] == pytest.approx(
            mean([mrr_at_k(p["retrieval_ranking"], set(p["gold"])) for p in answerable])
        )
        assert r["ndcg@10"] == pytest.approx(
            mean([ndcg_at_k(p["retrieval_ranking"], set(p["gold"])) for p in answerable])
        )
        recomputed = aggregate(list(mine.values()))
        for key in ("citation_precision", "citation_recall", "key_fact_accuracy", "false_refusal_rate"):
            assert a[key] == pytest.approx(recomputed[key]), (name, key)
        # ... and the records are right about the answers
        for p in answerable:
            cited = {c["id"] for c in p["cited"]}
            assert p["citation_recall"] == len(cited & set(p["gold"])) / len(p["gold"])
            assert p["key_facts"] == key_fact_score(p["answer"], p["must_include"])
        assert any(p["key_facts"] == 1.0 for p in answerable)  # not all zeros
        judged = [p for p in answerable if p["signals"]]  # the verdict's inputs, to refit it from the predictions
        assert judged and all(set(FEATURES) <= p["signals"].keys() for p in judged)
        assert mine["b81"]["abstained"] and mine["b82"]["abstained"] and a["abstention_recall"] == 1.0
        assert a["faithfulness"] is None and a["judge"].startswith("not measured")  # no judge configured
    assert metrics["hybrid"]["qa"]["retrieval"]["recall@5"] == 1.0
    assert metrics["hybrid"]["qa"]["answers"]["citation_recall"] == 1.0  # every gold paper cited
    report = (out / "report.md").read_text()
    assert "| hybrid |" in report and "| bm25 |" in report and "not measured" in report


@pytest.mark.slow
def test_eval_is_deterministic_with_the_extractive_backend(bundled_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_dir, data)
    runs = [
        run_eval(settings=Settings(data_dir=data), limit=3, out=tmp_path / f"r{i}", progress=False)[1] for i in range(2)
    ]
    first, second = (r["default"]["qa"]["answers"] for r in runs)
    for key in ("key_fact_accuracy", "citation_precision", "citation_recall", "abstention_recall"):
        assert first[key] == second[key]
    assert first["key_fact_accuracy"] > 0 and first["citation_recall"] > 0  # equal, and not equally empty


@pytest.mark.slow
def test_cli_eval_with_a_limit(bundled_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_dir, data)
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    result = CliRunner().invoke(app, ["eval", "--limit", "2", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "cli" / "metrics.json").read_text())["default"]["qa"]
    assert f"R@5 {metrics['retrieval']['recall@5']:.3f}" in result.output  # the printed figures are the written ones
    assert f"key facts {metrics['answers']['key_fact_accuracy']:.3f}" in result.output
    assert metrics["answers"]["questions"] == 2 and (tmp_path / "cli" / "report.md").exists()
    assert metrics["answers"]["unanswerable"] == 0  # the first two questions: no abstention figure to give
    assert "abstain n/a (no unanswerable question in the sample)" in result.output


@pytest.mark.slow
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


MINI = Path(__file__).parent / "fixtures" / "beir-mini"


def graded_beir(folder: Path) -> Path:
    """The mini BEIR corpus with queries whose graded judgements the ranking cannot all satisfy."""
    (folder / "qrels").mkdir(parents=True)
    shutil.copy(MINI / "corpus.jsonl", folder / "corpus.jsonl")
    queries = {
        "q1": "white matter development in newborn brains",
        "q2": "counting bees carrying pollen with a camera",
        "q3": "myelodysplastic syndrome and suppressor cells",
        "q4": "graph networks forecasting glacier melt",
        "q5": "camera vision on microcontrollers for weather stations",
    }
    qrels = [("q1", "4983", 2), ("q1", "5836", 1), ("q2", "7002", 1), ("q2", "7001", 2), ("q3", "4983", 1)]
    qrels += [("q3", "5836", 3), ("q4", "7002", 2), ("q5", "7001", 1), ("q5", "4983", 3), ("q5", "7002", 0)]
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items()))
    rows = "".join(f"{q}\t{d}\t{g}\n" for q, d, g in qrels)
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows)
    return folder


def test_retrieval_metrics_equal_ir_measures_on_the_same_run_file(tmp_path: Path) -> None:
    import ir_measures
    from ir_measures import RR, R, nDCG

    beir = graded_beir(tmp_path / "graded")
    out, results = run_eval(
        settings=Settings(data_dir=tmp_path / "data", embed="hash"),
        beir=beir,
        configs=["hybrid", "bm25"],
        out=tmp_path / "r",
        progress=False,
    )
    judged = load_beir(beir, "test").qrels
    qrels = [ir_measures.Qrel(q, d, int(g)) for q, docs in judged.items() for d, g in docs.items()]
    for name in ("hybrid", "bm25"):
        ours = results[name]["beir"]
        run = list(ir_measures.read_trec_run(str(out / f"run-{name}.trec")))
        assert {r.query_id for r in run} == {"q1", "q2", "q3", "q4", "q5"}
        ref = ir_measures.calc_aggregate([nDCG @ 10, RR @ 10, R @ 1, R @ 5, R @ 10, R @ 100], qrels, run)
        pairs = [("ndcg@10", nDCG @ 10), ("mrr@10", RR @ 10), ("recall@1", R @ 1), ("recall@5", R @ 5)]
        for key, measure in [*pairs, ("recall@10", R @ 10), ("recall@100", R @ 100)]:
            assert round(ours[key], 4) == round(ref[measure], 4), (name, key)
        assert all(0 < ours[key] < 1 for key in ("ndcg@10", "mrr@10", "recall@1")), ours  # not trivially 0 or 1


@pytest.mark.slow
def test_eval_with_a_real_judge_writes_numeric_scores_and_its_verdicts(
    bundled_dir: Path, tmp_path: Path, llama_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    shutil.copytree(bundled_dir, data)
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    monkeypatch.setenv("RAG_JUDGE_MODEL", "smollm2")
    monkeypatch.setenv("RAG_JUDGE_BASE_URL", llama_server_url)
    result = CliRunner().invoke(app, ["eval", "--limit", "5", "--out", str(tmp_path / "judged")])
    assert result.exit_code == 0, result.output
    answers = json.loads((tmp_path / "judged" / "metrics.json").read_text())["default"]["qa"]["answers"]
    preds = [json.loads(line) for line in (tmp_path / "judged" / "predictions.jsonl").read_text().splitlines()]
    assert answers["judge"] == "smollm2"
    assert isinstance(answers["faithfulness"], float) and isinstance(answers["answer_correctness"], float)
    verdicts = [v for p in preds for v in p["judge_verdicts"]]
    replies = [v for v in verdicts if v["raw"] is not None]
    assert len([v for v in replies if v["kind"] == "correctness"]) == 5  # one per answerable question
    for v in replies:  # every raw reply kept, and scored exactly as the parser reads it
        assert v["score"] == parse_verdict(v["raw"]) and v["parsed"] == (v["score"] is not None)
    assert answers["judge_replies"] == len(replies)
    assert answers["judge_unparsed"] == sum(not v["parsed"] for v in verdicts)
    for p in preds:  # an answer's faithfulness is the mean of its parsed claim verdicts
        claims = [v["score"] for v in p["judge_verdicts"] if v["kind"] == "faithfulness" and v["parsed"]]
        assert p["faithfulness"] == (pytest.approx(mean(claims)) if claims else None)
    faithful = [p["faithfulness"] for p in preds if p["faithfulness"] is not None]
    assert answers["faithfulness"] == pytest.approx(mean(faithful))
    assert "judge replies (unparsed)" in (tmp_path / "judged" / "report.md").read_text()
    # a reply that is no verdict is kept and recorded as unparsed, never guessed
    judge = Judge(Settings(judge_model="smollm2", judge_base_url=llama_server_url))
    haiku = judge.verdict("faithfulness", [{"role": "user", "content": "Write a short poem about the sea."}])
    assert haiku.raw and haiku.score is None and not haiku.parsed
