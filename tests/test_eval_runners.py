"""The SciFact and follow-up benchmark runners (eval/bench_scifact_answers.py, eval/bench_followups.py) end to end on
a few items with the hash embedder: the index they build, the report's fields and that its figures are the ones the
prediction records give."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from rag import Assistant, Settings

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "eval" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAPERS = [
    (
        "101",
        "Methane in breath of colon cancer patients",
        "Breath methane was measured in 40 patients with large bowel "
        "cancer. Detectable methane was found in 80% of the patients with large bowel cancer, against 40% of controls.",
    ),
    (
        "102",
        "Lysosomal gene regulation in nematodes",
        "The transcription factor HLH-30 drives the expression of "
        "lysosomal and autophagy genes in C. elegans during starvation; mutants live shorter lives.",
    ),
    (
        "103",
        "Knee cartilage repair in athletes",
        "Autologous chondrocyte implantation restored knee cartilage in "
        "professional football players, most of whom returned to play within two seasons.",
    ),
    (
        "404",
        "Hydroxyethyl starch in cardiac surgery",
        "A meta-analysis of randomized trials found hydroxyethyl starch "
        "increased reoperation for bleeding compared with albumin in cardiopulmonary bypass surgery.",
    ),
]
SCIFACT_QA = [
    {
        "id": "a1",
        "question": "What share of patients with large bowel cancer had detectable methane in their breath?",
        "gold": ["101"],
        "must_include": ["80%"],
        "type": "factoid",
        "kind": "number",
        "split": "dev",
    },
    {
        "id": "a2",
        "question": "Which football club signed the goalkeeper in the winter transfer window?",
        "gold": ["103"],
        "must_include": ["club"],
        "type": "factoid",
        "kind": "name",
        "split": "test",
    },
    {
        "id": "n1",
        "question": "Which genes does HLH-30 regulate in zebrafish infected with Salmonella?",
        "gold": [],
        "type": "unanswerable",
        "kind": "near-miss",
        "about": "102",
        "split": "test",
    },
    {
        "id": "x1",
        "question": "In trials of hydroxyethyl starch versus albumin in cardiopulmonary bypass surgery, how "
        "did reoperation for bleeding differ?",
        "gold": [],
        "type": "unanswerable",
        "kind": "not-indexed",
        "about": "404",
        "split": "test",
    },
]


def _jsonl(path: Path, rows: list[dict], header: str = "") -> Path:
    path.write_text(header + "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_scifact_runner_indexes_exactly_the_listed_ids_and_reports_per_kind_and_split(tmp_path: Path) -> None:
    bench = _load("bench_scifact_answers")
    corpus = _jsonl(tmp_path / "corpus.jsonl", [{"_id": i, "title": t, "text": a} for i, t, a in PAPERS])
    (tmp_path / "ids.txt").write_text("# header\n101\n102\n103\n")
    ids = bench.read_ids(tmp_path / "ids.txt")
    assert ids == ["101", "102", "103"]
    qa = _jsonl(tmp_path / "qa.jsonl", SCIFACT_QA, "# header comments are skipped\n")
    settings = Settings(data_dir=tmp_path / "data", embed="hash")

    assistant = bench.open_index(settings, corpus, ids)
    try:
        # the SciFact _id is the paper id; the paper outside the list is not indexed
        assert {p.id: p.title for p in assistant.manifest.iter_papers()} == {i: t for i, t, _ in PAPERS[:3]}
        report, preds = bench.run(assistant, qa)
    finally:
        assistant.close()

    assert report["papers"] == 3 and set(report) >= {"all", "dev", "test"}
    assert [(p["id"], p["kind"], p["split"]) for p in preds] == [
        ("a1", "number", "dev"),
        ("a2", "name", "test"),
        ("n1", "near-miss", "test"),
        ("x1", "not-indexed", "test"),
    ]
    a, n, x = (report["all"][k] for k in ("answerable", "near_miss", "not_indexed"))
    assert (a["questions"], n["questions"], x["questions"]) == (2, 1, 1)
    assert report["dev"]["answerable"]["questions"] == 1 and report["test"]["answerable"]["questions"] == 1
    assert report["test"]["near_miss"]["questions"] == 1 and report["dev"]["not_indexed"]["questions"] == 0
    # the easy question is answered from its paper, the key fact quoted
    first = preds[0]
    assert first["gold"] == ["101"] and first["status"] == "answered", first
    assert "101" in {c["id"] for c in first["cited"]}
    # the off-topic one is held back: its gold paper is retrieved (3 papers, k=5) but not cited, so it counts
    # as a refusal and not as the right abstract cited
    second = preds[1]
    assert second["status"] != "answered" and "103" in {r["id"] for r in second["retrieved"]}, second
    assert "103" not in {c["id"] for c in second["cited"]}
    assert a["gold_cited_rate"] == 0.5 and a["refused_rate"] == 0.5 and a["key_fact_accuracy"] == 0.5
    assert report["dev"]["answerable"]["gold_cited_rate"] == 1.0 and report["test"]["answerable"]["refused_rate"] == 1
    # held back = abstained or partial, read from the records; the near-miss paper was among the retrieved
    assert n["held_back_rate"] == float(preds[2]["status"] != "answered")
    assert x["held_back_rate"] == float(preds[3]["status"] != "answered")
    assert n["about_retrieved_rate"] == 1.0
    assert set(report["all"]["by_kind"]) == {"number", "name", "near-miss", "not-indexed"}
    assert report["all"]["latency_s_p50"] > 0

    out = tmp_path / "out" / "answers_scifact.json"
    bench.write(report, preds, out, "python eval/bench_scifact_answers.py")
    assert json.loads(out.read_text())["all"]["answerable"]["gold_cited_rate"] == 0.5
    written = out.with_name("answers_scifact_predictions.jsonl").read_text()
    assert len(written.splitlines()) == 4
    # no corpus text in what is written (SciFact is CC BY-NC): neither the quoted answer nor a title
    assert "Detectable methane" not in written and "Methane in breath" not in written
    assert json.loads(written.splitlines()[0])["cited"] == [{"number": 1, "id": "101"}]
    bench.write(report, preds, out, "python eval/bench_scifact_answers.py", keep_text=True)
    assert "Detectable methane" in out.with_name("answers_scifact_predictions.jsonl").read_text()
    assert "| all | 2 | 0.500 | 0.500 (0 partial) | 0.500 |" in out.with_suffix(".md").read_text()


def test_scifact_runner_refuses_an_index_that_is_not_the_listed_subset(tmp_path: Path) -> None:
    bench = _load("bench_scifact_answers")
    corpus = _jsonl(tmp_path / "corpus.jsonl", [{"_id": i, "title": t, "text": a} for i, t, a in PAPERS])
    settings = Settings(data_dir=tmp_path / "data", embed="hash")
    bench.open_index(settings, corpus, ["101", "102"]).close()
    with pytest.raises(SystemExit, match=r"holds 2 papers, not the 3 SciFact ids \(1 missing, 0 extra\)"):
        bench.open_index(settings, corpus, ["101", "102", "103"])
    with pytest.raises(SystemExit, match="indexed ids not in the corpus"):
        bench.write_subset(corpus, ["101", "999"], tmp_path / "subset.jsonl")


def test_followups_runner_asks_with_history_and_reports_dependent_and_independent_turns(
    hash_bundled_dir: Path, tmp_path: Path
) -> None:
    bench = _load("bench_followups")
    rows = {r["id"]: r for r in (json.loads(line) for line in bench.QA.read_text().splitlines() if line[:1] == "{")}
    picked = [rows[i] for i in ("fu-001", "fu-002", "fu-011", "fu-034")]  # dependent; independent; 2 with no gold
    kinds = [(r["dependent"], bool(r["gold"])) for r in picked]
    assert kinds == [(True, True), (False, True), (False, False), (False, False)]
    qa = _jsonl(tmp_path / "followups.jsonl", picked)

    assistant = Assistant(Settings(data_dir=hash_bundled_dir, embed="hash"))
    try:
        report, preds = bench.run(assistant, qa)
        titles = {p.id: p.title for p in assistant.manifest.iter_papers()}
    finally:
        assistant.close()

    assert [p["id"] for p in preds] == ["fu-001", "fu-002", "fu-011", "fu-034"]
    assert [p["dependent"] for p in preds] == [True, False, False, False]
    assert [titles[g] for p in preds for g in p["gold"]] == [picked[0]["gold"][0], picked[1]["gold"][0]]
    # the dependent turn was asked with its history: rewritten from the earlier turn before retrieval, VMFormer cited
    dep = preds[0]
    assert dep["rewritten"] and "video matting" in dep["standalone_question"], dep["standalone_question"]
    assert dep["gold"][0] in {c["id"] for c in dep["cited"]}
    d, i = report["all"]["dependent"], report["all"]["independent"]
    assert (d["questions"], i["questions"], i["unanswerable"]) == (1, 3, 2)
    assert d["right_paper_rate"] == 1.0 and d["rewritten_rate"] == 1.0 and d["gold_retrieved_rate"] == 1.0
    # independent turns: right paper = gold cited, or held back when there is no gold paper
    expected = [preds[1]["gold"][0] in {c["id"] for c in preds[1]["cited"]}]
    expected += [p["status"] != "answered" for p in preds[2:]]
    assert all(expected[2:])  # both no-gold turns are held back (they were answered before follow-ups were decided)
    assert i["right_paper_rate"] == sum(expected) / 3
    assert i["not_rewritten_rate"] == sum(not p["rewritten"] for p in preds[1:]) / 3
    for p in preds[1:]:
        assert p["rewritten"] == (p["standalone_question"] not in (None, p["question"]))
    assert report["dev"]["questions"] == 2 and report["test"]["questions"] == 2

    out = tmp_path / "out" / "followups.json"
    bench.write(report, preds, out, "python eval/bench_followups.py")
    assert json.loads(out.read_text())["all"]["dependent"]["right_paper_rate"] == 1.0
    written = [json.loads(line) for line in out.with_name("followups_predictions.jsonl").read_text().splitlines()]
    assert [p["history"] for p in written] == [r["history"] for r in picked]
    assert "| all | 1 | 1.000 | 1.000 | 1.000 |" in out.with_suffix(".md").read_text()


def test_scifact_runner_reads_a_gzipped_corpus_like_a_plain_one(tmp_path: Path) -> None:
    import gzip

    bench = _load("bench_scifact_answers")
    rows = [{"_id": i, "title": t, "text": a} for i, t, a in PAPERS]
    plain = _jsonl(tmp_path / "corpus.jsonl", rows)
    packed = tmp_path / "corpus.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    ids = ["103", "101"]
    from_plain = bench.write_subset(plain, ids, tmp_path / "a" / "subset.jsonl").read_text()
    from_gzip = bench.write_subset(packed, ids, tmp_path / "b" / "subset.jsonl").read_text()
    assert from_gzip == from_plain
    assert [json.loads(line)["id"] for line in from_gzip.splitlines()] == ids


def test_the_verdict_refit_reads_bench_predictions_and_judges_each_dev_set_by_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.verdict import FEATURES, VerdictModel

    cv = _load("calibrate_verdict")
    signals = dict.fromkeys(FEATURES, 0.0)
    red, physics = tmp_path / "redteam.jsonl", tmp_path / "physics.jsonl"
    red.write_text(
        "".join(
            json.dumps({"id": i, "answerable": a, "status": s, "signals": signals}) + "\n"
            for i, a, s in [("rt2-001", True, "answered"), ("rt2-002", False, "partial"), ("rt3-001", True, "answered")]
        )
    )
    physics.write_text(json.dumps({"id": "ph-001-imperative", "answerable": True, "status": "partial"}) + "\n")
    rows = cv.from_predictions([f"redteam={red}", f"paraphrase_physics={physics}"], {"paraphrase_physics"})
    assert [(r["split"], r["fit"]) for r in rows] == [("rt2", True), ("rt2", True), ("rt3", False), ("test", False)]
    assert rows[3]["signals"] is None and rows[3]["rules"] == "partial"  # decided before the judge: no signals
    # each dev set judged by a model fitted on the others: here one that holds everything back
    refusing = VerdictModel(
        tuple(0.0 for _ in FEATURES), tuple(1.0 for _ in FEATURES), tuple(0.0 for _ in FEATURES), 0.0, 0.9
    )
    fitted: list[set[str]] = []
    monkeypatch.setattr(cv, "fit", lambda dev: fitted.append({r["id"] for r in dev}) or refusing)
    dev = [r | {"set": s} for r, s in zip(rows[:2], ["a", "b"], strict=True)]
    table = "\n".join(cv.leave_one_set_out(dev))
    assert fitted == [{"rt2-002"}, {"rt2-001"}]  # set "a" judged by a fit on "b", and the reverse
    assert "| rules | 0/1 = 0.000 | 1/1 = 1.000 |" in table and "| model | 1/1 = 1.000 | 1/1 = 1.000 |" in table
