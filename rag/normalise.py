"""One thing said two ways: acronyms and their long forms, numbers in words or digits, compounds written apart.

Nothing here is a list of domain terms. Acronyms are harvested from the abstracts themselves ("long short-term
memory (LSTM)", "mAP (mean average precision)"), kept only when the acronym's letters are the initials (or the
first letters) of the long form's words, and stored with the index (`AcronymMap`). Numbers are read in any
spelling ("three" = "3", "1.2k" = "1,200" = "1200", "3M" = "3 million") and units by their abbreviation
("ms" = "milliseconds", "%" = "percent" = "per cent", "x" = "times" = "fold"). Compounds match their parts:
"dataset" = "data set", "seq2seq" = "sequence-to-sequence", "RNNs" = "RNN".
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from rag.corpus.records import normalize

# --- acronyms -------------------------------------------------------------------------------

LOOK_BACK = 200
"""Characters before a parenthesis searched for the long form (or the acronym) it defines."""
MAX_ACRONYM = 10
"""Longest acronym read (letters and digits, the plural 's' included)."""
_MINOR = frozenset("of the for and to in on with a an by from via at as".split())
"""Short words a long form may hold without giving the acronym a letter ("Bidirectional Encoder Representations
from Transformers")."""
_ACRONYM = re.compile(rf"^(?=[A-Za-z0-9\-]*[A-Z][A-Za-z0-9\-]*[A-Z])[A-Za-z][A-Za-z0-9\-]{{1,{MAX_ACRONYM - 1}}}$")
_PAREN = re.compile(r"\(([^()]{1,120})\)")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*(?:-[A-Za-z0-9']+)*|\d+")


def _singular(acronym: str) -> str:
    """'LSTMs' -> 'LSTM'; 'CNNs' -> 'CNN' (a lower-case 's' after a capital)."""
    return acronym[:-1] if len(acronym) > 2 and acronym.endswith("s") and acronym[-2].isupper() else acronym


def is_acronym(token: str) -> bool:
    """An acronym-like token: at least two capitals, no spaces, 2 to `MAX_ACRONYM` characters (LSTM, mAP, ViT)."""
    return bool(_ACRONYM.match(token))


def _letters(acronym: str) -> str:
    return re.sub(r"[^a-z]", "", _singular(acronym).lower())


def _parts(words: list[str]) -> list[str]:
    """Words split at hyphens ("short-term" -> "short", "term"), lower case."""
    return [p for w in words for p in w.lower().split("-") if p]


def _spells(letters: str, parts: list[str]) -> bool:
    """Whether `letters` are the long form's words' first letters in order: every word but a minor one gives one
    or more of its first letters ("vision transformer" -> ViT), a minor word gives none or its initial."""

    @functools.cache
    def match(i: int, j: int) -> bool:
        if j == len(parts):
            return i == len(letters)
        if i == len(letters):
            return all(p in _MINOR for p in parts[j:])
        part = parts[j]
        if part in _MINOR and match(i, j + 1):
            return True
        k = 0
        while k < len(part) and i + k < len(letters) and part[k] == letters[i + k]:
            k += 1
            if match(i + k, j + 1):
                return True
        return False

    return bool(letters) and bool(parts) and parts[0] not in _MINOR and parts[-1] not in _MINOR and match(0, 0)


def _long_form_before(acronym: str, before: str) -> str | None:
    """The shortest run of words ending `before` whose initials spell `acronym` ("... long short-term memory")."""
    letters = _letters(acronym)
    if len(letters) < 2:
        return None
    words = _WORD.findall(before)[-(len(letters) + 4) :]
    if not words:  # "models ((LLMs))": nothing before the inner parenthesis
        return None
    plural = acronym != _singular(acronym)
    for end in (len(words), len(words) - 1) if plural else (len(words),):  # "memory networks (LSTMs)"
        if end < len(words) and not words[end].lower().endswith("s"):
            continue
        for start in range(end - 1, -1, -1):
            if sum(len(w.split("-")) for w in words[start:end]) > len(letters) + 3:
                break
            if not words[start][:1].isalpha() or words[start][0].lower() != letters[0]:
                continue
            if _spells(letters, _parts(words[start:end])):
                return " ".join(words[start:end])
    return None


def singular_phrase(phrase: str) -> str:
    """A phrase with its last word in the singular: 'graph neural networks' -> '... network', 'gaussian processes'
    -> '... process'; 'component analysis' and 'mixture of experts' stay."""
    head, _, last = phrase.rpartition(" ")
    if len(last) > 4 and re.search(r"(?:ss|x|ch|sh)es$", last):
        last = last[:-2]
    elif len(last) > 4 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif len(last) > 3 and last.endswith("s") and not re.search(r"(?:ss|is|us)$", last) and head:
        last = last[:-1]
    return f"{head} {last}" if head else last


def harvest(text: str) -> set[tuple[str, str]]:
    """(acronym, long form) pairs a text defines: "long form (ACR)" and "ACR (long form)"; plural acronyms are
    read as their singular ("recurrent neural networks (RNNs)" -> RNN). Both as written, acronym singular."""
    found: set[tuple[str, str]] = set()
    for m in _PAREN.finditer(text):
        inside = m.group(1).strip()
        head = re.split(r"[;,]", inside, maxsplit=1)[0].strip()  # "(CNN; see below)", "(CNNs, for short)"
        window = text[max(0, m.start() - LOOK_BACK) : m.start()]  # a long abstract is read in linear time
        if is_acronym(head):
            # the long form is in the same sentence, right before the parenthesis
            before = re.split(r"[.;:!?]\s|[()\[\]]", window)[-1]
            long_form = _long_form_before(head, before)
            if long_form:
                found.add((_singular(head), long_form))
            continue
        words = _WORD.findall(before_paren := window.rstrip())
        if not words or not before_paren.endswith(words[-1]) or not is_acronym(words[-1]):
            continue
        acronym = words[-1]
        long_words = _WORD.findall(head)
        if not 2 <= len(long_words) <= 12 or " ".join(long_words) != " ".join(head.split()):
            continue
        if _spells(_letters(acronym), _parts(long_words)) or (
            acronym != _singular(acronym) and _spells(_letters(acronym), _parts(long_words[:-1]))
        ):
            found.add((_singular(acronym), " ".join(long_words)))
    return found


class AcronymMap:
    """Acronyms and long forms harvested from the indexed abstracts, each way round. Long forms are matched in
    any case, an acronym in a source text only as the abstracts write it ("mAP" is not the "map" of "feature
    map")."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.long_forms: dict[str, set[str]] = {}  # "lstm" -> {"long short term memory"}
        self.acronyms: dict[str, set[str]] = {}  # "long short term memory" -> {"lstm"}
        self.longest = 0  # words in the longest long form
        self.first_words: set[str] = set()  # the words long forms start with
        self.written: dict[str, str] = {}  # "LSTM" -> "lstm": the acronyms as the abstracts write them
        for acronym, long_form in pairs:
            self.add(acronym, long_form)

    def add(self, acronym: str, long_form: str) -> None:
        """Record one pair (as written or normalised)."""
        a, f = normalize(_singular(acronym)), singular_phrase(normalize(long_form))
        if a and f and a != f:
            self.long_forms.setdefault(a, set()).add(f)
            self.acronyms.setdefault(f, set()).add(a)
            self.longest = max(self.longest, len(f.split()))
            self.first_words.add(f.split()[0])
            self.written[_singular(acronym.strip())] = a

    def __len__(self) -> int:
        return len(self.long_forms)

    @classmethod
    def from_json(cls, data: Mapping[str, Iterable[str]]) -> AcronymMap:
        """The map as stored: acronym as written -> its long forms."""
        return cls((a, f) for a, forms in data.items() for f in forms)

    def to_json(self) -> dict[str, list[str]]:
        """acronym as written -> sorted long forms."""
        return {a: sorted(self.long_forms[key]) for a, key in sorted(self.written.items())}

    @staticmethod
    def merge_json(stored: Mapping[str, Iterable[str]], pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
        """A stored map (`to_json`) with more pairs, as `AcronymMap(old pairs + pairs).to_json()` gives it, without
        making the whole map again (only the acronyms the new pairs define are looked at)."""
        new = AcronymMap(pairs)
        out = {a: list(forms) for a, forms in stored.items()}
        if not new.written:
            return out
        forms_of = {key: set(forms) for key, forms in new.long_forms.items()}
        touched = []
        for written, forms in stored.items():
            key = normalize(_singular(written))
            if key in forms_of:
                forms_of[key].update(forms)
                touched.append((written, key))
        for written, key in [*touched, *new.written.items()]:
            out[written] = sorted(forms_of[key])
        return dict(sorted(out.items()))

    def aliases(self, name: str) -> set[str]:
        """Other names of `name` (normalised): its long forms when it is an acronym, its acronyms when it is a
        long form ("LSTMs" -> {"long short term memory"}; "Mean Average Precision" -> {"map"})."""
        key = normalize(name)
        out = set(self.long_forms.get(key, ()))
        if key.endswith("s") and len(key) > 2:  # LSTMs
            out |= self.long_forms.get(key[:-1], set())
        return out | self.acronyms.get(singular_phrase(key), set())

    def spans(self, normalized_text: str) -> list[tuple[int, int, str]]:
        """Where long forms the map knows occur in a normalised text: (first word, end word, long form)."""
        words = normalized_text.split()
        out: list[tuple[int, int, str]] = []
        i = 0
        while i < len(words):
            if words[i] not in self.first_words:
                i += 1
                continue
            for n in range(min(self.longest, len(words) - i), 1, -1):
                phrase = singular_phrase(" ".join(words[i : i + n]))
                if phrase in self.acronyms:
                    out.append((i, i + n, phrase))
                    i += n - 1
                    break
            i += 1
        return out

    def expand(self, text: str) -> str:
        """The normalised text followed by the other names of what it mentions: a text saying "LSTMs" also says
        "long short term memory", one saying "mean average precision" also says "map"."""
        normalized_text = normalize(text)
        extra: dict[str, None] = {}
        if self.written:
            for token in dict.fromkeys(_TOKEN.findall(text)):
                key = self.written.get(token) or self.written.get(_singular(token))
                for f in self.long_forms.get(key or "", ()):
                    extra[f] = None
        for _, _, phrase in self.spans(normalized_text):
            for a in self.acronyms[phrase]:
                extra[a] = None
        return normalized_text + (" . " + " . ".join(extra) if extra else "")


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
    letters = _singular(token)
    return letters.lower() if letters.isalpha() and 2 <= len(letters) <= MAX_INITIALS else None


def initials_in(name: str, normalized_text: str) -> bool:
    """Whether a text spells out an acronym-like name word by word ('mAP' ~ 'mean average precision', 'LSTMs' ~
    'long short term memory'); a minor word may stand between ('BoW' ~ 'bag of words')."""
    letters = _initial_letters(name)
    if letters is None:
        return False
    minor = "|".join(_MINOR)
    words = rf"\s+(?:(?:{minor})\s+)?".join(rf"{c}[a-z0-9]*" for c in letters)
    return re.search(rf"\b{words}\b", normalized_text) is not None


def spelled_out(question: str, text: str) -> list[str]:
    """The phrases of a question whose words' initials spell an acronym the text uses ("mean average precision"
    when the text says mAP, "recurrent neural networks" when it says RNNs), normalised."""
    acronyms = {letters for token in _TOKEN.findall(text) if (letters := _initial_letters(token))}
    if not acronyms:
        return []
    words = normalize(question).split()
    out = []
    for i, first in enumerate(words):
        if first in _MINOR:
            continue
        for n in range(2, MAX_INITIALS + 2):
            phrase = words[i : i + n]
            if len(phrase) < n or phrase[-1] in _MINOR:
                continue
            initials = "".join(w[0] for w in phrase if w not in _MINOR)
            if initials in acronyms or "".join(w[0] for w in phrase) in acronyms:
                out.append(" ".join(phrase))
    return out
