"""Citation checking: parse [n] markers, drop invalid ones, verify each sentence against the
sources it cites, re-attribute or mark what the cited source does not support, renumber by first use.

Small models cite badly; this step is what makes their answers trustworthy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.generation.context import Source
from rag.generation.prompts import NO_ANSWER
from rag.quantities import measure_matches, quantities
from rag.query import as_question
from rag.question import Question
from rag.support import SentenceEmbeddings, content_words, overlap, restates_question, sentences_of
from rag.types import Citation, SentenceCheck
from rag.words import terms

_NUMS = r"\d+(?:\s*(?:[,;]|[-–]|and)\s*\d+)*"
MARKER = re.compile(rf"\[\s*(?:sources?\s*)?({_NUMS})\s*\]", re.I)
_MARKERS_AFTER_STOP = re.compile(rf"([.!?])((?:\s*\[\s*(?:sources?\s*)?{_NUMS}\s*\])+)", re.I)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[*])|\n+")
UNSUPPORTED = "[unsupported]"


def parse_numbers(inner: str) -> list[int]:
    """'1, 3' -> [1, 3]; '2-4' -> [2, 3, 4]; '1 and 2' -> [1, 2]."""
    numbers: list[int] = []
    for part in re.split(r"\s*(?:[,;]|and)\s*", inner):
        if not part:
            continue
        if m := re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part):
            lo, hi = int(m.group(1)), int(m.group(2))
            numbers.extend(range(lo, hi + 1) if 0 < hi - lo < 20 else [lo, hi])
        elif part.strip().isdigit():
            numbers.append(int(part))
    return numbers


_LIST_MARKER = re.compile(r"\s*(?:\d{1,2}[.)]|[-•*])\s*")
_ENDS_SENTENCE = re.compile(r"[.!?:)\]\"'”’]\s*$")


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """Answer text -> [(sentence without markers, cited numbers in order)]."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text.strip())
    out = []
    for raw in _SENTENCE_SPLIT.split(text):
        raw = raw.strip()
        if not raw:
            continue
        numbers: list[int] = []
        for m in MARKER.finditer(raw):
            numbers.extend(n for n in parse_numbers(m.group(1)) if n not in numbers)
        clean = MARKER.sub("", raw)
        clean = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(clean.split()))
        if _LIST_MARKER.fullmatch(clean) and not numbers:
            continue  # "1." left alone by a numbered list the sentence split cut apart: not a claim
        if clean.strip(" .,;:") or numbers:
            out.append((clean, numbers))
    return out


def is_no_answer(text: str) -> bool:
    """Whether a model's reply says the sources don't answer."""
    norm = " ".join(text.lower().replace("’", "'").split())
    return NO_ANSWER.lower().rstrip(".") in norm or bool(
        re.search(
            r"\b(?:sources?|abstracts?|context)\b.{0,40}\b(?:do not|don't|does not|doesn't)\b.{0,20}"
            r"\b(?:answer|contain|mention|provide|say|state|report|give|specify)",
            norm,
        )
    )


def _title_patterns(sources: Sequence[Source], question: str) -> list[re.Pattern[str]]:
    """What in an answer sentence names a paper instead of claiming something: a source's title heading the sentence
    ('Title: finding', as the extractive answer writes it), and anywhere a title that restates the question. Only
    real titles, not the first sentence standing in for a missing one; longest first."""
    titles = sorted({s.hit.paper.title for s in sources if not s.hit.paper.title_derived}, key=len, reverse=True)
    patterns = []
    for title in titles:
        words = r"\s+".join(re.escape(w) for w in title.split())
        if not words:
            continue
        if restates_question(question, title):
            patterns.append(re.compile(rf"(?<!\w){words}(?!\w)", re.I))
        patterns.append(re.compile(rf"^\W*{words}\W*?\s*[:\-–—]\s", re.I))
    return patterns


def _without_titles(claim: str, titles: Sequence[re.Pattern[str]]) -> str:
    """The claim without the titles that name papers in it ('Title: finding' -> 'finding'): a title is not claim
    text, so a title that copies the question cannot lend its words to a claim; a claim that is only a title stays."""
    body = claim
    for pattern in titles:
        body = pattern.sub(" ", body)
    body = " ".join(body.split()).strip(" :;,.-–—")
    return body if content_words(body) else claim


@dataclass(frozen=True)
class Evidence:
    """One source's sentences (title first, unless it restates the question), their content words and vectors,
    prepared once per answer."""

    sentences: list[str]
    sentence_words: list[set[str]]
    words: set[str]
    vectors: np.ndarray | None


@dataclass
class CheckedAnswer:
    """The answer after checking: text with final markers, citations and per-sentence verdicts."""

    text: str
    citations: list[Citation]
    sentences: list[SentenceCheck]
    dropped_numbers: list[int] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    """What each sentence claims: its text without the paper titles it names (aligned with `sentences`)."""

    @property
    def support_rate(self) -> float:
        """Share of cited sentences whose citation supports them."""
        cited = [s for s in self.sentences if s.citations]
        return sum(s.supported for s in cited) / len(cited) if cited else 0.0


