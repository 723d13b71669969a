"""What a number question measures ("How many GPUs ...": GPUs; "how big was the accuracy gap": accuracy gap): the
words after its cue, as stems an answer sentence must hold near its figure."""

from __future__ import annotations

import re

from rag.dimensions import CONDITION
from rag.names import METHOD_HEADS, is_name, singular
from rag.quantities import COMPARATIVES, COUNT_HEAD, METRIC_TOKEN, unit_word
from rag.support import STOPWORDS
from rag.words import compounds, terms

# a physical dimension asked by its adjective, before its verb ("how thick are", not "how thin films nucleate"; not
# "deep", "wide", "dense": a network's depth is its layers)
_DIMENSION_ADJECTIVE = (
    r"(?:thick|thin|hot|cold|warm)(?=\s+(?:is|are|was|were|do|does|did|can|could|must|should|will|would|has|have|had|"
    r"get|gets|got|become|becomes|became)\b)"
)
HOW = (
    r"how (?:many|much|long|fast|large|big|small|accurate|quickly|often|far|high|low|tall|heavy|old|"
    rf"{_DIMENSION_ADJECTIVE})"
)
_DIMENSION_OF = {
    "thick": "thickness",
    "thin": "thickness",
    "hot": "temperature",
    "cold": "temperature",
    "warm": "temperature",
}
_CUE = re.compile(rf"\b(?:by )?(?:{HOW}|what|which|to what)\b", re.I)
_AUX = frozenset(
    "do does did is are was were be been has have had can could will would should the a an its their".split()
)
_AUX_VERBS = _AUX - {"the", "a", "an", "its", "their"}
_COPULA = frozenset({"is", "are", "was", "were", "the", "a", "an"})
_VERB_BE = _COPULA - {"the", "a", "an"}
_GENERIC_MEASURE = frozenset(
    "mani much long fast larg big small tall mean number per top test relat singl averag total real world sub score "
    "result perform valu figur minimum maximum highest lowest peak median measur".split()
)


def measure_after(question: str, m: re.Match[str]) -> tuple[tuple[str, ...], str]:
    """What a number question measures: the words after its cue `m` (`rag.query._number_cue`) up to the verb
    ("How many GPUs")."""
    if re.fullmatch(r"(?:by )?how old", m.group(0), re.I):  # an age, stated in years or months
        return ("age",), "age"
    adjective = re.fullmatch(r"(?:by )?how (\w+)", m.group(0), re.I)
    if adjective and adjective.group(1).lower() in _DIMENSION_OF:  # "how thick are the films": their thickness
        return measure_of([_DIMENSION_OF[adjective.group(1).lower()]])
    cue = _CUE.match(m.group(0))
    words = m.group(0)[cue.end() if cue else 0 :].split()
    following = question[m.end() :].split()
    if not words and _HOW_BIG.fullmatch(m.group(0)) and following[:1] and following[0].lower() in _VERB_BE:
        phrase = _noun_phrase(following[1:])[-3:]  # "how big was the accuracy gap": accuracy gap
        named = [w for w in phrase if METRIC_TOKEN.fullmatch(w.lower()) and w.lower() not in CHANGE_NOUNS]
        return measure_of(phrase) if named else ((), "")  # not "the improvement", "the dataset", "the tumors"
    if not words and _HOW_MUCH.fullmatch(m.group(0)) and (changed := _how_much(following)):
        return changed  # "by how much did Adam's test accuracy beat SGD's": test accuracy
    while words and words[0].lower() in _COPULA:  # "what is the word error rate of X": word error rate
        words.pop(0)
    if any(w.lower() in _AUX for w in words):  # "What AP50 does CSPNet score": AP50, not CSPNet
        return measure_of(words[: next(i for i, w in enumerate(words) if w.lower() in _AUX)])
    words = words[-3:]  # "the exact ImageNet top-1 accuracy": the head noun and the two words before it
    while words and words[0].lower() in STOPWORDS:  # "range of wedelolactone concentrations": not "of"
        words.pop(0)
    words, following = _past_head_of(words, following)
    for k, word in enumerate(following):
        clean = word.lower().strip("?,.")
        if clean in COUNT_HEAD and following[k + 1 : k + 2] == ["of"]:  # "the minimum number of GPUs": GPUs
            words, following[k + 1] = [], ""
            continue
        if not clean:
            continue
        if len(words) >= 3 and METRIC_TOKEN.match(clean):  # "exact ImageNet top-1 accuracy": the head noun ends it
            words = [*words[1:], word]
            continue
        if clean == "in" and words and all(w.lower() in COMPARATIVES for w in words):
            words = []  # "how far ahead in (the) accuracy is X": accuracy
            if following[k + 1 : k + 2] and following[k + 1].lower() in ("the", "its", "their"):
                following[k + 1] = ""
            continue
        if _ends_measure(words, word, following[k + 1 : k + 3]):
            break
        words.append(word)
    return measure_of(words)


