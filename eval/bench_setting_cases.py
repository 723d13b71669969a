"""How often the whole sufficiency check tells an abstract sentence that states the asked fact for the asked setting
from one that states it for another (`rag/data/qa/setting_shift_cases.jsonl`, by helper-88 without reading the code:
sort A swaps a lower-case setting word for a sibling the abstract never covers, "mice" -> "guinea pigs"; B adds a
restriction it never mentions, "in pregnant women"; C rewords the setting, "mice" -> "murine model"; D states it
plainly in a user's wording. A and B do not state the fact, C and D do; odd rows are read as dev, even rows held out).

    python eval/bench_setting_cases.py [--data-dir DIR] [--out FILE.md]

Each case's sentence comes from a real abstract, of SciFact or of the arXiv export. The index holds those abstracts
with the SciFact subset of `scifact_indexed_ids.txt` and the arXiv one of `paraphrase_arxiv_ids.txt` around them
(built in `--data-dir` when it is empty, MiniLM), so that term statistics are an index's. A case is judged stated when
the assistant's check answers the question from that sentence, citing its whole abstract as stored, the question's
names written as the index writes them (`with_written_names`), with the rules verdict and the default settings.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

from bench_figure_cases import read_cases
from bench_scifact_answers import read_ids, write_subset

from rag import Assistant, Settings
from rag.answering import Answerer
from rag.names import with_written_names
from rag.query import analyze

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "rag" / "data" / "qa"
SCIFACT = ROOT.parent / "shared" / "benchmarks" / "scifact" / "corpus.jsonl"
ARXIV = ROOT.parent / "shared" / "corpora" / "arxiv-118k.jsonl.gz"


def source_ids(cases: list[dict]) -> tuple[list[str], list[str]]:
    """The SciFact and the arXiv ids the cases' sentences come from, with the subsets indexed around them."""
    scifact = [c["source"].split(":", 1)[1] for c in cases if c["source"].startswith("scifact:")]
    arxiv = ["arXiv:" + c["source"].split(":", 1)[1] for c in cases if c["source"].startswith("arxiv:")]
    scifact += read_ids(QA / "scifact_indexed_ids.txt")
    arxiv += read_ids(QA / "paraphrase_arxiv_ids.txt")
    return list(dict.fromkeys(scifact)), list(dict.fromkeys(arxiv))


def open_index(data_dir: Path, cases: list[dict], scifact: Path, arxiv: Path) -> Assistant:
    """The assistant over the cases' abstracts and the subsets around them (ingested when `data_dir` is empty)."""
    assistant = Assistant(Settings(data_dir=data_dir, verdict="rules"))
    if assistant.is_empty():
        scifact_ids, arxiv_ids = source_ids(cases)
        with tempfile.TemporaryDirectory() as tmp:
            files = [
                write_subset(scifact, scifact_ids, Path(tmp) / "scifact.jsonl"),
                write_subset(arxiv, arxiv_ids, Path(tmp) / "arxiv.jsonl"),
            ]
            report = assistant.ingest(files, progress=False)
        if report.errors:
            raise SystemExit(f"ingest errors: {report.errors[:3]}")
    return assistant


def judge(assistant: Assistant, checker: Answerer, case: dict) -> bool:
    """Whether the check answers the case's question from its sentence (its whole abstract cited)."""
    paper = assistant.paper(case["source"].split(":", 1)[1])
    if paper is None:
        raise SystemExit(f"{case['id']}: {case['source']} is not indexed; use an empty --data-dir")
    asked = with_written_names(analyze(case["question"]), [f"{paper.title}. {paper.abstract}"])
    return checker.sufficiency.check(asked, [case["sentence"]], [paper]).status == "answered"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=QA / "setting_shift_cases.jsonl")
    parser.add_argument("--data-dir", type=Path, help="the index (built here when empty; a temporary one if omitted)")
    parser.add_argument("--scifact", type=Path, default=SCIFACT, help="SciFact's BEIR corpus.jsonl")
    parser.add_argument("--arxiv", type=Path, default=ARXIV, help="the arXiv export (arxiv-118k.jsonl.gz)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cases = read_cases(args.cases)
    with tempfile.TemporaryDirectory() as tmp:
        assistant = open_index(args.data_dir or Path(tmp), cases, args.scifact, args.arxiv)
        checker = Answerer(assistant.settings, assistant.embedder, "extractive")
        counts: Counter = Counter()
        for case in cases:
            counts[(case["split"], case["sort"], judge(assistant, checker, case) == case["states"])] += 1
        assistant.close()
    lines = [
        f"Setting-shift cases (`{args.cases.name}`), whole check over an index of their abstracts: right / all",
        "",
        "| split | A: sibling setting (held back) | B: added restriction (held back) | C: reworded (answered) "
        "| D: plain (answered) |",
        "|---|---|---|---|---|",
    ]
    for split in ("dev", "test"):
        cells = [f"{counts[(split, s, True)]} / {counts[(split, s, True)] + counts[(split, s, False)]}" for s in "ABCD"]
        lines.append(f"| {split} | {' | '.join(cells)} |")
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
