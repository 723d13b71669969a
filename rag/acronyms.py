"""Acronyms the abstracts define: "long short-term memory (LSTM)" and "LSTM (long short-term memory)" harvested
from a text, and the map from each acronym to its long forms (and back) that the index stores and every name rule
consults."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from rag.chemistry import isotope_forms, isotope_tokens, isotopes
from rag.corpus.records import normalize, spell_greek

# --- acronyms -------------------------------------------------------------------------------

LOOK_BACK = 200
"""Characters before a parenthesis searched for the long form (or the acronym) it defines."""
MAX_ACRONYM = 10
"""Longest acronym read (letters and digits, the plural 's' included)."""
MINOR_WORDS = frozenset("of the for and to in on with a an by from via at as".split())
"""Short words a long form may hold without giving the acronym a letter ("Bidirectional Encoder Representations
from Transformers")."""
_ACRONYM = re.compile(rf"^(?=[A-Za-z0-9\-]*[A-Z][A-Za-z0-9\-]*[A-Z])[A-Za-z][A-Za-z0-9\-]{{1,{MAX_ACRONYM - 1}}}$")
_PAREN = re.compile(r"\(([^()]{1,120})\)")
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*(?:-[A-Za-z0-9']+)*|\d+")


def singular_acronym(acronym: str) -> str:
    """'LSTMs' -> 'LSTM'; 'CNNs' -> 'CNN' (a lower-case 's' after a capital)."""
    return acronym[:-1] if len(acronym) > 2 and acronym.endswith("s") and acronym[-2].isupper() else acronym


def is_acronym(token: str) -> bool:
    """An acronym-like token: at least two capitals, no spaces, 2 to `MAX_ACRONYM` characters (LSTM, mAP, ViT)."""
    return bool(_ACRONYM.match(token))


def _letters(acronym: str) -> str:
    return re.sub(r"[^a-z]", "", singular_acronym(acronym).lower())


def _parts(words: list[str]) -> list[str]:
    """Words split at hyphens ("short-term" -> "short", "term"), lower case."""
    return [p for w in words for p in w.lower().split("-") if p]


def _spells(letters: str, parts: list[str], *, inner: bool = False) -> bool:
    """Whether `letters` are the long form's words' first letters in order: every word but a minor one gives one
    or more of its first letters ("vision transformer" -> ViT), a minor word gives none or its initial. With
    `inner`, a word gives its initial and at most one later letter, as a compound word spells its parts
    ("hyperspectral image" -> HSI)."""

    @functools.cache
    def match(i: int, j: int) -> bool:
        if j == len(parts):
            return i == len(letters)
        if i == len(letters):
            return all(p in MINOR_WORDS for p in parts[j:])
        part = parts[j]
        if part in MINOR_WORDS and match(i, j + 1):
            return True
        if inner:
            return part[0] == letters[i] and any(match(i + 1 + k, j + 1) for k in _inner_runs(part, letters, i + 1))
        k = 0
        while k < len(part) and i + k < len(letters) and part[k] == letters[i + k]:
            k += 1
            if match(i + k, j + 1):
                return True
        return False

    if inner and sum(p not in MINOR_WORDS for p in parts) < 2:
        return False  # one word spells anything it holds ("data" -> DATA)
    return (
        bool(letters) and bool(parts) and parts[0] not in MINOR_WORDS and parts[-1] not in MINOR_WORDS and match(0, 0)
    )


def _inner_runs(part: str, letters: str, start: int) -> list[int]:
    """How many of `letters` from `start` on the rest of a word (after its initial) gives: none, or the one letter
    that starts its second part ("hyper|spectral" -> s), when the word holds it."""
    return [0, 1] if start < len(letters) and letters[start] in part[1:] else [0]


def _long_form_before(acronym: str, before: str) -> str | None:
    """The shortest run of words ending `before` whose initials spell `acronym` ("... long short-term memory")."""
    letters = _letters(acronym)
    if len(letters) < 2:
        return None
    words = _WORD.findall(before)[-(len(letters) + 4) :]
    if not words:  # "models ((LLMs))": nothing before the inner parenthesis
        return None
    plural = acronym != singular_acronym(acronym)
    for inner in (False, True):  # initials first; letters inside compound words only when initials spell nothing
        for end in (len(words), len(words) - 1) if plural else (len(words),):  # "memory networks (LSTMs)"
            if end < len(words) and not words[end].lower().endswith("s"):
                continue
            for start in range(end - 1, -1, -1):
                if sum(len(w.split("-")) for w in words[start:end]) > len(letters) + 3:
                    break
                if not words[start][:1].isalpha() or words[start][0].lower() != letters[0]:
                    continue
                if _spells(letters, _parts(words[start:end]), inner=inner):
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
                found.add((singular_acronym(head), long_form))
            continue
        words = _WORD.findall(before_paren := window.rstrip())
        if not words or not before_paren.endswith(words[-1]) or not is_acronym(words[-1]):
            continue
        acronym = words[-1]
        long_words = _WORD.findall(head)
        if not 2 <= len(long_words) <= 12 or " ".join(long_words) != " ".join(head.split()):
            continue
        if _spells(_letters(acronym), _parts(long_words)) or (
            acronym != singular_acronym(acronym) and _spells(_letters(acronym), _parts(long_words[:-1]))
        ):
            found.add((singular_acronym(acronym), " ".join(long_words)))
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
        self._tails: dict[tuple[str, ...], set[str]] | None = None  # ("error", "rate") -> {"word", ...}, on demand
        for acronym, long_form in pairs:
            self.add(acronym, long_form)

    def add(self, acronym: str, long_form: str) -> None:
        """Record one pair (as written or normalised)."""
        a, f = normalize(singular_acronym(acronym)), singular_phrase(normalize(long_form))
        if a and f and a != f:
            self.long_forms.setdefault(a, set()).add(f)
            self.acronyms.setdefault(f, set()).add(a)
            self.longest = max(self.longest, len(f.split()))
            self.first_words.add(f.split()[0])
            self.written[singular_acronym(acronym.strip())] = a
            self._tails = None

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
            key = normalize(singular_acronym(written))
            if key in forms_of:
                forms_of[key].update(forms)
                touched.append((written, key))
        for written, key in [*touched, *new.written.items()]:
            out[written] = sorted(forms_of[key])
        return dict(sorted(out.items()))

    def rivals(self, phrase: str) -> set[str]:
        """The first words of the other long forms that end as `phrase` ends after its first word: "word" for
        "character error rate", since "word error rate" is another measure."""
        words = singular_phrase(normalize(phrase)).split()
        if len(words) < 2:
            return set()
        tails = self._tails
        if tails is None:  # once per map, not once per question (44k long forms at 118k abstracts)
            tails = {}
            for form in self.acronyms:
                first, *tail = form.split()
                tails.setdefault(tuple(tail), set()).add(first)
            self._tails = tails  # whole, for a thread reading it meanwhile
        return tails.get(tuple(words[1:]), set()) - {words[0]}

    def aliases(self, name: str) -> set[str]:
        """Other names of `name` (normalised): its long forms when it is an acronym, its acronyms when it is a
        long form ("LSTMs" -> {"long short term memory"}; "Mean Average Precision" -> {"map"}); an isotope's other
        spellings in one word ("Rb-87" -> {"87rb", "rb87", "⁸⁷rb"})."""
        key = normalize(name)
        out = set(self.long_forms.get(key, ()))
        if key.endswith("s") and len(key) > 2:  # LSTMs
            out |= self.long_forms.get(key[:-1], set())
        out |= {f for symbol, mass in isotopes(name) for f in isotope_tokens(symbol, mass)} - {key}  # Rb-87 ~ 87rb
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
        """The normalised text (Greek letters spelled out) followed by the other names of what it mentions: a text
        saying "LSTMs" also says "long short term memory", one saying "mean average precision" also says "map"."""
        normalized_text = normalize(spell_greek(text))
        extra: dict[str, None] = {}
        if self.written:
            for token in dict.fromkeys(TOKEN.findall(text)):
                key = self.written.get(token) or self.written.get(singular_acronym(token))
                for f in self.long_forms.get(key or "", ()):
                    extra[f] = None
        for _, _, phrase in self.spans(normalized_text):
            for a in self.acronyms[phrase]:
                extra[a] = None
        for symbol, mass in isotopes(text):  # "87Rb" also says "rb 87", "rubidium 87"
            extra.update(dict.fromkeys(isotope_forms(symbol, mass)))
        return normalized_text + (" . " + " . ".join(extra) if extra else "")
