"""The no-LLM answerer: the source sentences that best answer the question, each cited.

A sentence's score mixes its embedding similarity to the question, the share of the question's
content words it contains, and its paper's retrieval rank. The best paper answers; other papers
join only for list-style questions ("which papers ...") or near-ties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.acronyms import AcronymMap, harvest
from rag.config import Settings
from rag.generation.context import Source
from rag.generation.prompts import NO_ANSWER
from rag.kinds import names_of_kind
from rag.parts import asks_several_facts, target_in
from rag.quantities import has_time, measure_matches, quantities
from rag.query import as_question, is_list_question, keyword_only
from rag.question import Question
from rag.retrieval import keyword_query
from rag.support import SentenceEmbeddings, content_words, overlap, restates_question, sentences_of
from rag.types import Paper
from rag.words import terms

_CONTRIBUTION = re.compile(r"\b(?:we|our|this (?:paper|work|article|thesis|study)|here)\b", re.I)
_NAME = re.compile(r"\b(?:[A-Z][a-z]*[A-Z][A-Za-z0-9\-]*|[A-Z]{2,}[a-z]?s?|[A-Za-z]*\d[\w.\-%]*)\b")


def holds_fact(question: Question, sentence: str) -> bool:
    """Whether a sentence holds the kind of fact the question asks for: for a number question a quantity of what
    it measures (a time for "how long"), for a which-question a name the question does not already hold."""
    if question.wants_number:
        if question.duration:
            return has_time(sentence)
        asked = set(question.numbers)
        found = [q for q in quantities(sentence) if q not in asked]
        return bool(found) and measure_matches(question.measure, terms(sentence), sentence)
    if question.asks in ("name", "list"):
        lowered = question.text.lower()
        return any(n.lower() not in lowered for n in _NAME.findall(sentence))
    return False


def answers_part(part: Question, sentence: str) -> bool:
    """Whether a sentence answers one part of a multi-part question: it names the part's target, if any, and for
    a number part states a quantity of what the part measures."""
    if part.target and not target_in(part.target, sentence):
        return False
    return holds_fact(part, sentence) if part.wants_number else bool(part.target)


_WHICH_ONE = re.compile(
    r"^\W*(?:(?:which|what)\s+(?:[\w-]+\s+){0,3}?|name\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?)"
    r"(?:paper|work|method|model|approach|architecture|network|technique|system|framework|algorithm)\b",
    re.I,
)
_INTRODUCES = re.compile(r"\b(?:propose|present|introduce|develop|call|called|named|dubbed|termed|coined)\b", re.I)
_NAMED = re.compile(r"\b(?:called|named|dubbed|termed|coined)\s+[\"'“‘]?([A-Z][\w-]*)")


def method_name(abstract: str, question: str) -> str | None:
    """The name an abstract gives its method ("we propose VMFormer, ...", "... called Pigeon"), when the question
    does not already hold it: a which-paper answer leads with it."""
    asked = question.lower()
    for sentence in sentences_of(abstract):
        if not _INTRODUCES.search(sentence):
            continue
        named = [m for m in _NAMED.findall(sentence) if m.lower() not in asked]
        names = named or [n for n in _NAME.findall(sentence) if n.lower() not in asked and not n.isdigit()]
        if names:
            return names[0]
    return None


_FINDING = re.compile(
    r"\b(?:prove[sd]?|show(?:s|ed|n)?|demonstrat(?:e|es|ed)|find|finds|found|establish(?:es|ed)?|conclude[sd]?|"
    r"indicate[sd]?|reveal(?:s|ed)?|confirm(?:s|ed)?|suggest(?:s|ed)?)\s+that\b|\bresults? (?:show|indicate|suggest)",
    re.I,
)
FINDING_WEIGHT = 0.2
"""What a yes/no question's answer gains from a sentence stating a finding ("we prove that these models are
universal"): the finding says yes or no, the sentences around it set the scene."""


_PRIOR_WORK = re.compile(
    r"\b(?:prior|previous|earlier|recent|past|other|many|several|some)\s+(?:\w+\s+){0,2}?"
    r"(?:works?|stud(?:y|ies)|trials?|reports?|research|literature|papers?|experiments?)\b"
    r"|\b(?:it|this) (?:has|had) (?:been|also been)\b|\bhave been (?:shown|suggested|reported)\b",
    re.I,
)


