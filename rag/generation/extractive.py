"""The no-LLM answerer: the source sentences that best answer the question, each cited.

A sentence's score mixes its embedding similarity to the question, the share of the question's
content words it contains, and its paper's retrieval rank. The best paper answers; other papers
join only for list-style questions ("which papers ...") or near-ties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.generation.context import Source
from rag.generation.prompts import NO_ANSWER
from rag.retrieval import keyword_query
from rag.support import SentenceEmbeddings, content_words, overlap, sentences_of

_LIST_QUESTION = re.compile(
    r"\b(?:which|what|list|name|any|all|several|other)\b.{0,30}\b(?:papers|works|studies|articles|methods|approaches)\b"
    r"|\bpapers (?:that|which|on|about)\b",
    re.I,
)


_CONTRIBUTION = re.compile(r"\b(?:we|our|this (?:paper|work|article|thesis|study)|here)\b", re.I)
_NAME = re.compile(r"\b(?:[A-Z][a-z]*[A-Z][A-Za-z0-9\-]*|[A-Z]{2,}[a-z]?s?|[A-Za-z]*\d[\w.\-%]*)\b")
_QUANTITY_QUESTION = re.compile(
    r"\b(?:how (?:many|much|long|fast|large|big|accurate)|what (?:accuracy|speed|size))\b", re.I
)


def answer_bonus(question: str, sentence: str) -> float:
    """A small prior for sentences that carry answers: contributions, names and numbers the question lacks."""
    bonus = 0.08 if _CONTRIBUTION.search(sentence) else 0.0
    new_names = {n for n in _NAME.findall(sentence) if n.lower() not in question.lower()}
    if new_names:
        bonus += 0.06
    if _QUANTITY_QUESTION.search(question) and re.search(r"\d", sentence):
        bonus += 0.1
    return bonus


def is_list_question(question: str) -> bool:
    """Whether the question asks for several papers."""
    return bool(_LIST_QUESTION.search(question))


@dataclass(frozen=True)
class Candidate:
    """A source sentence with its score."""

    source: Source
    sentence: str
    score: float
    position: int


class ExtractiveAnswerer:
    """Composes a cited answer from source sentences."""

    name = "extractive"
    model = "extractive (no LLM)"

    def __init__(
        self,
        embeddings: SentenceEmbeddings,
        *,
        lexical_weight: float = 0.3,
        rank_weight: float = 0.15,
        second_sentence: float = 0.6,
        per_paper: int = 3,
        other_paper: float = 0.8,
        max_papers: int = 3,
        min_score: float = 0.3,
    ) -> None:
        self.embeddings = embeddings
        self.lexical_weight = lexical_weight
        self.rank_weight = rank_weight
        self.second_sentence = second_sentence
        self.per_paper = per_paper
        self.other_paper = other_paper
        self.max_papers = max_papers
        self.min_score = min_score

    def candidates(self, question: str, sources: list[Source]) -> list[Candidate]:
        """Every source sentence, best first."""
        if not sources:
            return []
        qwords = content_words(keyword_query(question))
        top = max(s.hit.score for s in sources) or 1.0
        items = [(s, sent, i) for s in sources for i, sent in enumerate(sentences_of(s.hit.passage or s.text))]
        vectors = self.embeddings.embed([question] + [sent for _, sent, _ in items])
        cos = vectors[1:] @ vectors[0] if vectors is not None else np.zeros(len(items))
        out = []
        for (source, sent, pos), c in zip(items, cos, strict=True):
            lexical = overlap(qwords, content_words(sent)) if qwords else 0.0
            prior = max(source.hit.score, 0.0) / top
            score = float(c) + self.lexical_weight * lexical + self.rank_weight * prior + answer_bonus(question, sent)
            out.append(Candidate(source, sent, score, pos))
        return sorted(out, key=lambda c: -c.score)

    def answer(self, question: str, sources: list[Source]) -> str:
        """A short answer whose every sentence is a cited source sentence (or NO_ANSWER)."""
        ranked = self.candidates(question, sources)
        if not ranked or ranked[0].score < self.min_score:
            return NO_ANSWER
        best = ranked[0]
        chosen = [best]
        same = [c for c in ranked[1:] if c.source.number == best.source.number]
        chosen += [c for c in same[: self.per_paper - 1] if c.score >= self.second_sentence * best.score]
        listing = is_list_question(question)
        limit = self.max_papers if listing else 2  # a singular question takes a second paper only on a near-tie
        threshold = self.other_paper if listing else 0.97
        seen = {best.source.number}
        for c in ranked[1:]:
            if len(seen) >= limit:
                break
            if c.source.number not in seen and c.score >= threshold * best.score:
                seen.add(c.source.number)
                chosen.append(c)
        return " ".join(self._render(group) for group in self._by_paper(chosen))

    @staticmethod
    def _by_paper(chosen: list[Candidate]) -> list[list[Candidate]]:
        groups: dict[int, list[Candidate]] = {}
        for c in chosen:
            groups.setdefault(c.source.number, []).append(c)
        return [sorted(g, key=lambda c: c.position) for g in groups.values()]

    @staticmethod
    def _render(group: list[Candidate]) -> str:
        source = group[0].source
        paper = source.hit.paper
        parts = []
        for i, c in enumerate(group):
            text = c.sentence.rstrip()
            body, end = (text[:-1], text[-1]) if text[-1:] in ".!?" else (text, ".")
            if i == 0 and not paper.title_derived:
                body = f"{paper.title}: {body}"
            parts.append(f"{body} [{source.number}]{end}")
        return " ".join(parts)
