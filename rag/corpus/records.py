"""What every reader yields, and the text normalisation used for ids and dedup."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from rag.corpus.latex import unwrap_latex

_NON_WORD = re.compile(r"[^0-9a-z]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")
_ARXIV_ID = re.compile(r"^(?:arxiv:)?(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$", re.I)


@dataclass
class RawPaper:
    """A paper as one reader saw it, before dedup and id assignment."""

    title: str
    abstract: str
    source: str
    line: int
    authors: tuple[str, ...] = ()
    author_count: int | None = None
    date: str | None = None
    url: str | None = None
    given_id: str | None = None
    categories: tuple[str, ...] = ()
    title_derived: bool = False


def normalize(text: str) -> str:
    """Lower-case, accent-folded, punctuation-free text for matching copies of a paper."""
    if not text.isascii():  # accent folding is the slow part; most abstracts need none
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", text.lower()).strip()


_GREEK = dict(
    zip(
        "αβγδεζηθικλνξοπρσςτυφχψωΓΔΘΛΞΠΣΦΨΩ",
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda nu xi omicron pi rho sigma sigma tau "
        "upsilon phi chi psi omega gamma delta theta lambda xi pi sigma phi psi omega".split(),
        strict=True,
    )
)  # not mu: "μm", "µM" are micro-units far more often than names
GREEK_SIGNS = {name: sign for sign, name in reversed(_GREEK.items()) if sign.islower()}
"""Each Greek letter's name and its small sign ("beta": "β"; "sigma": "σ", not the final "ς")."""
_GREEK_LETTER = "".join(_GREEK)
_ATTACHED_GREEK = re.compile(  # "$α$-MnTe": a LaTeX math sign between the letter and its name attaches it
    rf"(?<=[A-Za-z0-9\-])\$?[{_GREEK_LETTER}]|(?<=[A-Za-z0-9\-]\$)[{_GREEK_LETTER}]|"
    rf"[{_GREEK_LETTER}](?=\$?[A-Za-z0-9\-])|(?<=[{_GREEK_LETTER}]/)[{_GREEK_LETTER}]|"  # "IL-1α/β"
    rf"(?<=[{_GREEK_LETTER}], )[{_GREEK_LETTER}]|(?<=[{_GREEK_LETTER}] and )[{_GREEK_LETTER}]|"  # "ERα and β"
    rf"(?<=[{_GREEK_LETTER}] or )[{_GREEK_LETTER}]"
)


def spell_greek(text: str) -> str:
    """The text with each Greek letter that is part of a name written as the letter's name, for matching ("IFNγ"
    ~ "IFN-gamma", "α-MnTe" ~ "alpha-MnTe", "NF-κB"); `normalize` drops them. A letter standing alone is a symbol
    ("Spearman ρ = 0.41"), not part of a name."""
    if text.isascii():
        return text
    return _ATTACHED_GREEK.sub(lambda m: f" {_GREEK[m.group(0)[-1]]} ", text)


_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f\ud800-\udfff]")


def clean_space(text: str) -> str:
    """Collapse runs of whitespace into single spaces and drop control characters (ids, column names)."""
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """Prose a reader sees (titles, abstracts, author names): `clean_space` after unwrapping LaTeX markup."""
    return clean_space(unwrap_latex(text))


def derive_title(abstract: str, max_words: int = 12) -> str:
    """A short display title made from an abstract's first sentence."""
    first = _SENTENCE_END.split(abstract.strip(), maxsplit=1)[0].rstrip(".")
    words = first.split()
    if len(words) > max_words:
        return " ".join(words[:max_words]) + "…"
    return " ".join(words)


def arxiv_id(value: str | None) -> str | None:
    """The bare arXiv id (no version) when `value` is one, else None."""
    if not value:
        return None
    m = _ARXIV_ID.match(value.strip())
    return m.group(1) if m else None


def content_hash(title: str, abstract: str) -> str:
    """A short stable hash of a paper's normalised title and abstract."""
    key = normalize(title) + "\n" + normalize(abstract)
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences (a light rule: end mark, space, capital)."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]
