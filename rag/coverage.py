"""How much of a question the cited abstracts cover: its words weighted by how rare they are in the index (IDF),
a typo of a source word or a word whose vector is close counting as found; and the lower-case names in a question
that no indexed abstract holds. A mixin of `rag.sufficiency.SufficiencyChecker`, which sets the corpus, the word
embeddings and the `word_match` cosine."""

from __future__ import annotations

import itertools
import math
import re

from rag.corpus.records import normalize
from rag.dimensions import without_asked_unit
from rag.index.terms import CorpusTerms
from rag.normalise import nearest, numerals, unit_of
from rag.quantities import METRIC_WORD, onto_number, unit_word
from rag.question import Question
from rag.support import STOPWORDS, SentenceEmbeddings
from rag.topicless import VERB_FORMS, sums_up
from rag.words import is_common, joined_pairs, ordinary, terms, without_opener


class WordCoverage:
    """Question-word coverage and unknown lower-case names, over `corpus` (index-wide counts), `embeddings` and
    `word_match` (set by the class that mixes this in)."""

    corpus: CorpusTerms | None
    embeddings: SentenceEmbeddings | None
    word_match: float

    def _corpus_count(self, name: str) -> int | None:
        return self.corpus.count(name) if self.corpus is not None else None

    def _chunks(self) -> int:
        """How many chunks the index holds (0 without term statistics)."""
        return self.corpus.size if self.corpus is not None else 0

    def _idf(self, word: str, total: int) -> float:
        """A word's weight by its rarity among the index's `total` chunks (1.0 without term statistics)."""
        count = self.corpus.count(word) if self.corpus is not None and total else None
        return math.log(1 + total / (1 + count)) if count is not None else 1.0

    def coverage(self, question: Question, source_text: str) -> tuple[float, list[str]]:
        """IDF-weighted share of the question's words found in the sources, and the missing words as written. A
        question with a preamble is read both ways, whole and as its asking clause, and the better reading counts:
        a preamble may describe the paper in its own words, or only the reader's plans."""
        best = self._coverage(question.core, source_text)
        whole = without_opener(question.text)
        if whole != question.core:
            best = max(best, self._coverage(whole, source_text), key=lambda found: found[0])
        return best

    def _coverage(self, text: str, source_text: str) -> tuple[float, list[str]]:
        words = question_words(without_asked_unit(text))  # "in degrees Celsius": "773 K" states it too
        if not words:
            return 1.0, []
        present = terms(source_text, join=True)
        total = self._chunks()
        weights = {stem: self._idf(stem, total) for stem in words}
        covered = set(weights) & present
        for joined, first, second in joined_pairs(text):  # "band gap" asked, "bandgap" written
            if terms(joined) & present:
                covered |= (terms(first) | terms(second)) & set(weights)
        covered |= self._misspelt({stem: words[stem] for stem in weights if stem not in covered}, source_text)
        covered |= self._paraphrased({stem: words[stem] for stem in weights if stem not in covered}, source_text)
        weight = sum(weights.values())
        found = sum(w for stem, w in weights.items() if stem in covered)
        absent = [words[stem] for stem in sorted(weights, key=lambda s: -weights[s]) if stem not in covered]
        return (found / weight if weight else 1.0), list(dict.fromkeys(absent))[:3]  # 'TPUs' has two stems

    def _rare(self, question: Question, source_text: str) -> tuple[str, ...]:
        """Names written in lower case that no indexed abstract holds ("auc on criteo"): question words that are
        not ordinary words, that no indexed abstract has, and that are neither an abbreviation ("params") nor a
        typo (two edits at most) of a word of the sources. Capitalisation does not decide whether a word names
        something; the index does."""
        if self.corpus is None:
            return ()
        named = {normalize(n) for n in question.names}
        vocabulary: set[str] | None = None
        out: list[str] = []
        for stem, word in question_words(question.core).items():
            if not (word.isalpha() and word.islower() and len(word) >= 4) or word in named:
                continue
            if self._corpus_count(word) != 0:  # cached: checked before the fuzzy search over ordinary words
                continue
            if unit_of(word) is not None or unit_of(stem) is not None or numerals(word) != word or ordinary(word):
                continue  # "milliseconds", "twenty", "acuracy": a unit, a number or an ordinary word, not a name
            if onto_number(word, source_text):
                continue  # a unit the sources write onto its number ("kbps" asked, "3kbps" written)
            if vocabulary is None:
                vocabulary = set(_SOURCE_WORD.findall(source_text.lower()))
            if any(v.startswith(stem) for v in vocabulary) or self._abbreviates(stem):
                continue  # an abbreviation of a source word or an indexed one ("params")
            if _near(word, vocabulary, 2) or self._indexed_typo(word):
                continue  # a typo of a source word or of an indexed one ("pretrainig")
            out.append(word)
        return tuple(out)

    def measure_unspoken(self, question: Question, source_text: str) -> bool:
        """Whether the cited abstracts never speak of the named metric a number question asks for: every word
        setting it apart ("hazard" ratio, "carotid intima-media" thickness) is missing from `source_text`
        (normalised, acronyms expanded), nor is one a typo of a source word. A degree word ("faster", "mean"), a
        unit or a name the question asks about sets nothing apart."""
        phrase = question.measure_phrase.split()
        if len(phrase) < 2 or not METRIC_WORD.fullmatch(phrase[-1].lower()):
            return False
        names = {normalize(n) for n in question.names}
        apart = [
            w
            for w in phrase[:-1]
            if not _degree(w) and not unit_word(w) and normalize(w) not in names and self._rare_word(w)
        ]
        if not apart:
            return False
        present, vocabulary = terms(source_text), set(_SOURCE_WORD.findall(source_text))
        prefixes = {v[:5] for v in vocabulary if len(v) >= 5}  # "succeeds" for "success"
        if any(terms(w) & present or _near(w.lower(), vocabulary, 1) or w.lower()[:5] in prefixes for w in apart):
            return False
        return not any(re.search(rf"\b{re.escape(s)}\b", source_text) for s in _symbols(phrase[-1], apart))

    def _rare_word(self, word: str) -> bool:
        """Whether at most `DISTINCT_SHARE` of the indexed chunks hold a word ("test", "inference" and "overall" are
        too common to set a metric apart; "hazard", "carotid" are not)."""
        count, total = self._corpus_count(word), self._chunks()
        return count is None or not total or count <= DISTINCT_SHARE * total

    def _indexed_typo(self, word: str) -> bool:
        has_typo_of = getattr(self.corpus, "has_typo_of", None)
        return bool(has_typo_of and has_typo_of(word))

    def _abbreviates(self, stem: str) -> bool:
        has_prefix = getattr(self.corpus, "has_prefix", None)
        return bool(has_prefix and has_prefix(stem))

    def _misspelt(self, absent: dict[str, str], source_text: str) -> set[str]:
        """The absent question stems whose word is a typo of a source word: no indexed abstract has the word, and
        one edit (insert, delete, replace, swap) makes it a source word ("accuraccy", "propsed", "detecton")."""
        asked = {stem: word.lower() for stem, word in absent.items() if len(word) >= 5 and word.isalpha()}
        if not asked:
            return set()
        vocabulary = set(_SOURCE_WORD.findall(source_text.lower()))
        return {stem for stem, word in asked.items() if self._corpus_count(word) == 0 and _near(word, vocabulary, 1)}

    def _paraphrased(self, absent: dict[str, str], source_text: str) -> set[str]:
        """The absent question stems that some source word matches by word-embedding cosine >= `word_match`."""
        if not absent or self.embeddings is None or self.word_match > 1:
            return set()
        words = (w for w in _SOURCE_WORD.findall(source_text) if w not in STOPWORDS)
        vocabulary = list(itertools.islice(dict.fromkeys(words), MAX_VOCABULARY))  # a 100k-character abstract
        asked = [absent[stem].lower() for stem in absent]
        vectors = self.embeddings.embed(asked + vocabulary) if vocabulary else None
        if vectors is None:
            return set()
        best = (vectors[: len(asked)] @ vectors[len(asked) :].T).max(axis=1)
        return {stem for stem, cos in zip(absent, best, strict=True) if cos >= self.word_match}


