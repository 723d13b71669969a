"""The same question in four wordings (imperative, casual lower case with a typo, a long preamble, a keyword query)
gets the same verdict and cites the same paper: the paraphrase set's test split, asked through the public API with
the offline default (extractive answerer, MiniLM) on the bundled index.

The set (`rag/data/qa/paraphrase.jsonl`) was written by a helper session that had not read the answering code.
The target is every group consistent (>= 0.95); the floor below is what was measured, so a change that makes
wordings disagree more fails here, and the groups that still disagree are named in the failure message.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from rag import Assistant
from rag.config import Settings

pytestmark = pytest.mark.slow

QA = Path(__file__).resolve().parents[1] / "rag" / "data" / "qa" / "paraphrase.jsonl"
CONSISTENT_FLOOR = 0.80  # measured 0.857 (30 of 35 groups) on this split; the target, 0.95, is not reached


def groups(split: str) -> dict[str, list[str]]:
    """The questions of each group of one split, in file order."""
    out: dict[str, list[str]] = defaultdict(list)
    for line in QA.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            row = json.loads(line)
            if row["split"] == split:
                out[row["group"]].append(row["question"])
    return out


def verdict(assistant: Assistant, question: str) -> tuple[str, str]:
    """(status, first cited paper) of one answer; an abstention cites none."""
    answer = assistant.ask(question)
    cited = answer.citations[0].paper.id if answer.citations and answer.status != "abstained" else ""
    return answer.status, cited


def test_every_wording_of_a_question_gets_the_same_verdict_and_paper(bundled_dir: Path) -> None:
    assistant = Assistant(Settings(data_dir=bundled_dir, llm="extractive"))
    test_groups = groups("test")
    assert len(test_groups) >= 30 and all(len(q) == 4 for q in test_groups.values())
    differing = {}
    for group, questions in test_groups.items():
        verdicts = {q: verdict(assistant, q) for q in questions}
        if len(set(verdicts.values())) > 1:
            differing[group] = verdicts
    share = 1 - len(differing) / len(test_groups)
    detail = "\n".join(f"{g}: {v}" for g, v in differing.items())
    assert share >= CONSISTENT_FLOOR, f"consistent {share:.3f} < {CONSISTENT_FLOOR}:\n{detail}"
