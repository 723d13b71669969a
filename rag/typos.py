"""One-edit typos of the words that type a question ("acuracy", "datsets") fixed before it is typed."""

from __future__ import annotations

import re

from rag.names import KIND_WORDS
from rag.normalise import nearest
from rag.quantities import METRIC, NAMED_MEASURE
from rag.words import is_common

_METRIC_WORDS = tuple(
    sorted({w for w in re.findall(r"[a-z]+", (METRIC + NAMED_MEASURE).replace("?", "")) if len(w) >= 6})
)
_KIND_TYPING = tuple(sorted(w for w in KIND_WORDS if len(w) >= 7))
_TYPING_WORDS = tuple(sorted({*_METRIC_WORDS, *_KIND_TYPING}))


def fixed_typing_typos(text: str) -> str:
    """One-edit typos of the metric and kind words that type a question fixed ("acuracy" -> "accuracy", "datsets"
    -> "datasets"), so that a tired person's question is read as the careful one; a word the vocabulary knows is
    left alone."""

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        lowered = word.lower()
        if len(lowered) < 6 or lowered in _TYPING_WORDS or is_common(lowered):
            return word
        fixed = nearest(lowered, _TYPING_WORDS, 1)
        if fixed is None or (fixed in _KIND_TYPING and _inflected(lowered, fixed)):
            return word  # "optimized", "solves": a verb's form, not a typo of "optimizer"
        return fixed

    return re.sub(r"[A-Za-z]+", fix, text)


def _inflected(word: str, kind: str) -> bool:
    """Whether a word differs from a kind word only in its last two letters ("optimized" / "optimizer")."""
    stem = kind[:-2]
    return word.startswith(stem) and len(word) - len(stem) <= 3
