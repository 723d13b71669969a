"""Quantities and what they measure: the numbers a sentence states with their units (3 ms, 1.2k, 45%), the metric
words a question asks about, and whether a quantity stands near the measure asked for."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable

from rag.dimensions import NO_UNITS, Units, in_units, of_the_speed, unit_at, values_in, without_asked_unit
from rag.normalise import UNITS, unit_of
from rag.support import STOPWORDS
from rag.unit_aliases import UNIT_ALIASES
from rag.words import compounds, joined_terms, terms

COMPARATIVES = frozenset(
    "faster slower smaller larger bigger cheaper higher lower better worse quicker fewer more less ahead behind".split()
)
"""Comparative words: a measure in their own right ("faster and smaller"), or before the measure they compare ("how
far ahead in accuracy")."""

METRIC = (
    r"(?:number|percentage|share|fraction|proportion|portion|amount|accuracy|error|score|f1|f-score|bleu|rouge|perplexity|"
    r"map|miou|auc|roc-auc|psnr|ssim|wer|cer|der|mos|dice|precision|recall|rate|speed-?up|throughput|latency|"
    r"auroc|auprc|ndcg|mrr|size|count|bitrate|resolution|distance|energy|power|mean|top-[15]|sparsity|gain|improvement|"
    r"reduction|factor|dimension|parameters|frames per second|fps|time|duration|minimum|maximum|lowest|highest|peak|"
    r"median|fidelity|"
    # physical and other measured quantities of the sciences
    r"pressure|temperature|tc|wavelength|frequency|thickness|exponent|period|spin gap|band ?gap|energy gap|length|"
    r"width|height|depth|diameter|radius|mass|density|concentration|dose|dosage|voltage|current density|resistance|"
    r"resistivity|conductivity|magnetization|susceptibility|velocity|angle|lifetime|half-life|yield|efficiency|"
    r"ratio|fluence|bandwidth|mobility|doping level|volume|cost|capacity|amplitude|coefficient|field strength|"
    r"critical field|critical current|transition temperature|onset|"
    # clinical and biological ones
    r"prevalence|incidence|odds ratio|hazard ratio|relative risk|mortality|survival|age|molecular weight|"
    r"molecular mass|body weight|half-maximal|ic50|ec50|kd|sensitivity|specificity|p-value|p value|"
    r"[a-z][\w\-]{0,15}@\d+)"  # "pass@1", "recall@10"
)
NAMED_MEASURE = (
    r"(?:value|uncertainty|linewidth|deviation|variance|rmse|mse|mae|snr|kappa|quality factor|q factor|modulus|"
    r"splitting|purity|overhead|footprint|consumption)"
)
"""Measured quantities a question asks a figure of only as "what is the <measure> of/for/... X" ("What is the
systematic uncertainty of the clock?"): after "what" or "which" elsewhere they name a kind of thing or a topic ("What
type of uncertainty ...?", "Which SNR regime ...?", "What modulus of elasticity model ...?": helper-53)."""
_UNIT = r"(?:%|x|×|times|k|K|M|B|G|T|ms|s|h|kbps|Mbps|kHz|MHz|GHz|nJ|mJ|mW|W|mm|cm|m|km|GB|MB|TB|bit|bits|fps|dB)"
_SMALL = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
# a number inside a name is none: after a letter of any script ("ResNet-50", "Σ5"), or a bare integer in brackets
# after a word ("Cu(111)", "Σ5(210)"; not "LLaMA2(90B)", "Cifar10-DVS(82.40%)")
_QUANTITY = re.compile(
    rf"\b{_SMALL} out of {_SMALL}\b"  # a share in words: "three out of four"
    r"|(?:(?<=\d\^)|(?<=\^[({]))[-−]\d+(?:[./]\d+)?"  # a negative power: "P(m) ~ m^(-5/3)", "t^{-1/2}"
    r"|(?<![\w\-/.])(?!(?<=\w\()\d+\))"
    rf"\d+(?:[.,]\d+)*(?:\s*(?:-|–|--|to)\s*\d+(?:[.,]\d+)*)?(?:\s?{_UNIT})?(?![A-Za-z\d])"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:thir|four|fif|six|seven|eigh|nine)teen|"
    r"(?:twen|thir|for|fif|six|seven|eigh|nine)ty|hundred|thousand|million|billion|trillion|"
    r"single|dozens?|half|twice|double)\b",
    re.I,
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_ENUMERATION = re.compile(r"\(\d\)|(?<![\w./])\d\)")
_TIME_UNIT = re.compile(
    r"\b(?:\d+\s*)?(?:ms|milliseconds?|seconds?|minutes?|hours?|h|days?|weeks?|months?|years?|GPU-(?:days?|hours?))\b"
    r"|\d(?:ms|s|h)\b|\d\s*(?:hrs?|mins?|wks?|yrs?)\b"
    # the short spans of physics, after a number only: "45-fs pulses", "T2 of 1.8 μs" (not "ns", also not
    # significant, nor "us")
    r"|\d[\s\-]*(?:fs|ps|μs|µs)(?![\w/])|\b(?:femto|pico|nano|micro)seconds?\b",
    re.I,
)


def _without_enumerations(sentence: str) -> str:
    """A sentence with its list markers ("(1)", "2)") blanked, offsets kept."""
    return _ENUMERATION.sub(lambda m: " " * len(m.group(0)), sentence)


def _numbers_in(text: str) -> list[tuple[str, int]]:
    """The numbers of a text whose list markers are blanked, each with its offset: not years."""
    return [(q.group(0), q.start()) for q in _QUANTITY.finditer(text) if not _YEAR.match(q.group(0))]


def placed_quantities(sentence: str) -> list[tuple[str, int]]:
    """The numbers a sentence states (`quantities`), each with its offset in the sentence."""
    return _numbers_in(_without_enumerations(sentence))


def quantities(sentence: str) -> list[str]:
    """Numbers stated in a sentence: not years, list markers or digits inside names (CIFAR-10, ResNet-50)."""
    return [q for q, _ in placed_quantities(sentence)]


def has_time(sentence: str) -> bool:
    """Whether a sentence states a duration (a number with a time unit, or 'less than a second')."""
    return bool(_TIME_UNIT.search(sentence)) and bool(
        quantities(sentence) or re.search(r"\ba (?:second|day)\b", sentence)
    )


METRIC_TOKEN = re.compile(rf"^(?:{METRIC}|[A-Za-z][\w\-]*@\d+|top-?\d+)$", re.I)


_UNIT_ABBREVIATIONS = frozenset(
    "db fps hz khz mhz ghz thz ms gb mb tb kb kbps mbps gflops tflops flops mev kev gev tev gpa mpa kpa".split()
)
_CASED_UNITS = frozenset(
    # doses, concentrations, lengths and masses of the life sciences, written in their own case: "MG", "Mg" and
    # "MM" name things (myasthenia gravis, magnesium, multiple myeloma); "mg", "mM" are units
    "nM μM µM uM mM pM nm μm µm mm mg μg µg ug ng pg ml mL μl µl μL µL mg/kg μg/kg µg/kg mg/ml mg/mL μg/ml µg/ml "
    "μg/mL µg/mL ng/ml ng/mL pg/ml pg/mL mmol/l mmol/L μmol/l µmol/l μmol/L µmol/L mmHg kDa".split()
)


_UNIT_NAMES = frozenset({"decibels", "degrees", "deg"})


def onto_number(unit: str, text: str) -> bool:
    """Whether a text writes a unit onto a number, with no space ("2.5-20μM", "3kbps")."""
    return re.search(rf"\d{re.escape(unit)}\b", text, re.I) is not None


def life_science_unit(word: str) -> bool:
    """Whether a word is a dose, concentration, length or mass unit of the life sciences ("nM", "mg/kg", "ml"),
    which abstracts also write as names in other case ("MG", "MM")."""
    return word.strip(",;:") in _CASED_UNITS


def unit_word(word: str) -> bool:
    """Whether a word is a unit (not a one-letter one, which may be anything): "dB", "seconds", "percent"."""
    if life_science_unit(word):
        return True
    word = word.strip(",;:").lower()
    return len(word) > 1 and (word in _UNIT_ABBREVIATIONS or unit_of(word) is not None or word in _UNIT_NAMES)


def written_as_unit(name: str, question: str) -> bool:
    """Whether a question writes `name` as a unit ("... in GHz?", "in degrees Celsius?", "the 10 GHz receiver", "per
    GB"): no name an abstract must mention, for any unit of its dimension may state the figure."""
    if name not in without_asked_unit(question):
        return True
    return unit_word(name) and re.search(rf"(?:\bper\s+|\d\s?){re.escape(name)}\b", question) is not None


def unit_tail(word: str, after: str) -> bool:
    """Whether `word` belongs to the measure a unit ends ("SDR dB", "frames per second", "top-1 accuracy %")."""
    bare = word.strip(",;:")
    return (
        after.lower() == "per"  # the numerator of a rate
        or bare.lower() == "per"
        or tail_word(bare)
        or unit_word(bare)
        or (bare.isupper() and 2 <= len(bare) <= 6)  # a metric's acronym: "SDR", "PESQ"
    )


def tail_word(word: str) -> bool:
    """Whether a word belongs to a measure's phrase ("word error rate", "top-1 accuracy")."""
    return bool(METRIC_TOKEN.match(word)) or word.lower() in ("word", "character", "error", "mean", "average")


METRIC_WORD = re.compile(rf"\b{METRIC}\b", re.I)


_RATIO = frozenset({"%", "x", "times", "fold", "percent"})
_SHARE = frozenset(terms("percentage share fraction proportion portion"))  # stems: "proport"
_CHANGE = frozenset(terms("percentage"))  # a percentage may be a change ("reduced by 20%"), a proportion is not


def measure_matches(measure: tuple[str, ...], sentence_terms: set[str], sentence: str) -> bool:
    """Whether a sentence speaks of what the question measures (a stem, or a unit written another way)."""
    if not measure:
        return True
    lowered = sentence.lower()
    for stem in measure:
        if stem.isupper():  # initials in capitals ("HR") match only as written
            if re.search(rf"\b{re.escape(stem)}s?\b", sentence):
                return True
            continue
        if stem in sentence_terms:
            return True
        shares = _unit_spellings("percent") if stem in _SHARE else set()  # "what proportion": "14.7%"
        for alias in UNIT_ALIASES.get(stem, set()) | _unit_spellings(stem) | shares:
            if alias in sentence_terms or (not alias.isalpha() and alias in lowered):
                return True
            if not alias.isdigit() and onto_number(alias, lowered):
                return True  # "WEL (2.5-20μM)", "5ms"
            if alias in ("x", "times") and re.search(r"\d\s*(?:x|×|times)\b", lowered):
                return True
    return bool(set(measure) & joined_terms(sentence))  # "bandgap" asked, "band gap" written


def _aliases(stem: str) -> frozenset[str] | set[str]:
    """Other ways a sentence names a measure; a comparative ("bigger", "higher") is stated as a ratio."""
    if stem in UNIT_ALIASES:
        return UNIT_ALIASES[stem] | _unit_spellings(stem)
    if stem in _SHARE:  # "what proportion": "in 14.7% of tumours"
        return _unit_spellings("percent")
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
        if stem.isupper():  # initials in capitals ("HR") match only as written
            if token in (stem, f"{stem}s"):
                return True
            continue
        if stem in token_terms:
            return True
        for alias in _aliases(stem):
            if alias in token_terms or lowered == alias or (not alias.isalpha() and alias in lowered):
                return True
            if alias in ("x", "times", "fold") and re.fullmatch(r"(?:\d[\d.,]*-?)?(?:x|×|times|fold)", lowered):
                return True
            if not alias.isdigit() and re.fullmatch(rf"[\d.,\-–]*\d{re.escape(alias)}", lowered):
                return True  # a unit written onto its number: "2.5-20μM", "5ms"
    return False


_PERCENT_SCORES = frozenset({"accuraci", "precis", "recal", "f1", "top-1", "top-5", "success"})


# resources a cost is counted in: another one's overhead, footprint or usage is another measure ("17.89% less runtime
# overhead" gives no memory overhead)
_RESOURCE = {
    word: group
    for group, words in {
        "time": "time runtime run-time latency computational computation compute cpu execution",
        "memory": "memory ram storage space disk",
        "energy": "energy power",
        "communication": "communication bandwidth network traffic",
        "area": "area silicon",
    }.items()
    for word in words.split()
}


def other_measure(modifier: str, word: str, rivals: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether `word`, written right before the measure where the question writes `modifier`, makes it another
    measure: a rival (a long form's first word: "word" error rate for "character" error rate), another resource
    ("runtime" overhead for "memory" overhead), or the modifier with other digits ("top-5" accuracy for "top-1")."""
    word, modifier = word.strip(".,;:()[]\"'").lower(), modifier.lower()
    if not word or word == modifier:
        return False
    if word in rivals:
        return True
    if word in _RESOURCE and modifier in _RESOURCE and _RESOURCE[word] != _RESOURCE[modifier]:
        return True  # "runtime" overhead for "memory" overhead
    return any(c.isdigit() for c in modifier) and re.sub(r"\d+", "#", word) == re.sub(r"\d+", "#", modifier)


def measured_quantities(
    measure: tuple[str, ...],
    sentence: str,
    window: int,
    modifier: str = "",
    rivals: frozenset[str] | set[str] = frozenset(),
    units: Units = NO_UNITS,
    values: bool = False,
) -> list[str]:
    """The sentence's quantities that lie within `window` words of a word naming what is measured ("a BLEU score
    of 34.8": 34.8 for BLEU; "cuts computation by 20% ... in terms of AP50": not 20% for AP50 at a small window).
    A run of measure words right after another measure's modifier (`other_measure`: "word error rate" when the
    question's `modifier` is "character") names another measure, unless the sentence also writes the question's.
    A quantity nearer another measure's word is that measure's ("a quality factor of 1.7e6" near a cable); with the
    measure's `units` (rag.dimensions), one in another unit or a number word counts nothing; where `values` are asked,
    a change ("by 18%") counts nothing. With no measure every quantity counts."""
    text = compounds(_without_enumerations(sentence))
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    found = _numbers_in(text)
    if not measure:
        return [q for q, _ in found]
    found = of_the_speed(found, text, measure)  # "70x less memory" does not say how much faster
    found = in_units(found, text, units) if units.units else found  # "10%" states no T1, "two modules" no length
    found = values_in(found, text) if values else found  # a value asked: "reduces the WER by 18%" is a change
    marks = [i for i, (a, b) in enumerate(tokens) if _speaks_of(measure, text[a:b])]
    if modifier and not re.search(rf"(?<![\w-]){re.escape(modifier)}(?![\w-])", text, re.I):
        marks = _own_runs(marks, tokens, text, modifier, rivals)
    top_k = re.fullmatch(r"top-?(\d+)", modifier, re.I)
    if not marks and set(measure) & _PERCENT_SCORES and not _scored_otherwise(text) and (not top_k or top_k[1] == "1"):
        # "This baseline achieved 88.53% on 10-Split-CIFAR-100": a bare percentage is the score when the sentence
        # names no other measure ("with 22.8M parameters" counts something and scores nothing); a top-1 score
        # unless a top-5 one is asked
        return [q for q, _ in found if q.endswith("%")]
    if set(measure) & _SHARE:  # "what fraction": a share in words states itself; "reduced by 45%" is a change
        if not set(measure) & _CHANGE:  # ... which "by what percentage" asks for
            found = [f for f in found if not re.search(r"\bby\s*$", text[: f[1]])]
        found, shares = [f for f in found if " out of " not in f[0]], [q for q, _ in found if " out of " in q]
    else:
        shares = []
    if not marks:
        return shares

    starts = [a for a, _ in tokens]

    def position(offset: int) -> int:  # the token holding `offset` (tokens are sorted and apart)
        i = bisect_right(starts, offset) - 1
        return i if i >= 0 and offset < tokens[i][1] else len(tokens)

    def distance(i: int) -> int:  # to the nearest mark (marks are sorted)
        k = bisect_left(marks, i)
        return min(abs(i - marks[j]) for j in (k - 1, k) if 0 <= j < len(marks))

    at = [(q, position(start)) for q, start in found]
    # a figure right by another measure's word is that measure's ("a fidelity of 99.5%" is no accuracy), unless it
    # is in the asked measure's unit or the sentence pairs figures and measures by order ("... respectively")
    others = [] if re.search(r"\brespectively\b", text, re.I) else _other_measures(text, marks, position)

    def owned(q: str, i: int, start: int) -> bool:
        near_other = any(abs(i - o) < min(distance(i), 3) for o in others)  # "a fidelity of 99.5%"
        return near_other and unit_at(text, q, start) not in units.units

    near = [q for (q, i), (_, start) in zip(at, found, strict=True) if distance(i) <= window and not owned(q, i, start)]
    return shares + near + _carried(marks, at, tokens, text, window)


COUNT_HEAD = frozenset({"count", "number", "amount", "size", "total"})
"""Words whose "of" names what is counted ("the number of GPUs"): no measure of their own."""
_COUNTS = COUNT_HEAD | {"parameters", "dimension"}


def _scored_otherwise(text: str) -> bool:
    """Whether a sentence names another measure, which a bare percentage may be a figure of: any measure word but a
    count after its own number ("with 22.8M parameters"; not "reduces parameters by 40%", "50% fewer parameters")."""
    return any(
        m.group(0).lower() not in _COUNTS
        or not re.search(r"\d[\d.,]*\s?[kKMBG]?\s+$", text[max(0, m.start() - 40) : m.start()])
        for m in METRIC_WORD.finditer(text)
    )


_MEASURE_NOUN = re.compile(rf"(?<![\w\-]){METRIC}(?![\w\-])|(?<![\w\-]){NAMED_MEASURE}(?![\w\-])", re.I)
_NOT_A_RIVAL = COUNT_HEAD | frozenset(  # words that qualify a figure, not another measure
    "mean minimum maximum lowest highest peak median value values improvement reduction gain time score factor".split()
)


def _other_measures(text: str, marks: list[int], position: Callable[[int], int]) -> list[int]:
    """The words of a sentence naming another measure than the one asked for ("a quality factor of 1.7e6" where a
    cable length is asked): not one of the measure's own words nor a word of its run ("BLEU score")."""
    marked = set(marks)
    out: list[int] = []
    for m in _MEASURE_NOUN.finditer(text):
        if m.group(0).lower() in _NOT_A_RIVAL:
            continue
        i, j = position(m.start()), position(m.end() - 1)
        if any(k in marked for k in range(i - 1, j + 2)):
            continue
        out.extend(range(i, j + 1))
    return out


def _own_runs(
    marks: list[int], tokens: list[tuple[int, int]], text: str, modifier: str, rivals: frozenset[str] | set[str]
) -> list[int]:
    """The marks, less each run of them that another measure's modifier opens (`other_measure`)."""
    kept: list[int] = []
    start, marked = -1, set(marks)
    for i in marks:
        if i - 1 not in marked:  # a run begins
            start = i
        before = text[slice(*tokens[start - 1])] if start > 0 else ""
        if not other_measure(modifier, before, rivals):
            kept.append(i)
    return kept


def _carried(
    marks: list[int], found: list[tuple[str, int]], tokens: list[tuple[int, int]], text: str, window: int
) -> list[str]:
    """The first quantity after the last mark, further than `window` words but within three times that, when no
    other measure, quantity or clause break lies between ("the top-1 accuracy on ImageNet-1k of MobileNetV3 and
    ResNet50-D can be improved from 75.2% to 79%": 75.2% and what follows it in the same run)."""
    last = max(marks)
    while last + 1 < len(tokens) and METRIC_WORD.fullmatch(text[slice(*tokens[last + 1])].strip(",.;:")):
        last += 1  # "top-1 accuracy", "BLEU score": the measure's own head word is no other measure
    after = [(q, i) for q, i in found if i > last]
    if not after or after[0][1] - last <= window or after[0][1] - last > 3 * window:
        return []
    between = text[tokens[last][1] : tokens[after[0][1]][0]] if after[0][1] < len(tokens) else ""
    if re.search(r"[;.:]\s|\(", between) or METRIC_WORD.search(between):
        return []
    first = after[0][1]
    if first + 1 < len(tokens):  # "8 GPUs" counts something else; "75.2% to 79%" states the measure
        following = text[tokens[first + 1][0] : tokens[first + 1][1]].strip(",.;:").lower()
        if following.isalpha() and following not in STOPWORDS and following != "respectively":
            return []
    return [q for q, i in after if i - first <= window]
