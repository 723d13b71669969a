"""One thing said two ways: acronyms and their long forms, numbers in words or digits, compounds written apart.

Nothing here is a list of domain terms. Acronyms are harvested from the abstracts themselves ("long short-term
memory (LSTM)", "mAP (mean average precision)"), kept only when the acronym's letters are the initials (or the
first letters) of the long form's words, and stored with the index (`rag.acronyms.AcronymMap`). Numbers are read in any
spelling ("three" = "3", "1.2k" = "1,200" = "1200", "3M" = "3 million") and units by their abbreviation
("ms" = "milliseconds", "%" = "percent" = "per cent", "x" = "times" = "fold"). Compounds match their parts:
"dataset" = "data set", "seq2seq" = "sequence-to-sequence", "RNNs" = "RNN".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from rag.acronyms import MINOR_WORDS, TOKEN, is_acronym, singular_acronym
from rag.corpus.records import normalize

# --- numbers and units ----------------------------------------------------------------------

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_SUFFIX_SCALES = {"k": 1000, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
_NUMBER_WORD = "|".join(sorted(_ONES, key=len, reverse=True))
_SCALE_WORD = "|".join(_SCALES)
_DIGITS = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SPELLED = re.compile(
    rf"\b(?:(?P<digits>{_DIGITS})|(?P<words>(?:{_NUMBER_WORD})(?:[\s\-]+(?:{_NUMBER_WORD}))*))"
    rf"(?P<scales>(?:[\s\-]+(?:{_SCALE_WORD})\b)*)(?(digits)|\b)",
    re.I,
)
UNITS: dict[str, tuple[str, ...]] = {
    "ms": ("millisecond", "milliseconds", "msec"),
    "s": ("second", "seconds", "sec", "secs"),
    "min": ("minute", "minutes", "mins"),
    "h": ("hour", "hours", "hr", "hrs"),
    "%": ("percent", "per cent", "percentage points", "pct"),
    "x": ("times", "fold", "×"),
    "k": ("thousand",),
    "m": ("million",),
    "b": ("billion",),
}
"""Each unit's abbreviation and its other spellings."""
_UNIT_OF = {spelling: unit for unit, spellings in UNITS.items() for spelling in (unit, *spellings)}


def nearest(word: str, vocabulary: Iterable[str], edits: int) -> str | None:
    """The word of `vocabulary` at most `edits` edits (insert, delete, replace, swap) from `word`, or None."""
    found = process.extractOne(word, vocabulary, scorer=DamerauLevenshtein.distance, score_cutoff=edits)
    return found[0] if found is not None else None


def typo_edits(word: str) -> int:
    """How many edits a typo of `word` may hold: one in a word of six letters or fewer, two in a longer one."""
    return 1 if len(word) <= 6 else 2


def unit_of(word: str) -> str | None:
    """The abbreviation of a unit written any way ("milliseconds" -> "ms", "per cent" -> "%"), else None."""
    return _UNIT_OF.get(" ".join(word.lower().split()))


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _words_value(words: str) -> int | None:
    """'twenty five' -> 25, 'two' -> 2; None for a run that is not one number ('two three')."""
    total, last = 0, None
    for w in re.split(r"[\s\-]+", words.lower()):
        if w == "and":
            continue
        v = _ONES[w]
        if last is not None and not (last >= 20 and last % 10 == 0 and v < 10):
            return None
        total, last = total + v, v
    return total


def numerals(text: str) -> str:
    """The text with spelled numbers in digits: 'three milliseconds' -> '3 milliseconds', 'two hundred' -> '200',
    '1.2 million' -> '1200000', 'per cent' -> '%'."""

    def digits(m: re.Match[str]) -> str:
        scale = 1
        for s in re.findall(_SCALE_WORD, m.group("scales") or "", re.I):
            scale *= _SCALES[s.lower()]
        if m.group("digits") is not None:
            if scale == 1:
                return m.group(0)
            value = Decimal(m.group("digits").replace(",", ""))
        else:
            words = _words_value(m.group("words"))
            if words is None:  # "two three": each on its own
                return re.sub(_NUMBER_WORD, lambda w: str(_ONES[w.group(0).lower()]), m.group(0), flags=re.I)
            value = Decimal(words)
        return _decimal_text(value * scale)

    text = re.sub(r"\bper\s+cent\b", "%", text, flags=re.I)
    text = re.sub(rf"\b(?:a|one)\s+({_SCALE_WORD})\b", r"1 \1", text, flags=re.I)
    return _SPELLED.sub(digits, text)


