"""How often the sufficiency check is right about whether one abstract sentence states the figure a question asks
for (`rag/data/qa/figure_cases.jsonl`, never tuned on; `figure_cases_tuned.jsonl`, an attack the checks were mended
on; `maker_cases.jsonl` and `maker_cases_fresh.jsonl`, which-questions asking for a maker or a product by name,
written by helper-68 and helper-71 without reading the code, odd rows read as dev; `resource_cases.jsonl`, costs in a
resource by helper-73, all held out; `count_cases.jsonl`, "how many" questions by helper-75, odd rows read;
`count_cases_attack.jsonl` and `count_cases_attack2.jsonl`, helper-76's and helper-77's attacks on a count rule, all
read; `which_bio_cases.jsonl`, biomedical which-questions by helper-79, odd rows read; `which_tool_cases.jsonl`,
which-questions asking for an algorithm, a tool, an encoder and the like by helper-80, odd rows read;
`which_tool_attack.jsonl`, helper-81's attack on that rule, all read; `figure_share_cases.jsonl`, figures of a measure
sharing a word with the asked one, by helper-83, odd rows read; `greek_name_cases.jsonl`, names holding a Greek
letter, signed or spelled, by helper-84, odd rows read; `greek_name_attack.jsonl`, helper-85's and helper-87's
attacks on that rule, all read). A case is
judged "stated" unless the check finds no figure of the asked measure (its `quantity_missing` signal; a question it
does not type as asking a figure is never checked for one), or, for a case whose `check` is "name", no name of the
asked thing (`kind_unnamed`), or, for "names", some name of the question missing from the sentence (`names_missing`).

    python eval/bench_figure_cases.py [--cases FILE ...] [--out FILE.md] [--data-dir DIR]

With `--data-dir` a case is judged stated when the whole check (its rules, over that index's term statistics and
with MiniLM word matching) answers: names no abstract of the index holds, and words the sentence does not cover,
count too.

Run it with another tree first on PYTHONPATH to compare code versions side by side.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from rag.answering import Answerer
from rag.config import Settings
from rag.index.embedders import make_embedder
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper

QA = Path(__file__).resolve().parent.parent / "rag" / "data" / "qa"
DEFAULT = [
    QA / "figure_cases.jsonl",
    QA / "figure_cases_tuned.jsonl",
    QA / "maker_cases.jsonl",
    QA / "maker_cases_fresh.jsonl",
    QA / "resource_cases.jsonl",
    QA / "count_cases.jsonl",
    QA / "count_cases_attack.jsonl",
    QA / "count_cases_attack2.jsonl",
    QA / "which_bio_cases.jsonl",
    QA / "which_tool_cases.jsonl",
    QA / "which_tool_attack.jsonl",
    QA / "figure_share_cases.jsonl",
    QA / "greek_name_cases.jsonl",
    QA / "greek_name_attack.jsonl",
]


def read_cases(path: Path) -> list[dict]:
    """The cases of a file, comment lines left out."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def states(checker: SufficiencyChecker, question: str, sentence: str, check: str = "figure") -> bool:
    """Whether the check finds, in `sentence`, the figure `question` asks for (or, for a `check` of "name", the
    named thing of the kind it asks for: `kind_unnamed`; for "names", every name the question holds:
    `names_missing`)."""
    paper = Paper(id="p", title="T", abstract=sentence)
    verdict = checker.check(analyze(question), [sentence], [paper])
    if verdict.signals is None:
        return True
    if check == "names":
        return not verdict.signals.names_missing
    return not (verdict.signals.kind_unnamed if check == "name" else verdict.signals.quantity_missing)


def indexed_checker(data_dir: Path) -> SufficiencyChecker:
    """The assistant's own check over an index (its term statistics, MiniLM word matching, the cuts of `Settings`),
    deciding by the rules: a lone sentence has no retrieval scores to give a calibrated model."""
    settings = Settings(data_dir=data_dir, verdict="rules")
    return Answerer(settings, make_embedder(settings), "extractive").sufficiency


def score(cases: list[dict], indexed: SufficiencyChecker | None = None) -> tuple[Counter, list[str]]:
    """Right and wrong counts per field and expected answer, and the ids judged wrongly; with an `indexed` checker
    a case is judged stated when the whole verdict is "answered"."""
    # no term statistics: no name is unknown to the index, so the figure check is what decides
    checker = SufficiencyChecker(None, partial_coverage=0.0, abstain_coverage=0.0)
    counts: Counter = Counter()
    wrong = []
    for case in cases:
        if indexed is not None:
            paper = Paper(id="p", title="T", abstract=case["sentence"])
            found = indexed.check(analyze(case["question"]), [case["sentence"]], [paper]).status == "answered"
        else:
            found = states(checker, case["question"], case["sentence"], case.get("check", "figure"))
        right = found == case["states"]
        counts[(case["field"], case["states"], right)] += 1
        if not right:
            wrong.append(case["id"])
    return counts, wrong


def _splits(cases: list[dict]) -> list[str]:
    """The splits of a case file in order ("" for a file without splits)."""
    return sorted({c.get("split", "") for c in cases}) or [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, nargs="*", default=DEFAULT)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--data-dir", type=Path, help="judge by the whole verdict over this index's term statistics")
    args = parser.parse_args()
    indexed = indexed_checker(args.data_dir) if args.data_dir else None
    lines = ["| cases | right | states: right / all | does not state: right / all |", "|---|---|---|---|"]
    for path, split in [(p, s) for p in args.cases for s in _splits(read_cases(p))]:
        counts, wrong = score([c for c in read_cases(path) if split in ("", c.get("split"))], indexed)
        total = sum(counts.values())
        right = sum(n for (_, _, ok), n in counts.items() if ok)

        def part(expected: bool, counts: Counter = counts) -> str:
            ok = sum(n for (_, e, r), n in counts.items() if e == expected and r)
            return f"{ok} / {sum(n for (_, e, _), n in counts.items() if e == expected)}"

        name = f"{path.name} {split}".strip()
        lines.append(f"| {name} | {right} / {total} | {part(True)} | {part(False)} |")
        if split != "test":  # a held-out split's cases are counted, never shown
            print(name, "wrong:", " ".join(wrong))
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
