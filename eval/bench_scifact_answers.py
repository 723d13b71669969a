"""Answer benchmark on the unseen SciFact QA set, over the ~900 SciFact abstracts it was written against (issue 18).

    python eval/bench_scifact_answers.py [--beir ../shared/benchmarks/scifact] [--data-dir DIR] [--backend extractive]
                                         [--split dev|test|all] [--limit N] [--out eval/results/answers_scifact.json]
    python eval/bench_scifact_answers.py --corpus ../shared/corpora/arxiv-118k.jsonl.gz \
        --qa rag/data/qa/arxiv_field.jsonl --ids rag/data/qa/arxiv_field_ids.txt \
        --out eval/results/answers_arxiv_field.json

`--corpus` names any corpus of BEIR-style records (`_id`, `title`, `text`; JSONL, gzipped or not) instead of SciFact's.

The index holds exactly the papers of `rag/data/qa/scifact_indexed_ids.txt`, taken from the BEIR `corpus.jsonl`
(written to a temporary JSONL of id/title/abstract and ingested with `Assistant.ingest`, default embedder);
`--data-dir` reuses that index (built there when empty, checked to hold exactly those ids when not). Every question
is asked through `Assistant.ask` with the chosen backend (default extractive). Reported per split (dev, test, all):

- answerable (kinds number/name/list): the gold abstract cited (gold id among the cited papers), refused (abstained
  or partial) rate, key facts (`must_include`), citation precision;
- near-miss (the paper is indexed but lacks the asked fact): held back (abstained or partial), and how often the
  paper it is about was retrieved (the trap was actually laid);
- not-indexed (the paper stating the fact is not indexed): held back;
- p50 / p95 latency per question (one process, model loaded).

Predictions go beside the JSON (`*_predictions.jsonl`; SciFact's text, i.e. answers and titles, left out unless
`--keep-text`: the corpus is CC BY-NC and not copied into the project), a table to the `.md`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rag import Assistant, Settings
from rag.corpus.records import arxiv_id
from rag.evaluation.answers import aggregate, evaluate_answers, refused
from rag.evaluation.datasets import load_qa
from rag.evaluation.metrics import mean, percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval"))
from bench_answers import by_kind, qa_meta, select  # noqa: E402

QA = ROOT / "rag" / "data" / "qa" / "scifact.jsonl"
IDS = ROOT / "rag" / "data" / "qa" / "scifact_indexed_ids.txt"
BEIR = ROOT.parent / "shared" / "benchmarks" / "scifact"
ANSWERABLE_KINDS = ("number", "name", "list")


def read_ids(path: Path) -> list[str]:
    """The indexed SciFact ids, one a line (blank lines and `#` comments skipped)."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def write_subset(corpus: Path, ids: list[str], dest: Path) -> Path:
    """Write the papers of `ids` from a BEIR `corpus.jsonl` (or `.jsonl.gz`) to `dest` as id/title/abstract JSONL
    (ids' order)."""
    wanted = set(ids)
    found: dict[str, dict[str, str]] = {}
    opener = gzip.open if corpus.suffix == ".gz" else open
    with opener(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                obj = json.loads(line)
                if obj["_id"] in wanted:
                    found[obj["_id"]] = {"id": obj["_id"], "title": obj.get("title", ""), "abstract": obj["text"]}
    missing = [i for i in ids if i not in found]
    if missing:
        raise SystemExit(f"{corpus}: {len(missing)} indexed ids not in the corpus (first: {missing[0]})")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(found[i]) + "\n" for i in ids), encoding="utf-8")
    return dest


def open_index(settings: Settings, corpus: Path, ids: list[str]) -> Assistant:
    """An Assistant over exactly the papers of `ids`: ingested when the data dir is empty, checked when not."""
    assistant = Assistant(settings)
    if assistant.is_empty():
        if not corpus.exists():
            raise SystemExit(f"{corpus}: not found (pass --beir with SciFact's BEIR folder)")
        with tempfile.TemporaryDirectory() as tmp:
            subset = write_subset(corpus, ids, Path(tmp) / "scifact_subset.jsonl")
            report = assistant.ingest([subset], progress=sys.stderr.isatty())
        if report.errors:
            raise SystemExit(f"{corpus}: ingest errors: {report.errors[:3]}")
    indexed = {p.id for p in assistant.manifest.iter_papers()}
    ids = [arxiv_id(i) or i for i in ids]  # the loader indexes "arXiv:2506.02113" as 2506.02113
    if indexed != set(ids):
        raise SystemExit(
            f"{settings.data_dir}: the index holds {len(indexed)} papers, not the {len(set(ids))} SciFact ids "
            f"({len(set(ids) - indexed)} missing, {len(indexed - set(ids))} extra); use an empty --data-dir"
        )
    return assistant


