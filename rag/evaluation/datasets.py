"""Evaluation data: our QA sets (JSONL) and BEIR-format retrieval sets."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.corpus.records import arxiv_id, clean_text, normalize
from rag.types import Paper

QA_TYPES = ("factoid", "which-paper", "multi-paper", "unanswerable", "follow-up")


@dataclass
class QAItem:
    """One question of a QA set; `gold` holds paper ids, titles or abstract prefixes."""

    question: str
    gold: list[str] = field(default_factory=list)
    answer: str = ""
    must_include: list[str] = field(default_factory=list)
    type: str = "factoid"
    id: str = ""
    history: list[dict[str, str]] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        """Whether the corpus holds an answer."""
        return self.type != "unanswerable" and bool(self.gold)


def load_qa(path: Path) -> list[QAItem]:
    """Read a QA set (one JSON object a line; blank lines and `#` comments skipped)."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        obj = json.loads(line)
        if obj.get("type", "factoid") not in QA_TYPES:
            raise ValueError(f"{path}:{number}: unknown type {obj['type']!r} (use one of {', '.join(QA_TYPES)})")
        gold = obj.get("gold", [])
        items.append(
            QAItem(
                question=obj["question"],
                gold=[gold] if isinstance(gold, str) else list(gold),
                answer=obj.get("answer", ""),
                must_include=list(obj.get("must_include", [])),
                type=obj.get("type", "factoid"),
                id=str(obj.get("id", number)),
                history=list(obj.get("history", [])),
            )
        )
    return items


class GoldResolver:
    """Maps gold references (paper id, exact title, or abstract prefix) to paper ids."""

    def __init__(self, papers: Iterable[Paper]) -> None:
        self.ids: set[str] = set()
        self.titles: dict[str, str] = {}
        self.abstracts: list[tuple[str, str]] = []
        for p in papers:
            self.ids.add(p.id)
            self.titles.setdefault(normalize(p.title), p.id)
            self.abstracts.append((normalize(p.abstract), p.id))

    def resolve(self, ref: str) -> str | None:
        """The paper id a reference points to, or None."""
        if ref in self.ids:
            return ref
        bare = arxiv_id(ref)  # "arXiv:2506.02113v2" names the paper indexed as 2506.02113
        if bare in self.ids:
            return bare
        key = normalize(clean_text(ref))  # a reference copied from a raw file still matches its unwrapped paper
        if key in self.titles:
            return self.titles[key]
        matches = {pid for text, pid in self.abstracts if key and text.startswith(key)}
        return matches.pop() if len(matches) == 1 else None

    def resolve_all(self, refs: Iterable[str]) -> tuple[set[str], list[str]]:
        """Resolved ids, and the references that matched nothing (or several papers)."""
        ids, missing = set(), []
        for ref in refs:
            pid = self.resolve(ref)
            if pid is None:
                missing.append(ref)
            else:
                ids.add(pid)
        return ids, missing


@dataclass
class BeirSet:
    """A BEIR-format data set split: corpus file, queries and graded judgements."""

    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, float]]


def load_beir(folder: Path, split: str = "test") -> BeirSet:
    """Read `corpus.jsonl`, `queries.jsonl` and `qrels/<split>.tsv` (queries without judgements dropped)."""
    qrels: dict[str, dict[str, float]] = {}
    with (folder / "qrels" / f"{split}.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = float(row["score"])
    queries = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            if obj["_id"] in qrels:
                queries[obj["_id"]] = obj["text"]  # never the metadata (it holds labels)
    return BeirSet(corpus=folder / "corpus.jsonl", queries=queries, qrels=qrels)
