"""Which-paper and which-study questions worded with reporting verbs in every form, through the public API
(`rag/data/qa/verb_cases.jsonl`, by helper-91 without reading the code; every row held out): answerable ones
should be answered citing their paper, near misses held back (abstained or partial).

    python eval/bench_verb_cases.py [--cases FILE] [--bundled-dir DIR] [--scifact-dir DIR] [--out FILE.md]

`--cases` runs another file of the same form (`which_paper_dev.jsonl`, `proper_word_cases.jsonl`): a row's corpus
and `sort` name its column, its `answerable` whether it wants the gold paper cited or the answer held back.

Bundled questions run over the bundled corpus, SciFact ones over the SciFact subset of `scifact_indexed_ids.txt`
(each index built, MiniLM, in its directory when that is empty; a temporary one when omitted), default settings
and the extractive answerer.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

from bench_figure_cases import read_cases
from bench_scifact_answers import read_ids, write_subset

from rag import Assistant, Settings
from rag.types import Answer

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "rag" / "data" / "qa"
SCIFACT = ROOT.parent / "shared" / "benchmarks" / "scifact" / "corpus.jsonl"


def open_index(data_dir: Path, corpus: str, scifact: Path) -> Assistant:
    """The assistant over `corpus` ("bundled" or "scifact"), ingested when `data_dir` is empty."""
    assistant = Assistant(Settings(data_dir=data_dir))
    if assistant.is_empty():
        with tempfile.TemporaryDirectory() as tmp:
            ids = read_ids(QA / "scifact_indexed_ids.txt")
            files = [write_subset(scifact, ids, Path(tmp) / "s.jsonl")] if corpus == "scifact" else None
            report = assistant.ingest(files, progress=False)  # None: the bundled corpus
        if report.errors:
            raise SystemExit(f"ingest errors: {report.errors[:3]}")
    return assistant


def gold_cited(answer: Answer, gold: str) -> bool:
    """Whether the answer cites the gold paper (a bundled title, or a SciFact id however the index prefixes it)."""
    return any(c.paper.title == gold or c.paper.id == gold or c.paper.id.endswith(f":{gold}") for c in answer.citations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=QA / "verb_cases.jsonl")
    parser.add_argument("--bundled-dir", type=Path, help="the bundled index (built here when empty)")
    parser.add_argument("--scifact-dir", type=Path, help="the SciFact subset's index (built here when empty)")
    parser.add_argument("--scifact", type=Path, default=SCIFACT, help="SciFact's BEIR corpus.jsonl")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cases = read_cases(args.cases)
    for case in cases:  # "answerable" -> "bundled-answerable"
        case["sort"] = case["sort"] if case["sort"].startswith(case["corpus"]) else f"{case['corpus']}-{case['sort']}"
    sorts = sorted(dict.fromkeys(c["sort"] for c in cases))
    counts: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {"bundled": args.bundled_dir or Path(tmp, "b"), "scifact": args.scifact_dir or Path(tmp, "s")}
        for corpus, data_dir in dirs.items():
            assistant = open_index(data_dir, corpus, args.scifact)
            try:
                for case in (c for c in cases if c["corpus"] == corpus):
                    answer = assistant.ask(case["question"])
                    answered = answer.status == "answered"
                    right = answered and gold_cited(answer, case["gold"]) if case["answerable"] else not answered
                    counts[(case["sort"], right)] += 1
            finally:
                assistant.close()
    lines = [
        f"Which-paper cases (`{args.cases.name}`), through `Assistant.ask`: right / all (answerable: answered citing "
        "the gold paper; near miss: abstained or partial)",
        "",
        "| " + " | ".join(sorts) + " |",
        "|" + "---|" * len(sorts),
        "| " + " | ".join(f"{counts[(s, True)]} / {counts[(s, True)] + counts[(s, False)]}" for s in sorts) + " |",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
