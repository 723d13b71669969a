"""Names holding a Greek letter ("IL-1β", "NF-kappaB", "Aβ42"): matched with the letter signed or spelled, attached or
apart, or in a list of letters, and told apart from the same name with another letter ("IL-1α")."""

from __future__ import annotations

import re

from rag.corpus.records import GREEK_SIGNS, normalize, spell_greek

# the letters spelled in three letters or more ("nu", "xi", "pi" are too short to be read in a name)
_SIGNS = {name: sign for name, sign in GREEK_SIGNS.items() if len(name) >= 3}
GREEK_NAMES = frozenset(_SIGNS)
"""The Greek letters' names read in a name ("IL-1beta", "PKC-eta")."""
_GREEK_NAME = re.compile("|".join(_SIGNS))
_GREEK_PART = re.compile(  # a letter's name as a part of a name: "IL-1beta", "NF-kappaB", "Abeta42", "alpha-MnTe"
    rf"(?:^|(?<=[A-Z\d\-]))(?i:{'|'.join(g for g in _SIGNS if len(g) >= 4)})(?=$|[A-Z\d\-])"
)  # not "eta", "psi", "tau": "Meta-Llama", "PSIS", "ETAS"


MAX_GREEK_KEY = 48
"""Longest name (its letters, Greek ones spelled) read for its Greek letter; a longer token is no name."""


def _greek_key(name: str) -> str | None:
    """A name's letters with its Greek letters spelled ("IL-1β" -> "il1beta"), when it holds one and is no longer
    than `MAX_GREEK_KEY`; None otherwise ("beta" alone is a word, not a name holding a letter)."""
    spelled = spell_greek(name)
    key = normalize(spelled).replace(" ", "")
    if (spelled == name and not _GREEK_PART.search(name)) or not _GREEK_NAME.search(key):
        return None
    return None if len(key) > MAX_GREEK_KEY or _GREEK_NAME.fullmatch(key) else key


def greek_in(name: str, normalized_text: str) -> bool | None:
    """Whether a text names a name holding a Greek letter: True when it writes it with that letter, signed or
    spelled, attached or apart ("IL-1β" ~ "IL-1beta", "NF-kappaB" ~ "NF-κB", "Aβ42" ~ "Abeta42"), or in a list of
    letters ("IL-1α/β", "α-, β- and γ-CD"); False when it writes the name only with another letter ("IL-1α" for
    "IL-1β", "PPAR-gamma" for "PPARα"); None otherwise (no Greek letter in the name, or a text naming it with no
    letter by it: "TNF α" and "IL-1ß" lose theirs to normalising, so the name is matched without it,
    `without_greek`). The text is normalised with its Greek letters spelled (`AcronymMap.expand`)."""
    key = _greek_key(name)
    if key is None:
        return None
    key = key[:-1] if key.endswith("s") and len(key) > 4 else key  # "β-blockers" ~ "beta-blocker therapy"
    pieces = [p for p in re.split(f"({_GREEK_NAME.pattern})", key) if p]  # "il1beta": "il1", "beta"
    if re.search(r"\b" + r"\s?".join(_spelled(p) for p in pieces) + r"s?\b", normalized_text):
        return True
    base = r"\s?".join(_spelled(p) for p in pieces if p not in _SIGNS)
    if not base:
        return None
    others = "|".join(g for g in _SIGNS if g not in pieces)
    between = rf"(?:{others})\s(?:(?:{others}|and|or)\s){{0,3}}"  # another letter first: "α/β", "α and β"
    listed = ""
    if pieces[-1] in _SIGNS:
        listed = rf"\b{base}\s?{between}{_spelled(pieces[-1])}s?\b"
    elif pieces[0] in _SIGNS:  # "α-, β- and γ-CD"
        listed = rf"\b{_spelled(pieces[0])}\s(?:(?:{others}|and|or)\s){{0,3}}(?:{others})\s?{base}s?\b"
    if listed and re.search(listed, normalized_text):
        return True
    found = [m.span() for m in re.finditer(rf"\b{base}s?\b", normalized_text)]
    asked = "|".join(_spelled(p) for p in pieces if p in _SIGNS)
    lettered = [  # another letter by it, and not the asked one a few words on ("IL-1α as well as -β")
        (
            re.search(rf"(?:{others})\s?$", normalized_text[max(0, a - 9) : a])
            or re.match(rf"\s?(?:{others})", normalized_text[b : b + 9])
        )
        and not re.match(rf"(?:\W+\w+){{0,5}}?\W+(?:{asked})\b", normalized_text[b : b + 60])
        for a, b in found
    ]
    return False if found and all(lettered) else None  # every mention with another letter: another thing


def coded(word: str) -> bool:
    """Whether a word is written as a code, two capitals or digits at least ("IFN", "IL-1", "PKC"; not "Lyman"): a
    Greek letter spelled after its hyphen is part of its name ("IFN-gamma")."""
    return sum(c.isupper() or c.isdigit() for c in word) >= 2


def without_greek(name: str) -> str:
    """A coded name without the Greek letter spelled after its hyphen ("TNF-alpha" -> "TNF", "PKC-delta" -> "PKC"),
    to match where the text names it with no letter by it, as a signed one is (normalising drops the sign); another
    name as it is ("IL-1beta", "Beta-VAE", "H-Beta")."""
    head, _, last = name.rpartition("-")
    return head if coded(head) and last.lower() in _SIGNS and _greek_key(name) is not None else name


def _spelled(piece: str) -> str:
    """A pattern for a piece of a name's key: a Greek letter's name or its sign, or the piece's characters with
    optional spaces between them."""
    return f"(?:{piece}|{_SIGNS[piece]})" if piece in _SIGNS else r"\s?".join(map(re.escape, piece))