def states_finding(sentence: str) -> bool:
    """Whether a sentence states its paper's finding ("we prove that ...", "results show ..."), not prior work's
    ("Recent reports have suggested that ...")."""
    m = _FINDING.search(sentence)
    return m is not None and not _PRIOR_WORK.search(sentence[: m.start()])


def answer_bonus(question: Question, sentence: str, fact_weight: float = 0.2) -> float:
    """A prior for sentences that carry answers: contributions, the asked kind of fact, and for a yes/no question a
    stated finding."""
    bonus = 0.08 if _CONTRIBUTION.search(sentence) else 0.0
    if question.asks == "yesno" and states_finding(sentence):
        bonus += FINDING_WEIGHT
    if holds_fact(question, sentence):
        bonus += fact_weight if question.wants_number else 0.06
    elif question.wants_number and quantities(sentence):
        bonus += fact_weight / 4
    return bonus


@dataclass(frozen=True)
class Candidate:
    """A source sentence with its score."""

    source: Source
    sentence: str
    score: float
    position: int


def without_title(question: str, paper: Paper) -> str:
    """The words of a question that ask about `paper`, without those that name it: its title, if quoted, put as "the
    paper" ("What keeps Exploring Simple Siamese Representation Learning from collapsing?"), else its title's words
    left out when the question uses two or more ("what was the RNN sequence transduction paper evaluated on"); ""
    when neither leaves a question. Every sentence of the paper is about its title's words: they pick none of them."""
    if paper.title_derived:
        return ""  # an untitled paper's "title" is its abstract's first words
    text = " ".join(question.split())
    title = " ".join(paper.title.split())
    quoted = re.search(re.escape(title), text, re.I) if len(title.split()) >= 3 else None
    if quoted:
        return f"{text[: quoted.start()]}the paper{text[quoted.end() :]}"
    title_words = content_words(title)
    kept = [w for w in text.split() if not content_words(w) & title_words]
    if len(text.split()) - len(kept) >= 2 and content_words(" ".join(kept)):
        return " ".join(kept)
    return ""


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
        fact_weight: float = Settings.model_fields["fact_weight"].default,
        clause_words: int = 25,
        anchor_margin: float = Settings.model_fields["anchor_margin"].default,
    ) -> None:
        self.embeddings = embeddings
        self.lexical_weight = lexical_weight
        self.rank_weight = rank_weight
        self.second_sentence = second_sentence
        self.per_paper = per_paper
        self.other_paper = other_paper
        self.max_papers = max_papers
        self.min_score = min_score
        self.fact_weight = fact_weight
        self.clause_words = clause_words
        self.anchor_margin = anchor_margin
        """A one-paper question is answered from the top retrieved paper alone when its retrieval score is at least
        this many times the runner-up's: the question is about that paper, and a sentence from a neighbour with
        the asked kind of number would answer about another system."""

    def candidates(self, question: str | Question, sources: list[Source]) -> list[Candidate]:
        """Every source sentence, best first."""
        if not sources:
            return []
        asked = as_question(question)
        question = asked.text
        qwords = content_words(keyword_query(question))
        # what the question asks of the top paper picks the sentences: a rewritten follow-up's own words ("what keeps
        # it from collapsing?"), or the question's words besides that paper's title or title words; the title or
        # topic cannot (every sentence of that paper is about it). The meaning counts the whole question too
        own_words = asked.own_words or without_title(question, sources[0].hit.paper)
        own = content_words(keyword_query(own_words)) if own_words else set()
        trusted = self._trusted_scores(question, sources)
        top = max(trusted.values()) or 1.0
        items = [(s, sent, i) for s in sources for i, sent in enumerate(sentences_of(s.hit.passage or s.text))]
        head = [question, own_words] if own else [question]
        vectors = self.embeddings.embed(head + [sent for _, sent, _ in items])
        cos = vectors[len(head) :] @ vectors[0] if vectors is not None else np.zeros(len(items))
        if own and vectors is not None:
            cos = (cos + vectors[len(head) :] @ vectors[1]) / 2
            qwords = own
        out = []
        for (source, sent, pos), c in zip(items, cos, strict=True):
            lexical = overlap(qwords, content_words(sent)) if qwords else 0.0
            prior = max(trusted[source.number], 0.0) / top
            score = (
                float(c)
                + self.lexical_weight * lexical
                + self.rank_weight * prior
                + answer_bonus(asked, sent, self.fact_weight)
            )
            out.append(Candidate(source, sent, score, pos))
        return sorted(out, key=lambda c: -c.score)

    def answer(self, question: str | Question, sources: list[Source], acronyms: AcronymMap | None = None) -> str:
        """A short answer whose every sentence is a cited source sentence (or NO_ANSWER); `acronyms`, the index's
        map, as the sufficiency check reads names with it.

        The best sentence answers; for a number question the best paper's sentences that state a quantity of what
        is asked answer instead, without background (for a two-part question any sentence with a quantity may
        join); a list question gets one short cited clause per paper."""
        asked = as_question(question)
        question = asked.text
        listing = asked.asks == "list" or is_list_question(question)
        if not listing:
            sources = self._anchored(question, sources)
        ranked = self.candidates(asked, sources)
        if not ranked or ranked[0].score < self.min_score:
            return NO_ANSWER
        best = ranked[0]
        chosen = [best]
        if not listing:
            same = [c for c in ranked[1:] if c.source.number == best.source.number]
            extra = [c for c in same[: self.per_paper - 1] if c.score >= self.second_sentence * best.score]
            single = asked.wants_number and not asks_several_facts(asked)
            facts = [c for c in [best, *same] if holds_fact(asked, c.sentence)] if single else []
            if facts:  # the best paper states the one asked quantity: its sentences that do, not its background
                chosen = [facts[0]] + [c for c in facts[1:] if c in extra]
            else:
                chosen += [c for c in extra if not asked.wants_number or quantities(c.sentence)]
            chosen += self._part_sentences(asked, ranked, chosen)
            chosen += self._naming_sentence(asked, ranked, chosen, acronyms)
            if keyword_only(question):  # a keyword query has no wording the closest sentence could echo
                chosen += self._asking_sentence(asked, ranked, chosen)
        limit = self.max_papers if listing else 2  # a singular question takes a second paper only on a near-tie
        threshold = self.other_paper if listing else 0.97
        seen = {best.source.number}
        for c in ranked[1:]:
            if len(seen) >= limit:
                break
            if c.source.number not in seen and c.score >= threshold * best.score:
                seen.add(c.source.number)
                chosen.append(c)
        groups = self._by_paper(chosen)
        if listing:
            return " ".join(self._render([self._clause(g[0])]) for g in groups)
        lead = None
        if _WHICH_ONE.search(question):  # "which method ...?": the answer names it as its abstract does
            first = groups[0][0].source.hit.paper
            name = method_name(first.abstract, question)
            shown = " ".join(c.sentence for c in groups[0]) + ("" if first.title_derived else first.title)
            lead = name if name and name not in shown else None
        return " ".join(self._render(group, lead if i == 0 else None) for i, group in enumerate(groups))

    @staticmethod
    def _part_sentences(asked: Question, ranked: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
        """For a multi-part question, the best paper's best sentence for each part the chosen ones do not answer
        (each part gets its sentence; a part no sentence answers is left to the sufficiency check to name)."""
        paper = chosen[0].source.number
        out: list[Candidate] = []
        for part in asked.parts:
            if any(answers_part(part, c.sentence) for c in chosen + out):
                continue
            found = next((c for c in ranked if c.source.number == paper and answers_part(part, c.sentence)), None)
            if found is not None:
                out.append(found)
        return out

    @staticmethod
    def _naming_sentence(
        asked: Question, ranked: list[Candidate], chosen: list[Candidate], known: AcronymMap | None
    ) -> list[Candidate]:
        """For a question (or each part of one) asking for a named thing ("Which datasets ..."), the best paper's
        best sentence that names one (`names_of_kind`, with the acronyms its abstract defines and those `known` to
        the index: "JSSP", a problem the index spells out, names no algorithm; for a part with a target, a sentence
        naming that target), when no chosen sentence does."""
        asks = [q for q in (asked.parts or (asked,)) if q.kind]
        if not asks:
            return []
        paper = chosen[0].source.hit.paper
        maps = [AcronymMap(harvest(f"{paper.title}. {paper.abstract}")), *([known] if known else [])]
        number = chosen[0].source.number
        out: list[Candidate] = []

        def names(q: Question, c: Candidate) -> bool:
            return all(_names_kind_on_target(q, c.sentence, m) for m in maps)

        for q in asks:
            if any(names(q, c) for c in chosen + out):
                continue
            same_paper = (c for c in ranked if c.source.number == number)
            found = next((c for c in same_paper if names(q, c)), None)
            if found is not None:
                out.append(found)
        return out

    @staticmethod
    def _asking_sentence(asked: Question, ranked: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
        """The best paper's sentence holding the most of what the question asks beyond the paper's title (its words
        not in the title: "controller" in "Auto-GNN architecture search controller type"), when it holds more of
        them than every chosen sentence: the sentence closest to the whole question may only restate the topic."""
        paper = chosen[0].source
        asking = content_words(keyword_query(asked.text)) - content_words(paper.hit.paper.title)
        if not asking:
            return []

        def held(c: Candidate) -> int:
            return len(asking & content_words(c.sentence))

        same = [c for c in ranked if c.source.number == paper.number]
        best = max(same, key=held)
        return [best] if held(best) > max(held(c) for c in chosen) else []

    def _anchored(self, question: str, sources: list[Source]) -> list[Source]:
        """Only the top retrieved paper when it leads the runner-up by `anchor_margin`, else every source."""
        trusted = self._trusted_scores(question, sources)
        ranked = sorted(sources, key=lambda s: -trusted[s.number])
        if len(ranked) >= 2 and trusted[ranked[0].number] >= self.anchor_margin * max(trusted[ranked[1].number], 1e-9):
            return ranked[:1]
        return sources

    def _trusted_scores(self, question: str, sources: list[Source]) -> dict[int, float]:
        """Each source's retrieval score, where a title that restates the question counts for nothing: such a paper
        ranks at most level with the best of the others (its title lifted its retrieval score, not its abstract),
        unless one of its abstract's sentences is closer to the question than any other paper's sentence (the
        abstract earns the rank: "Are GNNs with random node initialization universal?" for the paper titled so)."""
        copied = {s.number for s in sources if restates_question(question, s.hit.paper.title)}
        if not copied:
            return {s.number: s.hit.score for s in sources}
        closest = self._closest_sentences(question, sources)
        rival = max((closest[s.number] for s in sources if s.number not in copied), default=1.0)
        others = [s.hit.score for s in sources if s.number not in copied]
        cap = max(others, default=min((s.hit.score for s in sources), default=0.0))
        earned = {n for n in copied if closest[n] > rival}
        return {s.number: min(s.hit.score, cap) if s.number in copied - earned else s.hit.score for s in sources}

    def _closest_sentences(self, question: str, sources: list[Source]) -> dict[int, float]:
        """Each source's best cosine between the question and one sentence of its passage (no title)."""
        items = [(s.number, sent) for s in sources for sent in sentences_of(s.hit.passage or s.text)]
        vectors = self.embeddings.embed([question] + [sent for _, sent in items]) if items else None
        best = dict.fromkeys((s.number for s in sources), -1.0)
        if vectors is not None:
            for (number, _), cos in zip(items, vectors[1:] @ vectors[0], strict=True):
                best[number] = max(best[number], float(cos))
        return best

    def _clause(self, c: Candidate) -> Candidate:
        """The sentence cut to its first clause when it is long (for one-line-per-paper lists)."""
        words = c.sentence.split()
        if len(words) <= self.clause_words:
            return c
        head = " ".join(words[: self.clause_words])
        cut = max(head.rfind(", "), head.rfind("; "))
        text = head[:cut] if cut > len(head) // 2 else head
        return Candidate(c.source, text.rstrip(",;:") + ".", c.score, c.position)

    @staticmethod
    def _by_paper(chosen: list[Candidate]) -> list[list[Candidate]]:
        groups: dict[int, list[Candidate]] = {}
        for c in chosen:
            groups.setdefault(c.source.number, []).append(c)
        return [sorted(g, key=lambda c: c.position) for g in groups.values()]

    @staticmethod
    def _render(group: list[Candidate], lead: str | None = None) -> str:
        source = group[0].source
        paper = source.hit.paper
        parts = []
        for i, c in enumerate(group):
            text = c.sentence.rstrip()
            body, end = (text[:-1], text[-1]) if text[-1:] in ".!?" else (text, ".")
            if i == 0 and lead:  # the method's name first, as its abstract gives it
                body = f"{lead} — {body}"
            if i == 0 and not paper.title_derived:
                body = f"{paper.title}: {body}"
            parts.append(f"{body} [{source.number}]{end}")
        return " ".join(parts)


def _names_kind_on_target(asked: Question, sentence: str, acronyms: AcronymMap) -> bool:
    """Whether a sentence names a thing of the asked kind (`names_of_kind`) and, for a part with a target ("on
    CIFAR-100"), speaks of that target."""
    on_target = not asked.target or target_in(asked.target, sentence)
    return on_target and bool(names_of_kind(asked, sentence, acronyms))
