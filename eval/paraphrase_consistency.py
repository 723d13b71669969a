"""Paraphrase consistency: the share of question groups whose wordings all get the same verdict and cite the same
first paper, from a `bench_answers.py` predictions file over `rag/data/qa/paraphrase.jsonl`.

    python eval/bench_answers.py --qa rag/data/qa/paraphrase.jsonl --backend extractive \
        --out eval/results/answers_paraphrase.json
    python eval/paraphrase_consistency.py eval/results/answers_paraphrase_predictions.jsonl [QA.jsonl]

The second argument names another paraphrase set of the same format (`rag/data/qa/paraphrase_fresh.jsonl`).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT / "rag" / "data" / "qa" / "paraphrase.jsonl"


def main(predictions: Path, qa: Path = QA) -> None:
    group_of = {}
    for line in qa.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            row = json.loads(line)
            group_of[row["question"]] = row["group"]
    verdicts: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for line in predictions.read_text(encoding="utf-8").splitlines():
        p = json.loads(line)
        status = p.get("status") or ("abstained" if p.get("abstained") else "answered")
        cited = p["cited"][0]["id"] if p.get("cited") else ""
        verdicts[group_of[p["question"]]].add((status, cited if status != "abstained" else ""))
    same = sum(len(v) == 1 for v in verdicts.values())
    print(
        f"groups with the same verdict and first cited paper in every wording: {same}/{len(verdicts)}"
        f" = {same / max(len(verdicts), 1):.3f}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), *(Path(a) for a in sys.argv[2:3]))