def number_forms(quantity: str) -> set[str]:
    """The values a stated quantity may stand for, as plain decimals: '1.2k' -> {'1.2', '1200'}, '1,200' ->
    {'1200'}, '3M' -> {'3', '3000000'}, 'three' -> {'3'}; empty for one that is no number ('half', 'dozens')."""
    text = numerals(quantity.strip())
    m = re.match(rf"({_DIGITS})(?:\s?([kKmMbBgGtT])(?![a-zA-Z]))?", text)
    if not m:
        return set()
    try:
        value = Decimal(m.group(1).replace(",", ""))
    except InvalidOperation:
        return set()
    forms = {_decimal_text(value)}
    suffix = m.group(2) or ""
    if suffix in ("k", "K", "M", "B", "G", "T"):  # lower-case m, b, g, t are metres, bits, grams, tonnes
        forms.add(_decimal_text(value * _SUFFIX_SCALES[suffix.lower()]))
    return forms


_UNIT_WORDS = "|".join(sorted((re.escape(s) for s in _UNIT_OF if len(s) > 1), key=len, reverse=True))
_SPELLED_SETTING = re.compile(
    rf"\b(?:{_NUMBER_WORD})(?:[\s\-]+(?:{_NUMBER_WORD}|{_SCALE_WORD}))*[\s\-]+(?:{_UNIT_WORDS})\b", re.I
)


def spelled_settings(text: str) -> list[str]:
    """Numbers written in words and followed by a unit ("three milliseconds", "twenty percent"), in digits: a
    question stating one sets a condition the sources must hold, like "at 3 ms"."""
    out = []
    for m in _SPELLED_SETTING.finditer(text):
        forms = number_forms(numerals(m.group(0)))
        out.extend(sorted(forms))
    return out


# --- compounds and variants -----------------------------------------------------------------


def _to_compound(key: str) -> re.Pattern[str] | None:
    """'seq2seq' ~ 'sequence to sequence' and back: a compound joined by '2' / 'to' (the words' first three
    letters match)."""
    parts = re.fullmatch(r"([a-z]{3,})\s*(?:2|to)\s*([a-z]{3,})", key.replace(" ", "")) or re.fullmatch(
        r"([a-z]{3,}) (?:2|to) ([a-z]{3,})", key
    )
    if not parts:
        return None
    a, b = parts.group(1), parts.group(2)
    return re.compile(rf"\b{a[:3]}[a-z]*(?: ?2 ?| to ){b[:3]}[a-z]*\b")


_LETTER_DIGIT = re.compile(r"(?<=[a-z]{2})(?=\d)")


def variant_in(name: str, normalized_text: str) -> bool:
    """Whether a name occurs in a (normalised) text written another way: as one word or as its parts ("data set" ~
    "dataset", "pre training" ~ "pretraining"), or as a to-compound ("seq2seq" ~ "sequence to sequence")."""
    key = normalize(name)
    if not key:
        return False
    joined = key.replace(" ", "")
    padded = f" {normalized_text} "
    if " " in key and any(f" {form} " in padded for form in (joined, f"{joined}s")):
        return True
    compound = _to_compound(key)
    if compound is not None and compound.search(normalized_text):
        return True
    spaced = _LETTER_DIGIT.sub(" ", key)  # "WMT14" written "WMT'14", "GPT4" written "GPT-4"; not "A100" ~ "a 100"
    if spaced != key and re.search(rf" {re.escape(spaced)} (?!\d)", padded):  # nor "GPT3" ~ "GPT-3.5"
        return True
    if " " not in key and len(key) >= 6:  # "dataset" written "data set"
        words = normalized_text.split()
        for w1, w2 in itertools.pairwise(words):
            if w1 + w2 in (key, f"{key}s") or (key.endswith("s") and w1 + w2 == key[:-1]):
                return True
    return False