def _bare(paper_id: str | None) -> str | None:
    """An id as the index holds it ("arXiv:2506.02113" is indexed as 2506.02113)."""
    return arxiv_id(paper_id) or paper_id


def _rate(values: list[bool]) -> float | None:
    return mean([float(v) for v in values]) if values else None


def summarize(predictions: list[dict[str, Any]], meta: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The headline figures of one group of predictions (a split, or all)."""
    kind = {p["id"]: meta[p["id"]].get("kind", p["type"]) for p in predictions}
    answerable = [p for p in predictions if p["answerable"]]
    near = [p for p in predictions if kind[p["id"]] == "near-miss"]
    absent = [p for p in predictions if kind[p["id"]] == "not-indexed"]
    base = aggregate(predictions)
    return {
        "questions": len(predictions),
        "answerable": {
            "questions": len(answerable),
            "gold_cited_rate": _rate([bool({c["id"] for c in p["cited"]} & set(p["gold"])) for p in answerable]),
            "refused_rate": _rate([refused(p) for p in answerable]),
            "partial": sum(p["status"] == "partial" for p in answerable),
            "abstained": sum(p["status"] == "abstained" for p in answerable),
            "key_fact_accuracy": base["key_fact_accuracy"] if answerable else None,
            "all_key_facts_rate": base["all_key_facts_rate"] if answerable else None,
            "citation_precision": base["citation_precision"] if answerable else None,
        },
        "near_miss": {
            "questions": len(near),
            "held_back_rate": _rate([refused(p) for p in near]),
            "partial": sum(p["status"] == "partial" for p in near),
            "about_retrieved_rate": _rate(
                [_bare(meta[p["id"]].get("about")) in {r["id"] for r in p["retrieved"]} for p in near]
            ),
        },
        "not_indexed": {
            "questions": len(absent),
            "held_back_rate": _rate([refused(p) for p in absent]),
            "partial": sum(p["status"] == "partial" for p in absent),
        },
        "latency_s_p50": percentile([p["seconds"] for p in predictions], 50),
        "latency_s_p95": percentile([p["seconds"] for p in predictions], 95),
        "by_kind": by_kind(predictions, meta),
    }


def run(
    assistant: Assistant,
    qa: Path = QA,
    *,
    backend: str = "extractive",
    split: str = "all",
    limit: int | None = None,
    progress: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ask every selected question; return the report (per split and overall) and the prediction records."""
    meta = qa_meta(qa)
    items = select(load_qa(qa), meta, split)[:limit]
    _, predictions = evaluate_answers(assistant, items, backend, progress=progress)
    indexed = {p.id for p in assistant.manifest.iter_papers()}
    for p in predictions:
        m = meta[p["id"]]
        p["kind"], p["split"] = m.get("kind", p["type"]), m.get("split", "all")
        if p["gold_missing"]:
            raise SystemExit(f"{qa}: question {p['id']}: gold not indexed: {p['gold_missing']}")
        if p["kind"] == "not-indexed" and (arxiv_id(m.get("about")) or m.get("about")) in indexed:
            raise SystemExit(f"{qa}: question {p['id']}: its paper {m['about']} is indexed")
    report: dict[str, Any] = {"backend": backend, "qa": qa.name, "split": split, "papers": len(indexed)}
    report["all"] = summarize(predictions, meta)
    for name in sorted({p["split"] for p in predictions} - {"all"}):
        report[name] = summarize([p for p in predictions if p["split"] == name], meta)
    return report, predictions


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def markdown(report: dict[str, Any], command: str) -> str:
    """The report as a table, one row per split."""
    groups = [g for g in ("dev", "test", "all") if g in report]
    lines = [
        f"Answer benchmark (unseen set `{report['qa']}`, backend `{report['backend']}`) over "
        f"{report['papers']} indexed abstracts; `{command}`.",
        "Held back / refused count `abstained` and `partial` answers. Gold cited: the gold paper's id among the "
        "cited papers. About retrieved: the near-miss question's paper among the retrieved sources.",
        "",
        "| split | answerable | gold cited | refused | key facts | citation precision | near-miss | held back "
        "| about retrieved | not-indexed | held back | latency p50 |",
        "|---" * 12 + "|",
    ]
    for g in groups:
        r = report[g]
        a, n, x = r["answerable"], r["near_miss"], r["not_indexed"]
        lines.append(
            f"| {g} | {a['questions']} | {_cell(a['gold_cited_rate'])} | {_cell(a['refused_rate'])} "
            f"({a['partial']} partial) | {_cell(a['key_fact_accuracy'])} | {_cell(a['citation_precision'])} "
            f"| {n['questions']} | {_cell(n['held_back_rate'])} ({n['partial']} partial) "
            f"| {_cell(n['about_retrieved_rate'])} | {x['questions']} | {_cell(x['held_back_rate'])} "
            f"({x['partial']} partial) | {r['latency_s_p50']:.2f} s |"
        )
    lines += ["", "Refusal rate (abstained or partial) per kind, all splits:", ""]
    lines += ["| kind | questions | refusal rate |", "|---|---|---|"]
    for kind, k in sorted(report["all"]["by_kind"].items()):
        lines.append(f"| {kind} | {k['questions']} | {k['refusal_rate']:.3f} |")
    return "\n".join(lines) + "\n"


def without_corpus_text(p: dict[str, Any]) -> dict[str, Any]:
    """A prediction record without SciFact's text (CC BY-NC, not to be copied into the project): the answer (it
    quotes the abstracts) and the papers' titles go; ids, statuses, scores and the answer's length stay."""
    return {
        **p,
        "answer": None,
        "answer_chars": len(p["answer"]),
        "cited": [{k: v for k, v in c.items() if k != "title"} for c in p["cited"]],
        "retrieved": [{k: v for k, v in r.items() if k != "title"} for r in p["retrieved"]],
    }


def write(
    report: dict[str, Any], predictions: list[dict[str, Any]], out: Path, command: str, keep_text: bool = False
) -> None:
    """`out` (JSON), the predictions beside it (without corpus text unless `keep_text`) and the markdown table."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    with out.with_name(out.stem + "_predictions.jsonl").open("w") as fh:
        for p in predictions:
            fh.write(json.dumps(p if keep_text else without_corpus_text(p)) + "\n")
    out.with_suffix(".md").write_text(markdown(report, command))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", type=Path, default=QA)
    ap.add_argument("--ids", type=Path, default=IDS, help="the SciFact ids to index, one a line")
    ap.add_argument("--beir", type=Path, default=BEIR, help="folder holding SciFact's BEIR corpus.jsonl")
    ap.add_argument("--corpus", type=Path, default=None, help="a BEIR-style JSONL(.gz) corpus instead of --beir's")
    ap.add_argument("--data-dir", type=Path, default=None, help="reuse (or build) the SciFact-subset index here")
    ap.add_argument("--backend", default="extractive")
    ap.add_argument("--split", default="all", help="dev, test or all")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "answers_scifact.json")
    ap.add_argument(
        "--keep-text", action="store_true", help="keep answers and titles in the predictions (not for committing)"
    )
    args = ap.parse_args()
    corpus = args.corpus or args.beir / "corpus.jsonl"
    command = "python eval/bench_scifact_answers.py" + (
        "" if args.backend == "extractive" else f" --backend {args.backend}"
    )
    command += "" if args.split == "all" else f" --split {args.split}"
    if args.corpus:  # another corpus: say which, and which set and ids
        command += f" --corpus {args.corpus.name} --qa {args.qa.name} --ids {args.ids.name}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=args.data_dir or Path(tmp))
        assistant = open_index(settings, corpus, read_ids(args.ids))
        report, predictions = run(
            assistant, args.qa, backend=args.backend, split=args.split, limit=args.limit, progress=sys.stderr.isatty()
        )
        report["embed"] = settings.embed
        assistant.close()
    write(report, predictions, args.out, command, keep_text=args.keep_text)
    print(markdown(report, command))


if __name__ == "__main__":
    main()
