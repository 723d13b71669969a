"""Shared text evidence tools: sentences of sources, content-word overlap and sentence embeddings.

Used by the extractive answerer (to pick sentences) and the citation checker (to verify them).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache

import numpy as np

from rag.corpus.records import split_sentences
from rag.index.embedders import Embedder

_WORD = re.compile(r"[a-z0-9][a-z0-9\-]*")
SCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹", "01234567890123456789")
"""Subscript and superscript digits to plain ones ("T₁" -> "T1", "R²" -> "R2", "La₃Ni₂O₇" -> "La3Ni2O7")."""
_SCRIPTED = re.compile(r"(?<=[a-z])\$?[_^]\{?(\d{1,2})\}?\$?(?![\w}])")  # "t_1", "t_{1}", "t$_1$", "r^2"
STOPWORDS = frozenset(
    (
        "a an the and or but of in on at to for from by with without as is are was were be been being this "
        "that these those it its their there here which who whom whose what when where why how than then so "
        "such not no nor into onto over under about between through during before after above below up down "
        "out off again further once we our you your they them he she his her i me my do does did doing have "
        "has had having can could should would will may might must shall also more most other some any each "
        "few both all only own same very just paper papers work study propose proposed present presents show "
        "shows shown use uses used using based new approach method methods model models one two three via "
        "while whereas however thus therefore "
    ).split()
)


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def content_words(text: str) -> set[str]:
    """Stemmed content words (stopwords removed); a symbol with an index or power digit is one word, however
    written ("T₁", "T_1", "T_{1}" and "T1" are "t1"; "R²", "R^2" and "R2" are "r2")."""
    text = _SCRIPTED.sub(r"\1", text.lower().translate(SCRIPT_DIGITS))
    words = [w.strip("-") for w in _WORD.findall(text)]
    words = [w for w in words if w and w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return set(_stemmer().stemWords(words))


def overlap(claim: str | set[str], evidence: str | set[str]) -> float:
    """Share of the claim's content words found in the evidence (1.0 for a claim with none)."""
    c = content_words(claim) if isinstance(claim, str) else claim
    e = content_words(evidence) if isinstance(evidence, str) else evidence
    return len(c & e) / len(c) if c else 1.0


RESTATING_SHARE = 0.75
"""A title restates a question when it holds this share of the question's words, function words included ('how
much ... does ... than'), and of its content words: a copy does; a title the question names ('how large is the
speed-up of the CUDA code generator for relational graph neural networks?') holds at most about two thirds."""
RESTATING_WORDS = 4
"""...and the question has at least this many content words (fewer make a name, not a question)."""


def restates_question(question: str, title: str) -> bool:
    """Whether a paper's title restates the question (a poisoned paper copies it): such a title says nothing about
    what the paper found, so it earns the paper no trust, in ranking, in support checks or in sufficiency."""
    asked = content_words(question)
    if len(asked) < RESTATING_WORDS or overlap(asked, content_words(title)) < RESTATING_SHARE:
        return False
    words = _WORD.findall(question.lower())
    held = set(_WORD.findall(title.lower()))
    return sum(w in held for w in words) >= RESTATING_SHARE * len(words)


class SentenceEmbeddings:
    """Embeds sentences with the index's embedder, remembering recent ones."""

    def __init__(self, embedder: Embedder | None, capacity: int = 20000) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.capacity = capacity
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray | None:
        """Unit vectors for `texts` (None when no embedder is available)."""
        if self.embedder is None or not texts:
            return None
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        fresh = dict(zip(missing, self.embedder.embed(missing), strict=True)) if missing else {}
        with self._lock:
            self._cache.update(fresh)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
            return np.stack([self._cache[t] if t in self._cache else fresh[t] for t in texts])


def sentences_of(text: str) -> list[str]:
    """A passage's sentences (a passage with no sentence break is one sentence)."""
    return split_sentences(text) or [text]