# --- acronyms no abstract defines -----------------------------------------------------------

MAX_INITIALS = 6
"""Longest acronym matched to a phrase by initials alone (without a definition in the corpus)."""


def _initial_letters(token: str) -> str | None:
    """An acronym-like token's letters ('mAP' -> 'map', 'LSTMs' -> 'lstm'); None for other tokens or long ones."""
    if not is_acronym(token):
        return None
    letters = singular_acronym(token)
    return letters.lower() if letters.isalpha() and 2 <= len(letters) <= MAX_INITIALS else None


def initials_in(name: str, normalized_text: str) -> bool:
    """Whether a text spells out an acronym-like name word by word ('mAP' ~ 'mean average precision', 'LSTMs' ~
    'long short term memory'); a minor word may stand between ('BoW' ~ 'bag of words')."""
    letters = _initial_letters(name)
    if letters is None:
        return False
    minor = "|".join(MINOR_WORDS)
    words = rf"\s+(?:(?:{minor})\s+)?".join(rf"{c}[a-z0-9]*" for c in letters)
    return re.search(rf"\b{words}\b", normalized_text) is not None


_FUNCTION_WORDS = frozenset(
    "the a an this that these those its their our of in on at for to by with from and or not no does do did is are "
    "was were be been has have had can could will would should how what which who whose".split()
)
_PREFIXED = re.compile(r"(?<![A-Za-z0-9])([a-z]{1,4})([A-Z]{3,})s?(?![A-Za-z0-9])")


def prefixed_acronyms(question: str, text: str) -> list[str]:
    """The question's "<words> <ACRONYM>" phrases ("mitochondrial DNA", "small interfering RNA") that a text writes
    as one prefixed acronym ("mtDNA", "siRNA"), normalised: a prefix of two letters or more, spelled in order by the
    word before the acronym or the initials of the two words before it, neither a function word. Not "tACS" for an
    ACS the question names alone, nor "tRNA" for "the RNA", nor "mtDNA" for "metformin damage DNA"."""
    words = question.split()
    tails = [_letters_at_end(w) for w in words]  # a word's letters up to the space after it
    out = set()
    for prefix, acronym in {(m.group(1), m.group(2)) for m in _PREFIXED.finditer(text)}:
        if len(prefix) < 2:
            continue  # "tRNA", "cDNA", "mBERT": one letter spells "the", "total", "cell-free" as well
        spelled = re.compile("[a-z-]*".join(re.escape(c) for c in prefix))
        at = re.compile(rf"{acronym}s?\b")
        for i in range(1, len(words)):
            tail = tails[i - 1]
            if tail is None or not at.match(words[i]):
                continue
            one = tail.lower()
            before = tails[i - 2] if i >= 2 and tail == words[i - 1] else None  # the word before a whole word
            two = before.lower() if before else ""
            if one in _FUNCTION_WORDS:
                continue
            if spelled.match(one):  # "mitochondrial DNA", "single-cell RNA"
                out.add(normalize(f"{one} {acronym}"))
            elif two and two not in _FUNCTION_WORDS and len(prefix) == 2 and two[0] + one[0] == prefix:
                out.add(normalize(f"{two} {one} {acronym}"))  # "small interfering RNA": the words' initials
    return sorted(out)


def _letters_at_end(word: str) -> str | None:
    """The run of letters and hyphens a word ends in ("(mitochondrial" -> "mitochondrial"), in linear time; None
    when it ends in another character."""
    m = re.match(r"[A-Za-z\-]+", word[::-1])
    return m.group()[::-1] if m else None