class CitationChecker:
    """Verifies answer sentences against numbered sources (lexical and embedding support)."""

    def __init__(
        self,
        embeddings: SentenceEmbeddings | None = None,
        *,
        threshold: float = 0.5,
        lexical_only: float = 0.7,
        min_claim_words: int = 3,
    ) -> None:
        self.embeddings = embeddings
        self.threshold = threshold
        self.lexical_only = lexical_only
        self.min_claim_words = min_claim_words

    def _evidence(self, sources: Sequence[Source], question: str = "") -> dict[int, Evidence]:
        evidence = {}
        for s in sources:
            title = [] if restates_question(question, s.hit.paper.title) else [s.hit.paper.title]  # no trust in a copy
            sentences = [*title, *sentences_of(s.hit.passage or s.text)]
            words = [content_words(sentence) for sentence in sentences]
            vectors = self.embeddings.embed(sentences) if self.embeddings else None
            evidence[s.number] = Evidence(sentences, words, set().union(*words), vectors)
        return evidence

    def support(self, claim: set[str], claim_vec: np.ndarray | None, ev: Evidence) -> tuple[float, str]:
        """How well one source supports a claim (its content words and vector): 0-1, and its best sentence."""
        lexical = overlap(claim, ev.words)
        per_sentence = [overlap(claim, words) for words in ev.sentence_words]
        if claim_vec is not None and ev.vectors is not None:
            cos = ev.vectors @ claim_vec
            best = int(np.argmax(cos + np.array(per_sentence)))
            score = max(lexical if lexical >= self.lexical_only else 0.0, 0.5 * lexical + 0.5 * float(cos.max()))
        else:
            best = int(np.argmax(per_sentence))
            score = lexical
        return score, ev.sentences[best]

    def check(self, answer: str, sources: Sequence[Source], question: str | Question = "") -> CheckedAnswer:
        """Check and renumber an answer; every claim ends up supported-and-cited or marked unsupported.

        A citation's quote is the source sentence that best supports its claims, ties going to the
        sentence closest to the `question` and, for a "how many / how much" question, to one that states a
        quantity of what is asked (the sentence that carries the asked fact).
        """
        asked = as_question(question) if question else None
        question = asked.text if asked else ""
        qwords = content_words(question)
        wants_number = asked is not None and asked.wants_number
        by_number = {s.number: s for s in sources}
        evidence = self._evidence(sources, question)
        parts = split_answer(answer)
        if parts and not parts[-1][1] and not _ENDS_SENTENCE.search(answer):
            parts = parts[:-1]  # an uncited sentence cut off mid-way (the length limit): nothing to show or check
        titles = _title_patterns(sources, question)
        claims = [_without_titles(c, titles) for c, _ in parts]  # what is claimed, not which paper is named
        vectors = self.embeddings.embed(claims) if self.embeddings and claims else None
        dropped: list[int] = []
        checks: list[tuple[str, list[int], bool | None, bool, float]] = []  # supported None: not a claim
        quotes: dict[int, tuple[float, str]] = {}
        for i, (claim, numbers) in enumerate(parts):
            valid = [n for n in numbers if n in by_number]
            dropped.extend(n for n in numbers if n not in by_number)
            words = content_words(claims[i])
            if is_no_answer(claim) or (len(words) < self.min_claim_words and not valid):
                checks.append((claim, [], None, False, 0.0))  # not a claim: left as written, never counted supported
                continue
            vec = vectors[i] if vectors is not None else None
            scored = {n: self.support(words, vec, evidence[n]) for n in valid}
            keep = [n for n in valid if scored[n][0] >= self.threshold]
            reattributed = False
            if not keep:
                others = {n: self.support(words, vec, ev) for n, ev in evidence.items() if n not in scored}
                scored |= others
                best = max(scored, key=lambda n: scored[n][0], default=None)
                if best is not None and scored[best][0] >= self.threshold:
                    keep, reattributed = [best], bool(valid)
            for n in keep:
                score, sentence = scored[n]
                score += 0.2 * overlap(qwords, sentence) if qwords else 0.0
                if (
                    asked is not None
                    and wants_number
                    and quantities(sentence)
                    and measure_matches(asked.measure, terms(sentence), sentence)
                ):
                    score += 0.3
                if score > quotes.get(n, (-1.0, ""))[0]:
                    quotes[n] = (score, sentence)
            top = max((scored[n][0] for n in keep), default=max((s for s, _ in scored.values()), default=0.0))
            checks.append((claim, keep, bool(keep), reattributed, top))
        checked = self._renumber(checks, by_number, quotes, dropped)
        checked.claims = claims
        return checked

    @staticmethod
    def _renumber(checks, by_number, quotes, dropped) -> CheckedAnswer:
        order: dict[int, int] = {}
        for _, keep, _, _, _ in checks:
            for n in keep:
                order.setdefault(n, len(order) + 1)
        sentences, pieces = [], []
        for claim, keep, supported, reattributed, top in checks:
            new = [order[n] for n in keep]
            body, end = (claim[:-1], claim[-1]) if claim and claim[-1] in ".!?" else (claim, ".")
            if new:
                pieces.append(f"{body} {''.join(f'[{n}]' for n in new)}{end}")
            elif supported is False:
                pieces.append(f"{body} {UNSUPPORTED}{end}")
            else:
                pieces.append(claim)
            sentences.append(
                SentenceCheck(
                    text=claim,
                    citations=new,
                    supported=bool(supported and new),  # support is a cited source's: an uncited sentence has none
                    claim=supported is not None,
                    reattributed=reattributed,
                    support=round(top, 3),
                )
            )
        citations = [
            Citation(number=new, paper=by_number[old].hit.paper, quote=quotes.get(old, (0.0, ""))[1])
            for old, new in sorted(order.items(), key=lambda kv: kv[1])
        ]
        return CheckedAnswer(" ".join(pieces), citations, sentences, dropped)