def _past_head_of(words: list[str], following: list[str]) -> tuple[list[str], list[str]]:
    """A count or a value of something measures what follows "of" ("the number of layers": layers, "the value of
    the Fano factor": Fano factor): then no words yet, and the words after "of" (and a value's determiner)."""
    head = words[-1].lower() if words else ""
    if following[:1] != ["of"] or head not in COUNT_HEAD | _VALUE_HEAD:
        return words, following
    rest = following[1:]
    if head in _VALUE_HEAD and rest[:1] and rest[0].lower() in _DET:
        rest = rest[1:]
    return [], rest


def _ends_measure(words: list[str], word: str, after: list[str]) -> bool:
    """Whether `word` ends the measure's noun phrase `words` (at most three words), given the two words `after` it:
    an auxiliary, a function word, a name after the phrase's first word, any word after a generic head noun."""
    clean = word.lower().strip("?,.")
    # a name inside the noun phrase ("chest CT scans were"), not its subject ("the PSNR NeMF achieves")
    inside = after[1:2] and after[1].lower() in _AUX and _NOUN.fullmatch(after[0])
    return bool(
        clean in _AUX
        or (clean in STOPWORDS and not (words and clean in _HEAD_NOUNS))  # "large language models": LLM
        or len(words) >= 3
        or (words and is_name(word.strip("?,.")) and not inside)
        or (words and words[-1].lower().strip("?,.") in _HEAD_NOUNS)  # "what accuracy models achieve": not "achieve"
    )


_VALUE_HEAD = frozenset({"value", "values"})  # what is measured follows "of"
_HEAD_NOUNS = frozenset("model models method methods approach approaches".split())  # nouns among STOPWORDS
_NOUN = re.compile(r"(?!(?:the|a|an|of|in|on|for|and|or|to|by|with)\b)[a-z][a-z\-]+")  # a lower-case word, no particle
CHANGE_NOUNS = frozenset(
    "improvement improvements gain gains reduction drop increase decrease effect benefit advantage overhead "
    "difference change".split()
)
_PARTICIPLE = re.compile(r"[a-z]{3,}ed|taken|given|shown|seen|done|made|found|grown|known")
_HOW_BIG = re.compile(r"(?:by )?how (?:big|large|small|much|high|low|wide|great)", re.I)


_HOW_MUCH = re.compile(r"(?:by )?how much", re.I)
_DO = frozenset({"do", "does", "did", "can", "could", "will", "would", "should"})
_DET = frozenset({"the", "a", "an", "its", "their", "this", "these", "that", "our"})
_CLAUSE_END = frozenset("if when whenever after while because once as compared relative versus vs than".split())
_CHANGE_BASES = (
    "increase decrease reduce improve raise lower cut boost shorten lengthen drop rise fall beat exceed outperform "
    "surpass speed accelerate shrink grow change decline slow compress save lift enhance extend widen narrow gain "
    "lose shift trim lessen halve double expand go"
).split()
_CHANGE_BASE = frozenset(_CHANGE_BASES)
_CHANGED = frozenset(
    {b + ("d" if b.endswith("e") else "ed") for b in _CHANGE_BASES}
    | set("dropped rose risen fell fallen grown shrunk lost gone sped cut beaten slowed".split())
)


def _how_much(following: list[str]) -> tuple[tuple[str, ...], str] | None:
    """The measure of "(by) how much <comparative> is <metric phrase>" ("how much higher is the F1 of BERT": F1) or
    of "(by) how much <aux> <subject> <verb of change> <object>": the metric after the object ("beat Swin in top-1
    accuracy"), the object ("did annealing increase the crystallite size"), else, with no object or a compared one,
    the subject ("did the Néel temperature drop", "did Adam's test accuracy beat SGD's"), each only where it holds a
    metric word. The verb is the last base form after do/does/did, or participle after is/was, that follows no
    article ("did the reduced model lower latency": lower). None when neither reading holds."""
    words = list(following)
    while words and words[0].lower() in COMPARATIVES | {"further"}:  # "how much further did ... lower ..."
        words = words[1:]
    if len(words) < len(following) and words[:1] and words[0].lower() in _VERB_BE:
        phrase = _noun_phrase(words[1:])[-3:]
        return measure_of(phrase) if _metric(phrase) else None
    if not words or words[0].lower() not in _AUX_VERBS:
        return None
    cut = next((i for i, w in enumerate(words) if w.lower().strip("?,.") in _CLAUSE_END), len(words))
    words = words[:cut]  # "does accuracy drop if we reduce the batch size": not the if-clause's verb
    forms = _CHANGE_BASE if words[0].lower() in _DO else _CHANGED
    verbs = [  # the last one: "did the dose increase change the response rate", not "a lower temperature"
        i for i, w in enumerate(words[1:], 1) if w.lower().strip("?,.") in forms and words[i - 1].lower() not in _DET
    ]
    if not verbs:
        return None
    verb = verbs[-1]
    subject, rest = words[1:verb], words[verb + 1 :]
    if rest[:1] and rest[0].lower().strip("?,.") in ("up", "down"):  # "speed up", "go down"
        rest = rest[1:]
    phrase = _noun_phrase(rest)
    after = rest[len(phrase) :]
    phrase = phrase[_owned(phrase[:-1]) :][-3:]  # "improve the network's accuracy": accuracy
    metric = _noun_phrase(after[1:])[-3:] if phrase and after[:1] == ["in"] else []
    if _metric(metric):
        return measure_of(metric)
    compared = phrase and _possessive(phrase[-1].strip("?,."))  # "exceed the baseline's": a comparison
    if _metric(phrase) and not compared:
        return measure_of(phrase)
    if phrase and not compared:  # "did temperature scaling lower the ECE": the object, not the subject's words
        return None
    phrase = _noun_phrase(subject[_owned(subject) :])[-3:]  # "Adam's test accuracy": test accuracy
    return measure_of(phrase) if _metric(phrase) else None