def abbreviated(question: str, text: str) -> list[str]:
    """The question's phrases that a text writes as an acronym, normalised: spelled out ("mean average precision" for
    mAP), before an acronym's prefix ("mitochondrial DNA" for mtDNA) or its hyphenated one ("conductive-AFM" for
    C-AFM)."""
    return spelled_out(question, text) + prefixed_acronyms(question, text) + hyphen_prefixed(question, text)


_HYPHEN_PREFIXED = re.compile(r"(?<![A-Za-z0-9\-])([A-Z]{1,3})-([A-Z]{2,})s?(?![A-Za-z0-9])")


def hyphen_prefixed(question: str, text: str) -> list[str]:
    """The question's "<words> <ACRONYM>" phrases ("conductive-AFM", "time-resolved ARPES") that a text writes with
    the words' initials as a hyphenated prefix ("C-AFM", "TR-ARPES"), normalised; the words are not function words.
    One pass over each: the question's acronyms with the up to three words before them, looked up in the text's."""
    written = {(m.group(1), m.group(2)) for m in _HYPHEN_PREFIXED.finditer(text)}
    if not written:
        return []
    out = set()
    for m in re.finditer(r"(?<![A-Za-z0-9])([A-Z]{2,})s?(?![A-Za-z0-9])", question):
        run = re.search(r"(?:[A-Za-z]+[-\s]+){1,3}$", question[max(0, m.start() - 120) : m.start()])
        before = re.findall(r"[A-Za-z]+", run.group()) if run else []
        for k in range(1, len(before) + 1):
            words = before[-k:]
            initials = "".join(w[0] for w in words).upper()
            if (initials, m.group(1)) in written and all(
                1 < len(w) <= 30 and w.lower() not in _FUNCTION_WORDS for w in words
            ):
                out.add(normalize(" ".join([*words, m.group(1)])))
    return sorted(out)


def spelled_out(question: str, text: str) -> list[str]:
    """The phrases of a question whose words' initials spell an acronym the text uses ("mean average precision"
    when the text says mAP, "recurrent neural networks" when it says RNNs), normalised."""
    acronyms = {letters for token in TOKEN.findall(text) if (letters := _initial_letters(token))}
    if not acronyms:
        return []
    words = normalize(question).split()
    out = []
    for i, first in enumerate(words):
        if first in MINOR_WORDS:
            continue
        for n in range(2, MAX_INITIALS + 2):
            phrase = words[i : i + n]
            if len(phrase) < n or phrase[-1] in MINOR_WORDS:
                continue
            initials = "".join(w[0] for w in phrase if w not in MINOR_WORDS)
            if initials in acronyms or "".join(w[0] for w in phrase) in acronyms:
                out.append(" ".join(phrase))
    return out


_HEDGED = re.compile(
    r"(?:\b(?:about|around|approximately|approx\.?|roughly|nearly|almost)\s+|[~≈]\s*)(\d[\d.,]{0,30})", re.I
)


def hedged_numbers(text: str) -> set[str]:
    """The numbers a question gives in round figures, by its own word ("about 97%", "~3.1 dB"): digits only."""
    return {m.group(1).rstrip(".,").replace(",", "") for m in _HEDGED.finditer(text)}


def rounds_to(asked: str, stated: Iterable[str], question: str | None = None) -> bool:
    """Whether a number the question gives in round figures is one of `stated` written more precisely ("97%"
    asked, "97.20%" written; "3.1" asked, "3.14" written): rounded to the asked number's decimals it is the
    asked number. Not for a one-digit whole number, which any figure may round to; with the `question`'s text,
    only for a number it says is round ("about 97%": not "the 30-day mortality", which 29.8% is not)."""
    if question is not None and asked not in hedged_numbers(question):
        return False
    try:
        value = Decimal(asked)
    except InvalidOperation:
        return False
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    if places <= 0 and abs(value) < 10:
        return False
    step = Decimal(1).scaleb(-max(places, 0))
    for text in stated:
        try:
            number = Decimal(text)
            if number != value and number.quantize(step) == value:
                return True
        except InvalidOperation:  # not a number, or too long to round
            continue
    return False
