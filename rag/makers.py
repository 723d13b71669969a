"""Which-questions asking for a maker or a product model by name ("Which company made the drone?", "Which IMU model
...?", "What make and model of camera ...?"): what they ask about, and the names a sentence gives of it. A name
counts where the sentence attaches it to a device ("a Tobii Pro Spectrum eye tracker", "a Fitbit Charge 4 worn on
the wrist", "made by Boston Dynamics"), not a place, a study, a data set or a method named nearby ("in Nairobi",
"the ABCD Study", "the I-VT algorithm")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.acronyms import AcronymMap
from rag.corpus.records import normalize
from rag.kinds import typed_otherwise, unnamed_kind
from rag.names import is_name, singular
from rag.quantities import METRIC_TOKEN, unit_word
from rag.question import Question
from rag.support import STOPWORDS

_MAKER = r"(?:compan(?:y|ies)|manufacturers?|vendors?|brands?|makers?|suppliers?)"
_MAKES = r"(?:makes|made|manufactur\w*|produc\w*|builds|built|suppli\w*|sells|sold|provid\w*|develop\w*)"
_INSTANCE_Q = re.compile(  # a maker word asking, not modifying another noun ("Which brand attributes ...?")
    rf"^(?:(?:which|what)\s+(?P<maker>{_MAKER}|make)(?:\s+and\s+model)?"
    rf"(?='s|\s*[?,]|\s*$|\s+(?:{_MAKES}|did|does|do|was|were|is|are|has|had|of)\b)"
    r"|who\s+(?P<made>manufactures|manufactured|supplies|supplied|sells|sold)\b"
    rf"|(?:what|which)\s+(?:is|was|are|were)\s+the\s+(?P<of>{_MAKER}|make)(?:\s+and\s+(?:the\s+)?model)?(?=\s+of\b)"
    r"|(?:which|what)\s+(?P<model>(?P<noun>(?:[\w\-]+\s+){0,2}?[\w\-]+)\s+"
    r"(?P<cue>(?:make|brand)\s+and\s+model|model|make(?!\s+up\b)|brand))\b(?!\s+of\b)"
    rf"|name\s+the\s+(?P<named>{_MAKER}|make)(?:\s+and\s+(?:the\s+)?model)?(?=\s+(?:of|that|who|which)\b|\s*[?.]|\s*$))",
    re.I,
)
_KEYWORD_CUE = re.compile(
    r"(?<![\w\-])(?P<noun>(?:[A-Za-z][\w\-]*\s+)?[A-Za-z][\w\-]*)\s+"
    r"(?P<cue>(?:make|brand)\s+and\s+model|model|brand|manufacturer|maker|vendor)"
    r"(?=\s*$|\s+(?:used|in|for|of|from|with|on|at|by|and|or|during)\b)",  # not "model predictive control"
    re.I,
)
_MODEL_OF = re.compile(r"(?:which|what)\s+model\s+of\s+", re.I)
_WHO_MADE = re.compile(r"who\s+(?:makes|made|produces|produced)\s+(?=the\b|these\b)", re.I)  # a device's maker
# things sold in models ("Which camera model ...?", "Which IMU model ...?"); a model of a method, a process or a
# living thing is as often answered by a description ("a circuit-level depolarizing error model")
_PRODUCTS = frozenset(  # not "vehicle", "computer", "machine": "a kinematic bicycle model", "a computer model"
    "camera robot arm gripper hand laptop phone smartphone tablet watch smartwatch tracker wearable headset "
    "microscope scanner sensor drone quadcopter printer spectrometer oscilloscope detector laser chip processor "
    "board microcontroller lidar radar receiver transmitter router switch server workstation accelerometer gyroscope "
    "exoskeleton prosthesis implant pump instrument telescope imu gpu cpu tpu fpga mcu mri eeg ecg uav ugv patch "
    "probe meter".split()
)
_INSTRUMENT = re.compile(r"(?<=[a-z])(?<!para)(?<!dia)(?<!peri)meters?$|(?<=[a-z])scopes?$", re.I)  # a seismometer
# what abstracts call hardware: a name many abstracts call other things ("ImageNet", "PyTorch", "CUDA") is no
# product model
_HARDWARE = frozenset(
    "camera chip cpu device detector fpga gpu hardware imu platform processor radar receiver router sensor server "
    "tracker uav accelerator controller monitor satellite interferometer system".split()
)
# nouns a device is called by, beside the asked thing's own ("a Polar H10 chest strap", "a Bio-Rad CFX96 system")
_DEVICE = frozenset(
    {singular(w) for w in _PRODUCTS | _HARDWARE}
    | set(
        "unit instrument module kit glasses band strap meter station machine tool vehicle speaker tube ring wristband "
        "bracelet glove insole vest helmet mask earbud headphone quadrotor quadruped cobot actuator analyzer analyser "
        "sequencer cycler reader recorder logger amplifier counter computer display antenna cell plate belt treadmill "
        "sonde chamber incubator centrifuge scale ventilator headband".split()
    )
)


@dataclass(frozen=True)
class AskedMaker:
    """A maker or product asked by name: its `label` for "name the ..." ("company", "IMU model"), the singular
    words of the thing asked about (`thing`: "made the MRI scanner" -> mri, scanner) and whether a product model is
    asked (`product`: no name the abstracts call other things than hardware answers it)."""

    label: str
    thing: frozenset[str]
    product: bool


def asked_maker(question: Question) -> AskedMaker | None:
    """The maker or product a which-question asks for by name ("Which company ...?", "Who manufactured ...?",
    "Which IMU model ...?", "Which model of eye tracker ...?", "What was the make and model of ...?"), or a keyword
    query by a cue ending it after a product's noun ("eye tracker model used in reading study"); None for any other
    question, a type ("What kind of sensor?"), a model of a method ("Which error model?", "Which model of the
    vehicle?") and "Who made the diagnosis?" among them."""
    asked = question.asked.strip()
    m = _INSTANCE_Q.match(asked)
    if not m:
        if question.keyword:
            return next(filter(None, map(_keyword_maker, _KEYWORD_CUE.finditer(asked))), None)
        if of := _MODEL_OF.match(asked):  # "Which model of eye tracker ...?"; not "What model of consciousness ...?"
            words = [w for w in _words_after(asked[of.end() :]) if w != "'s"]
            if not words or not _a_product(words[-1]):
                return None
            return AskedMaker(f"{' '.join(words)} model", frozenset(singular(w) for w in words), True)
        made = _WHO_MADE.match(asked)  # "Who makes the wrist-worn tracker?"; not "Who made the diagnosis?"
        thing = _thing_after(asked[made.end() :]) if made else frozenset()
        return AskedMaker("maker", thing, False) if thing & _DEVICE else None
    if m.group("model"):
        words = m.group("noun").split()
        noun = words[-1].lower()  # as written: "What sensors make up ...?" asks no maker
        if not _a_product(noun, as_written=True) or STOPWORDS & {w.lower() for w in words}:
            return None  # "Which regression model", "What error model", "What R2 does the model ...?", "kilometer"
        model = m.group("cue").lower().endswith("model")  # "Which GPU brand ...?" asks a maker
        return AskedMaker(m.group("model"), frozenset(singular(w) for w in words), model)
    label = "maker" if m.group("made") else (m.group("maker") or m.group("of") or m.group("named")).lower()
    model = re.search(r"\band\s+(?:the\s+)?model\b", m.group(0), re.I) is not None  # "make and model"
    return AskedMaker(f"{label} and model" if model else label, _thing_after(asked[m.end() :]), model)


def _keyword_maker(cue: re.Match[str]) -> AskedMaker | None:
    """A keyword query's maker or model, asked by a cue after a product's noun ("eye tracker model ...", "GNSS
    receiver brand"); None after any other noun ("language model", "noise model")."""
    words = [w for w in cue.group("noun").split() if w.lower() not in STOPWORDS]  # "choice of camera model"
    if not words or not _a_product(words[-1]):
        return None  # "the model", "GPT-2 language model"
    model = cue.group("cue").lower().endswith("model")
    return AskedMaker(f"{' '.join(words)} {cue.group('cue')}", frozenset(singular(w) for w in words), model)


def _a_product(noun: str, as_written: bool = False) -> bool:
    """Whether a noun names a thing sold in models ("camera", "IMU", "seismometer"; not "vehicle", "kilometer"), in
    the singular unless `as_written` ("What sensors make up ...?" asks no maker)."""
    word = noun.lower() if as_written else singular(noun)
    return word in _PRODUCTS or (_INSTRUMENT.search(word) is not None and not unit_word(word))


_SKIPPED = re.compile(rf"^(?:'s|{_MAKES}|did|does|do|was|were|is|are|has|had|of|the|a|an|and|model|its|their)$", re.I)


def _thing_after(rest: str) -> frozenset[str]:
    """The words of the thing a maker question asks about, after its cue, singular: "made the MRI scanner?" -> mri,
    scanner; "of smartwatch did participants wear?" -> smartwatch."""
    return frozenset(singular(word) for word in _words_after(rest))


def _words_after(rest: str) -> list[str]:
    """The words of the thing a maker question asks about, as written: "of the eye tracker did ..." -> eye, tracker."""
    words = re.findall(r"'s|[\w\-]+", rest)
    start = 0
    while start < len(words) and _SKIPPED.match(words[start]):
        start += 1
    thing = []
    for word in words[start : start + 3]:
        if word.lower() in STOPWORDS:
            break
        thing.append(word)
    return thing


_REFERENCES = frozenset("fig figs figure figures table tables eq eqs equation ref refs section sec appendix".split())
_TOKEN = re.compile(r"[^\s,;:()\[\]\"“”—–]+")
_MODEL_PART = re.compile(r"\d[\w+.\-]*|[A-Z][\w+.\-]*|\+")  # "Charge 4", "Tesla Model 3", "NovaSeq 6000", "iQ +"
# a small word before a name that makes it a place, a time, a standard or another thing than the device used ("in
# Nairobi", "at ETH Zurich", "via Bluetooth", "per ISO 6872", "compared to LIO-SAM")
_NOT_A_DEVICE_BEFORE = frozenset(
    "in at near across throughout over via per following under within inside than versus vs to during into below "
    "above beyond among between against".split()
)
_INTRODUCED = frozenset("a an by from using on with".split())  # "with Polar H10", "made by Boston Dynamics"
# a model number: letters with digits or three digits ("E4", "OS1-128", "NovaSeq 6000"; not the "6" of "Wi-Fi 6")
_MODEL_NUMBER = re.compile(r"(?!\d[DdKk]$)(?=[^\d]*\d)(?=[^A-Za-z]*[A-Za-z])[\w+.\-]+|\d{3,}")  # not "3D", "4K"
_SMALL = STOPWORDS - {"model", "method", "study", "approach", "paper"}  # words that end a noun phrase
_A_VALUE = re.compile(r"\s*(?:=|of\s+[\d.]|(?:is|was|were|are)\s+[\d.])")  # "an R2 of 0.87", "(ICC = 0.94)"
# a participle or an adverb after a name ends its noun phrase ("a Fitbit Charge 4 worn ...", "an ActiGraph
# continuously"); not "speed", "seed"
_PARTICIPLE = re.compile(
    r"(?!(?:speed|seed|need|feed|bed)$)[a-z]{2,}ed$|[a-z]{3,}ly$|worn|held|run|set|put|kept|sold|shown|seen|grown|"
    r"driven|taken|given|built"
)


def loose_names(question: str, tokens: Sequence[re.Match[str]], product: bool = False) -> list[re.Match[str]]:
    """The tokens of a sentence (`_TOKEN`) that may name a maker or a product, loosely, beyond the question's words:
    a word with a capital ("a Boston Dynamics Spot", "Claude"; a sentence's first word only when an acronym or mixed
    case: "IBM builds"), an acronym, a name with digits ("GPT-4o", "gem5") or a word of a script without case ("大疆");
    not a figure ("6-DoF", "3T"), a measure ("F1", "top-1"), a unit or a letter ("600 C") or a small word. For a
    `product` model, not a name the abstracts of many papers call things other than hardware (`typed_otherwise`:
    "ImageNet", "PyTorch", "ResNet-50")."""
    asked = f" {normalize(question)} "
    out = []
    opening = True  # a sentence's first word is capitalised as any is ("We", "Welders")
    for m in tokens:
        token = m.group(0).strip(".!?'’")
        first, opening = opening, m.group(0).endswith((".", "!", "?"))
        if not token or token[0].isdigit() or (first and not is_name(token)):
            continue
        if token.lower() in _REFERENCES:
            continue
        caseless = any(c.isalpha() and not c.islower() and not c.isupper() for c in token)  # "大疆": a script
        if not (caseless or any(c.isupper() or c.isdigit() for c in token)) or not any(c.isalpha() for c in token):
            continue
        if token.lower() in STOPWORDS or unit_word(token) or f" {normalize(token)} " in asked:
            continue
        if len(token) == 1 or METRIC_TOKEN.match(token) or (product and typed_otherwise(token, _HARDWARE)):
            continue
        out.append(m)
    return out


def maker_names(question: str, sentence: str, asked: AskedMaker) -> list[str]:
    """The names (`loose_names`, with the model parts after them: "Fitbit Charge 4") a sentence attaches to a
    device: followed by the asked thing's noun or a device's ("a Tobii Pro Spectrum eye tracker"), or used as the
    noun itself after "a", "an", "with", "from", "using" or "on" ("a Fitbit Charge 4 worn on the wrist"), after "by"
    whatever follows ("made by Boston Dynamics"), in parentheses after the device's noun ("(Leica SP8)"), or holding a
    model number. Not after a small word that makes it a place or another thing ("in Nairobi", "via Bluetooth"),
    nor, after "the" or another word, modifying another noun ("the ABCD Study", "the I-VT algorithm")."""
    tokens = list(_TOKEN.finditer(sentence))
    starts = {m.start() for m in loose_names(question, tokens, asked.product)}
    nouns = asked.thing | _DEVICE

    def in_run(token: re.Match[str]) -> bool:  # a name or a model part, not the device's own noun ("GPUs")
        word = token.group(0).rstrip(".!?")
        if _is_noun(word, nouns) or unit_word(word):  # not "GHz" of "a 60 GHz FMCW radar"
            return False
        return token.start() in starts or _MODEL_PART.fullmatch(word) is not None

    out, i = [], 0
    while i < len(tokens):
        if not in_run(tokens[i]) or tokens[i].group(0)[0].isdigit():  # not from a count: "12 Sentinel-2 scenes"
            i += 1
            continue
        j = i  # a run of names and model parts, one space apart, within a clause ("a Google Pixel 7")
        while (
            j + 1 < len(tokens)
            and _spaced(sentence, tokens[j], tokens[j + 1])
            and not tokens[j].group(0).endswith((".", "!", "?"))
            and in_run(tokens[j + 1])
        ):
            j += 1
        named = any(t.start() in starts for t in tokens[i : j + 1])
        alone = re.sub(r"['’]s?$", "", tokens[i].group(0).strip(".,;:!?"))  # "NVIDIA's"
        if asked.product and i == j and re.fullmatch(r"[A-Z][A-Z\-]+", alone):
            named = False  # an acronym alone is a maker or a type, no model ("an NVIDIA GPU", "a MEMS IMU")
        if named and _attached(sentence, tokens, i, j, nouns):
            out.append(sentence[tokens[i].start() : tokens[j].end()].rstrip(".!?"))
        i = j + 1
    return out


def _attached(sentence: str, tokens: list[re.Match[str]], i: int, j: int, nouns: frozenset[str]) -> bool:
    """Whether the run of name tokens `i`..`j` names a device (`maker_names`)."""
    spaced = i > 0 and _spaced(sentence, tokens[i - 1], tokens[i])
    before = tokens[i - 1].group(0).lower() if spaced else ""
    run_end = tokens[j].end()
    if _A_VALUE.match(sentence, run_end):
        return False
    follow = []
    if not re.match(r"[.,;:!?)]", sentence[run_end : run_end + 1]):
        for word in re.findall(r"\S+", sentence[run_end : run_end + 120])[:4]:
            plain = word.rstrip(".,;:!?)")
            ours = _is_noun(plain, nouns)  # the asked thing's word in capitals: "the Zio XT ECG patch"
            if not ours and (not plain.islower() or plain in _SMALL or not plain.replace("-", "").isalpha()):
                break
            follow.append(plain)
            if plain != word:
                break
    if follow and before != "by" and _PARTICIPLE.fullmatch(follow[0]) is None:  # the name modifies a noun
        words = [p for w in follow for p in (w, *w.split("-"))]
        if any(_is_noun(w, nouns) or _INSTRUMENT.search(w) for w in words):
            return True  # "embedded in Garmin Fenix 6 smartwatches"
        # a maker and a model number name a product whatever it is called ("an Empatica E4 wristband")
        model = j > i and any(_MODEL_NUMBER.fullmatch(t.group(0).rstrip(".")) for t in tokens[i + 1 : j + 1])
        return model and before not in _NOT_A_DEVICE_BEFORE
    if before in _NOT_A_DEVICE_BEFORE:
        return False
    # used as a noun: "with a Fitbit Charge 4 worn ...", "made by Boston Dynamics", "a confocal microscope (Leica
    # SP8)", "Zeiss's confocal", "a microscope of Leica Microsystems", "whose manufacturer, Empatica,", "model
    # OS1-128"; a model number after any verb ("wore ActiGraph GT3X+", "the H10"); not after a count ("3 MW rated")
    start = tokens[i].start()
    window = sentence[max(0, start - 60) : start]
    paren = re.search(r"([A-Za-z][\w\-]*)\s*\(\s*$", window)
    device_of = re.search(r"([A-Za-z][\w\-]*)\s+of\s+$", window)
    owner = sentence[run_end - 2 : run_end] in ("'s", "’s")
    numbered = any(_MODEL_NUMBER.fullmatch(t.group(0).rstrip(".")) for t in tokens[i : j + 1])
    return (
        before in _INTRODUCED
        or owner
        or (paren is not None and _is_noun(paren.group(1), nouns))
        or (device_of is not None and _is_noun(device_of.group(1), nouns))
        or re.search(rf"\b(?:{_MAKER}|model|type)\s*,?\s*$", window, re.I) is not None
        or (numbered and before not in _NOT_A_DEVICE_BEFORE)
    )


def _spaced(sentence: str, first: re.Match[str], second: re.Match[str]) -> bool:
    """Whether two tokens are one to three spaces of any kind apart ("made by\nDJI", "Fitbit\u00a0Charge")."""
    gap = sentence[first.end() : second.start()]
    return 0 < len(gap) <= 3 and gap.isspace()


def _is_noun(word: str, nouns: frozenset[str]) -> bool:
    """Whether a word is one of `nouns` (singular, lower case), in any case or number ("GPUs", "IMU", "probes")."""
    word = word.lower().strip(".,;:!?)(")
    return word in nouns or singular(word) in nouns or (word.endswith("s") and word[:-1] in nouns)


def unnamed_thing(question: Question, sentences: Sequence[str], acronyms: AcronymMap) -> str:
    """What a which-question asks for by name that no claim names, else "": a kind of thing ("Which solver ...?":
    `unnamed_kind`), or a maker or product model ("Which IMU model ...?", "Who manufactured the drone?") no claim
    attaches a name to (`maker_names`)."""
    if question.kind:
        return unnamed_kind(question, sentences, acronyms)
    asked = asked_maker(question)
    if asked is None or any(maker_names(question.text, s, asked) for s in sentences):
        return ""
    return asked.label
