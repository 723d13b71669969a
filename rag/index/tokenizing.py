"""What the lexical index reads of a text: bm25s's tokens, English stopwords left out, Snowball stems, and subscript
digits read as plain ones (an abstract's "GdYH₅" is the "GdYH5" a question types)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any


def bm25s_module() -> Any:
    """The bm25s package, imported on first use and kept quiet (it sets DEBUG on import)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def stemmer() -> Any:
    """An English Snowball stemmer."""
    import Stemmer

    return Stemmer.Stemmer("english")


def plain(texts: Iterable[str]) -> list[str]:
    """Texts as indexed and queried: subscript digits as plain ones ("GdYH₅", "La₃Ni₂O₇", "T₁" as "GdYH5", "La3Ni2O7",
    "T1"), which is how questions write them (bm25s would keep "gdyh₅" as its own term). Not superscripts: "10⁵",
    "m²" and "n²" are powers, not "105", "m2" (a muscarinic receptor) or "n2" (nitrogen)."""
    return [t if t.isascii() else _SUBSCRIPTS.sub(lambda m: m.group(0).translate(_SUBSCRIPT_DIGITS), t) for t in texts]


def tokenize(texts: Iterable[str], stem: Any) -> Any:
    """bm25s's tokens of `texts` (ids and vocabulary), as the index stores them."""
    return bm25s_module().tokenize(plain(texts), stopwords="en", stemmer=stem, show_progress=False)


def query_terms(query: str, stem: Any, plain_digits: bool = True) -> list[str]:
    """A query's stemmed terms, stopwords removed, repeats kept; `plain_digits` False for an index saved before
    subscript digits were read as plain ones."""
    texts = plain([query]) if plain_digits else [query]
    tokens = bm25s_module().tokenize(texts, stopwords="en", stemmer=stem, return_ids=False, show_progress=False)
    return [t for t in tokens[0] if t]


_SUBSCRIPTS = re.compile("[₀-₉]+")
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