def _possessive(word: str) -> bool:
    return word.endswith(("'s", "’s"))


def _owned(words: list[str]) -> int:
    """Where the words after the last possessive start ("Adam's test accuracy": 1); 0 with none."""
    return max((i + 1 for i, w in enumerate(words) if _possessive(w)), default=0)


def _metric(phrase: list[str]) -> bool:
    """Whether a noun phrase holds a metric word (`METRIC_TOKEN`: "accuracy", "temperature", "mortality"), which an
    answer stating the figure repeats; not a process ("TGF-beta1 release", "mel-spectrogram generation")."""
    words = [w.lower().strip("?,.") for w in phrase]
    pairs = (" ".join(words[i : i + 2]) for i in range(len(words) - 1))  # "band gap", "odds ratio"
    return any(METRIC_TOKEN.fullmatch(w) for w in [*words, *pairs])


def _noun_phrase(words: list[str]) -> list[str]:
    """The noun phrase a question's words open with, without its article, up to a function word or a verb."""
    if words and words[0].lower() in ("the", "its", "their", "this", "that", "a", "an"):
        words = words[1:]
    out: list[str] = []
    for word in words:
        clean = word.lower().strip("?,.")
        if not clean or clean in STOPWORDS or clean in _AUX or _PARTICIPLE.fullmatch(clean):
            break  # "how small are the winning tickets compared to ...": winning tickets
        out.append(word)
        if word.endswith(("?", ",", ".")):
            break
    return out


PLURAL_METRIC = (
    r"(?:rates|scores|ratios|concentrations|temperatures|pressures|wavelengths|frequencies|thicknesses|lengths|"
    r"widths|heights|depths|diameters|masses|densities|doses|dosages|voltages|resistances|velocities|lifetimes|"
    r"yields|efficiencies|bandwidths|mobilities|volumes|capacities|amplitudes|coefficients|accuracies|latencies|"
    r"distances|sizes|counts|percentages|fractions|proportions|amounts|exponents|energies|ages|sensitivities|"
    r"specificities|resolutions|durations|speed-?ups|incidences|values|uncertainties|deviations|variances|splittings)"
)
"""Measures in the plural ("what hazard ratios were found"); not those whose plural mostly asks for kinds ("what
factors", "what errors", "what dimensions", "what improvements")."""


def in_singular(phrase: str) -> tuple[tuple[str, ...], str]:
    """`measure_of` a measure asked in the plural, its last word in the singular ("hazard ratios" ~ "hazard ratio",
    HR; "frequencies" ~ "frequency"); things counted keep their plural ("how many MRI volumes")."""
    *words, last = phrase.split() or [""]
    if re.fullmatch(PLURAL_METRIC, last, re.I):
        one = singular(last)  # in lower case: the word keeps its own ("Frequencies" -> "Frequency")
        last = last[: len(one)] if last.lower().startswith(one) else last[: len(one) - 1] + one[-1]
    return measure_of([*words, last] if last else words)


_NAMED_THINGS = METHOD_HEADS | frozenset(
    "technique scheme strategy code function functional metric measure criterion protocol format law procedure policy "
    "pipeline schedule operator estimator sampler solver dataset benchmark library toolkit simulator package software "
    "backbone encoder decoder optimizer material substrate compound supply source device instrument equipment detector "
    "sensor tool system platform machine hardware correction adjustment criteria scheduler approximation objective "
    "regularizer".split()
)
_MAGNITUDES = frozenset("size length depth width height resolution dimension".split())
"""Metric words that ask how big the thing after them is ("What size model ...?", "What depth network ...?")."""