MAX_VOCABULARY = 3000
"""Distinct source words compared with the question's (in order of appearance): a few abstracts hold a few
hundred; the cap bounds the embedding work a huge, hostile abstract could ask for."""
_SOURCE_WORD = re.compile(r"\b[a-z][a-z\-]{2,}\b")
_QUESTION_WORDS = VERB_FORMS | frozenset(
    "mani much long fast larg big small tall what which who how reach achiev get obtain report call name accord "
    "give use train take need doe did versus vs".split()
)
"""Stems a question asks with, not about; with the forms of verbs whose other forms are STOPWORDS: the abstract's
"we propose" is no term, so the question's "proposes" must not be asked of it."""


def _symbols(head: str, apart: list[str]) -> set[str]:
    """The symbols a metric may be written as, in lower case: the head's initial with the first distinguishing
    word's ("Tg", glass transition temperature; "Tc"), or with all their parts' ("Voc", open-circuit voltage), and
    the distinguishing initials alone ("Q" factor)."""
    parts = "".join(p[0] for w in apart for p in w.lower().split("-") if p)
    h = head[0].lower()
    return {h + apart[0][0].lower(), h + parts, parts}


DISTINCT_SHARE = 0.05
"""The largest share of indexed chunks a word may appear in and still set a named metric apart (measured: "test"
and "validation" appear in about one chunk in ten of the bundled and SciFact corpora, "hazard" and "character" in
one in thirty or fewer)."""


def _degree(word: str) -> bool:
    """Whether a word grades a measure rather than naming one: a stop word, a measure word ("mean", "peak"), a
    comparative or superlative of an ordinary word ("faster", "largest", "easier", "bigger", "less")."""
    w = word.lower()
    if w in STOPWORDS or METRIC_WORD.fullmatch(w) or w in _DEGREE_WORDS:
        return True
    for ending in ("er", "est"):
        if w.endswith(ending) and len(w) > len(ending) + 2:
            base = w[: -len(ending)]
            bases = {base, base + "e", base[:-1] + "y" if base.endswith("i") else base}  # fast, large, easy
            if len(base) > 3 and base[-1] == base[-2]:
                bases.add(base[:-1])  # bigg-er
            return any(len(b) >= 3 and is_common(b) for b in bases)
    return False


_DEGREE_WORDS = frozenset("better best worse worst less least more most fewer fewest".split())


def _near(word: str, vocabulary: set[str], edits: int) -> bool:
    """Whether `edits` edits at most (insert, delete, replace, swap) make `word` one of `vocabulary`."""
    return nearest(word, vocabulary, edits) is not None


def question_words(text: str) -> dict[str, str]:
    """The question's content stems mapped to the word as written (question words and verbs dropped)."""
    out: dict[str, str] = {}
    tokens = re.findall(r"[A-Za-z0-9][\w\-]*|[^\w\s]", text)
    lowered = [t.lower() for t in tokens]
    for at, word in enumerate(tokens):
        if not word[0].isalnum() or sums_up(lowered, at):
            continue  # a mark; "the upshot of X", "its main idea": no abstract need write them
        for stem in terms(word):  # "short-term" is one word asked, not a third one, "shortterm"
            if stem not in _QUESTION_WORDS and not stem.isdigit():
                out.setdefault(stem, word)
    return out