def modifies_a_thing(phrase: str) -> bool:
    """Whether a measure phrase ends in the noun of a method or of another named thing that its metric word only
    modifies ("error correction code", "distance metric", "dimensionality reduction technique", "time series model"),
    or holds it before the question's verb ("distance metric gives"): the question asks which one, not a figure. Not
    after a word asking its magnitude ("size model", "depth network": helper-47)."""
    words = [w.strip("?,.;:").lower() for w in phrase.split()]
    if len(words) < 2 or words[0] in _MAGNITUDES:
        return False
    return singular(words[-1]) in _NAMED_THINGS or (
        len(words) >= 3 and words[-1].endswith("s") and singular(words[-2]) in _NAMED_THINGS
    )


def measure_of(words: list[str]) -> tuple[tuple[str, ...], str]:
    """The measured thing's stems (any of them names it in a sentence), its initials when it has three words or more
    ("word error rate" ~ WER) or two long ones, in capitals and matched as written ("hazard ratio" ~ HR), and the
    phrase; a rate's denominator is left out ("examples per class")."""
    words = [w.strip("?,.") for w in words]
    while len(words) > 1 and words[-1].lower() in _FINDING:  # "the COCO mAP achieved", "the energy consumed per"
        words.pop()
    phrase = " ".join(words).strip()
    measured = _CONDITION_FIRST.sub("", phrase)  # not "room-temperature"
    head = re.split(r"\s+per\b", compounds(measured), maxsplit=1)[0]
    stems = {t for t in terms(head, join=True) - _GENERIC_MEASURE if not t.isdigit()}  # any one names it
    initials = "".join(w[0] for w in head.split()).lower() if len(head.split()) >= 3 else ""
    pair = head.lower().split()
    if len(pair) == 2 and all(w.isalpha() and len(w) >= 4 for w in pair) and not pair[1].endswith("s"):
        # a measure in two words ("hazard ratio" ~ HR), not things counted ("training examples")
        initials = "".join(w[0] for w in pair).upper()  # matched as written: "HR", not the "hr" of "24 hr"
    rate = phrase.lower().split()
    if len(rate) == 3 and rate[1] == "per":  # "frames per second" ~ FPS, "queries per second" ~ QPS
        stems.add("".join(w[0] for w in rate))
    return tuple(sorted(stems | ({initials} if initials.isalpha() else set()))), phrase


_CONDITION_FIRST = re.compile(rf"^{CONDITION.pattern}\s+(?=\S)", re.I)  # a condition opening a longer phrase
_FINDING = frozenset(
    "per measured obtained reported achieved observed found recorded estimated computed calculated determined "
    "attained reached".split()
)


_NOT_A_COUNT = re.compile(  # a share, a figure in a unit (not a scale: "7B", "1.2M"), a multiplier
    r"\d[^A-Za-z%]*(?:%|ms|s|h|min|kHz|MHz|GHz|Hz|nJ|mJ|J|mW|W|nm|mm|cm|m|km|GB|MB|TB|dB|fps|kbps|Mbps)"
    r"|(?i:double|half|twice)"
)
# a share and the words after its "of": "91.9% of randomized subjects" (digits bounded: linear on long runs)
_SHARE_OF = re.compile(r"(?<![\d.,])(\d[\d.,]{0,30}\s?%)\s+of\s+((?:[\w\-]+\s+){0,2}[\w\-]+)")
_FEWER_OR_MORE = frozenset("fewer more less additional extra".split())
_PER_ITEM = re.compile(r"\b(?:average|mean|median|per)\b", re.I)


def asks_count(question: str, phrase: str) -> bool:
    """Whether a question asks how many of what it measures ("how many atoms", "the number of patients"): not a
    count of a unit ("how many hours"), a difference ("how many fewer parameters": "40% fewer") or an average
    ("the mean number of lesions per patient")."""
    words = phrase.lower().split()
    if not words or words[0] in _FEWER_OR_MORE or any(unit_word(w) for w in words) or _PER_ITEM.search(question):
        return False
    return re.search(rf"\b(?:how many|number of)\s+(?:the\s+)?{re.escape(phrase)}\b", question, re.I) is not None


def counts_in(found: list[str], sentence: str, measure: tuple[str, ...]) -> list[str]:
    """The quantities of `found` that may state a count (`asks_count`): not a share ("91.9%" is no number of
    atoms) unless of the things counted (">25% of passages", "91.9% of randomized subjects": the `measure`'s
    stems, in `sentence`), not a figure in a unit, not a multiplier ("double excitations")."""
    shares = {m.group(1) for m in _SHARE_OF.finditer(sentence) if terms(m.group(2)) & set(measure)}
    return [q for q in found if not _NOT_A_COUNT.fullmatch(q.strip()) or q in shares]
