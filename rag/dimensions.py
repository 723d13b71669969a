"""What a physical measure is stated in: a question asking for a qubit's T1, a wavelength, a pressure, a resistance,
a band gap, a linewidth or an efficiency is not answered by a figure in another unit ("agreement within 10%" for a
T1, "5 GHz" for a wavelength, "28 dBm" for an efficiency); one asking for a length, a thickness, a temperature or a
voltage not by a percentage nor by a unit of another physical dimension ("0.5 V" for a channel length; a time may
still be a length: "length of stay, 5 days"); none of them by a rate ("0.05 nm per pulse"), by a figure of another
shape ("a 4-nm-thick channel" for its length) or by a number word that counts something ("two superconducting
modules" for a cable length). Words whose unit depends on the field stay out: a frequency may be an allele's (5%),
a power a test's (80%), a width a pulse's (100 fs), a lifetime a risk (12%)."""

from __future__ import annotations

import re
from typing import NamedTuple

from rag.words import terms

_TIME = frozenset(
    "fs ps ns μs µs us ms s sec secs second seconds min mins minute minutes h hr hrs hour hours femtoseconds "
    "picoseconds nanoseconds microseconds milliseconds day days week weeks mo month months year years yr yrs".split()
)
_LENGTH = frozenset(
    "pm nm μm µm um mm cm m km å angstrom angstroms micron microns meter meters metre metres nanometer nanometers "
    "nanometre nanometres micrometer micrometers micrometre micrometres millimeter millimeters millimetre "
    "millimetres centimeter centimeters centimetre centimetres kilometer kilometers kilometre kilometres".split()
)
_FREQUENCY = frozenset("hz khz mhz ghz thz cm-1 hertz kilohertz megahertz gigahertz terahertz".split())
# not "k": "10K" is also ten thousand
_TEMPERATURE = frozenset(
    "mk μk µk nk kev °c °f ° ℃ kelvin degrees millikelvin microkelvin nanokelvin celsius fahrenheit".split()
)
_PRESSURE = frozenset("gpa mpa kpa pa kbar bar mbar atm torr pascal pascals gigapascals megapascals mmhg cmh2o".split())
_ENERGY = frozenset("mev ev kev gev tev j kj mj μj nj kj/mol kcal/mol electronvolts".split())
_VOLTAGE = frozenset("v mv kv μv µv volt volts millivolts kilovolts".split())
_POWER = frozenset("w mw kw gw μw µw nw dbm watt watts milliwatts".split())
_RESISTANCE = frozenset("ω ohm ohms mω kω gω mohm kohm milliohm milliohms kiloohm kiloohms".split())
_MASS = frozenset("kg g mg μg µg ng kda da kilograms grams milligrams micrograms lb lbs pounds oz tonnes tons".split())
_CONCENTRATION = frozenset("mm μm µm nm pm mg/ml mg/l μg/ml µg/ml ng/ml cm-3 mol/l".split())
_SHARE = frozenset({"%", "percent"})
_SEQUENCE = frozenset("bp kb kbp nt residues nucleotides tokens words".split())  # the length of a sequence
_RATIO = frozenset({"x", "×", "times", "fold", "db"})
_PHYSICAL = frozenset().union(  # a unit of one physical dimension states no other (time and ratios left out)
    _LENGTH, _FREQUENCY, _TEMPERATURE, _PRESSURE, _ENERGY, _VOLTAGE, _POWER, _RESISTANCE, _MASS, _CONCENTRATION
)
_NAMED_UNITS = (
    _TIME,
    _LENGTH,
    _FREQUENCY,
    _TEMPERATURE,
    _PRESSURE,
    _ENERGY,
    _VOLTAGE,
    _POWER,
    _RESISTANCE,
    _MASS,
    _SHARE,
)
"""The dimensions a question may name the unit of ("in milliseconds", "in percent")."""
_ALL_UNITS = frozenset().union(*_NAMED_UNITS, _CONCENTRATION, _RATIO, _SEQUENCE)


_SPEED = frozenset("faster quicker slower speedup speed-up".split())
_OTHER_RESOURCE = re.compile(
    r"\s*(?:less|fewer|smaller|lower|reduced)\s+(?:[\w\-]+\s+){0,2}(?:memory|parameters|energy|power|storage|"
    r"bandwidth|cost|footprint|area|traffic|communication|ram|vram|disk|weights|data|samples)\b",
    re.I,
)


def of_the_speed(found: list[tuple[str, int]], text: str, measure: tuple[str, ...]) -> list[tuple[str, int]]:
    """The (quantity, offset) pairs of `text` that may say how much faster, for a speed `measure` (all of them for
    another): not a ratio of another resource, by what follows it ("70x less memory", "10x fewer parameters")."""
    if not set(measure) & _SPEED:
        return found
    return [(q, a) for q, a in found if _OTHER_RESOURCE.match(text, a + len(q)) is None]


class Units(NamedTuple):
    """The units a measure is stated in (`units`) and those that state something else (`rejects`): for a T1 every
    other unit ("5 GHz"); for a length a share or another physical dimension ("0.5 V"), not a time ("length of stay,
    5 days"). `shapes`: a figure of such a shape is of another measure (a "4-nm-thick" channel states no length);
    `counted`: a number word may state it ("five unit cells thick"); `asked`: the question's words (a figure per one
    of them is no rate: "0.11 nm per cycle" answers the thickness grown per ALD cycle); `written`: the question names
    the unit, so only a figure written in one of `units` states it (not "30,000 decisions", "240 Pa·s")."""

    units: frozenset[str]
    rejects: frozenset[str]
    shapes: frozenset[str] = frozenset()
    counted: bool = False
    asked: frozenset[str] = frozenset()
    written: bool = False


NO_UNITS = Units(frozenset(), frozenset())


def _strict(units: frozenset[str]) -> Units:
    """Stated in `units` only ("5 GHz" is no T1)."""
    return Units(units, _ALL_UNITS - units)


def _physical(units: frozenset[str], shapes: frozenset[str] = frozenset(), counted: bool = False) -> Units:
    """Stated in `units` or a unit of no physical dimension (a time, a ratio), not a share."""
    return Units(units, (_SHARE | _PHYSICAL) - units, shapes, counted)


_ACCELERATING = frozenset("ev kev mev gev".split())  # "an accelerating voltage of 300 keV"
_MEASURES = {
    "t1": _strict(_TIME),
    "t2": _strict(_TIME),
    "wavelength": _strict(_LENGTH),
    "pressur": _strict(_PRESSURE),
    "tc": _strict(_TEMPERATURE),
    "imped": _strict(_RESISTANCE),
    "effici": Units(_SHARE | {"db"}, _PHYSICAL),  # a power-added efficiency is no "28 dBm" (a time may be one)
    "linewidth": Units(_FREQUENCY | _LENGTH | _ENERGY, _SHARE),  # also in gauss, degrees, mm/s: only no share
    "length": _physical(_LENGTH | _SEQUENCE, shapes=frozenset({"thick", "thin"})),  # "twelve residues"
    "thick": _physical(_LENGTH, shapes=frozenset({"long"}), counted=True),
    "distanc": _physical(_LENGTH),
    "diamet": _physical(_LENGTH),
    "radiu": _physical(_LENGTH),
    "temperatur": _physical(_TEMPERATURE | _ENERGY),  # "an electron temperature of 12 meV"
    "voltag": _physical(_VOLTAGE | _ACCELERATING),
}
_ELECTRICAL = frozenset("on contact sheet series specific electrical junction tunnel channel access shunt".split())
_PHYSICAL_TIMES = frozenset({"coher", "relax", "dephas"})  # "coherence time" is a physical one; "inference time" not

# a change or a comparison of the measure asked (a share or a factor answers it): "by how much", "the frequency shift"
_CHANGE = re.compile(
    r"\b(?:how much|by what|improv\w*|reduc\w*|increas\w*|decreas\w*|gain\w*|speed-?ups?|factor|faster|slower|"
    r"ratios?|fold|percent\w*|share|fraction|proportion|chang\w*|enhanc\w*|suppress\w*|longer|shorter|higher|lower|"
    r"larger|smaller|drop\w*|rise\w*|rose|risen|grew|grow\w*|relative|shift\w*|declin\w*|degrad\w*|shrink\w*|"
    r"shrank|loss|losses|lose|lost|fade\w*|fell|fall\w*|deteriorat\w*|decay\w*|outperform\w*|exceed\w*|surpass\w*|"
    r"boost\w*|beat\w*|differ\w*)\b",
    re.I,
)

_UNIT_AFTER = re.compile(r"^\s*(?:\(\d+\)\s*)?([^\s,;:()\[\]]+)")  # "50(3) μs": the unit after an uncertainty
_UNIT_REST = re.compile(r"(?:[/·⋅*A-Za-zμµωΩ°]|-(?=[A-Za-z]))[^\s,;:()\[\]]*")  # not a range's "-10%"
_INVERSE = re.compile(r"^\s*(?:\^\s*)?[-−⁻]\s*[1¹](?![\d.,])")  # "520 cm-1", "cm^-1", "cm⁻¹"


def asks_change(phrase: str, asked: str = "") -> bool:
    """Whether a question asks a change or a comparison of its measure ("By how much did T1 improve?", "What
    speed-up ...", "the frequency shift", "the weight loss"), which a share or a factor answers, not its value."""
    return bool(_CHANGE.search(phrase) or _CHANGE.search(asked))


# a change stated by the verb before "by" ("reduces the WER on test-clean by 18%") or a noun before "of"
_CHANGE_VERB = re.compile(
    r"\b(?:(?:reduc|improv|increas|decreas|rais|enhanc|degrad|declin|shorten|lengthen|accelerat)(?:e|es|ed|ing)|"
    r"lower(?:s|ed)|boost(?:s|ed)|cuts?|outperform(?:s|ed)?|exceed(?:s|ed)|surpass(?:es|ed)|gain(?:s|ed)|"
    r"drop(?:s|ped)|fell|falls?|rose|rises?|shift(?:s|ed)|suppress(?:es|ed)|shr[ai]nks?|beats?)"
    r"(?:\s+[\w\-/%.()]+){0,6}?\s+by\s+(?:(?:a|an)\s+(?:relative|absolute|additional|further)\s+|a\s+factor\s+of\s+|"
    r"(?:up\s+to|about|around|nearly|roughly|approximately|more\s+than|almost|only|just|another|at\s+least)\s+)?$",
    re.I,
)
_CHANGE_OF = re.compile(
    r"\b(?:improvement|reduction|increase|decrease|gain|drop|rise|boost|enhancement|speed-?up|shift|decline)s?\s+of\s+"
    r"(?:(?:up\s+to|about|around|over|nearly|roughly|approximately|more\s+than|almost|at\s+least)\s+)?$",
    re.I,
)
_COMPARED = re.compile(
    r"^\s*(?:(?:percentage\s+)?points?\s+)?(?:(?:higher|lower|faster|slower|fewer|better|worse|smaller|larger|longer|"
    r"shorter)\b|(?:more|less)\s+than\b)",
    re.I,
)


_OF = re.compile(r"\s+of\b", re.I)  # "half of the patients" is a share; "half the data" a comparison


def a_change(quantity: str, before: str, after: str) -> bool:
    """Whether a figure, between the text `before` and `after` it, states a change or a comparison rather than a
    value: "reduces the WER by a relative 18%", "an improvement of 2.1 points", "12% higher than", "twice", "half the
    data" (not "half of the patients")."""
    multiplier = quantity.lower() in ("twice", "double") or (quantity.lower() == "half" and not _OF.match(after))
    if multiplier or _COMPARED.match(after) or _CHANGE_OF.search(before[-80:]):
        return True
    return bool(_CHANGE_VERB.search(before[-90:])) or _serial_change(before)


def _serial_change(before: str) -> bool:
    """Whether a figure is a later object of a change verb: "reduces collisions by 20%, latency by 25% and energy
    by" (each "by" before it back to the verb)."""
    for _ in range(4):
        serial = _SERIAL_BY.search(before)
        if serial is None:
            return False
        before = before[: serial.start()] + "by "
        if _CHANGE_VERB.search(before[-90:]):
            return True
    return False


_BY_FIGURE = (
    r"by\s+(?:a\s+factor\s+of\s+)?(?:(?:up\s+to|about|around|nearly|roughly|approximately|over|more\s+than|almost)\s+)?"
)
_SERIAL_BY = re.compile(
    rf"\b{_BY_FIGURE}[\d.,]+\s*(?:%|x|×|-?fold|percent|times)?\s*(?:,\s*(?:and\s+)?|\s+and\s+)"
    rf"(?:(?![a-z]+ed\b|as\b)[\w\-/]+\s+){{1,5}}?{_BY_FIGURE}$",  # not "enabled by", "as measured by"
    re.I,
)


CONDITION = re.compile(
    r"(?:room|low|high|zero|ambient|elevated|cryogenic|finite|ultra-?low|ultra-?high)-"
    r"(?:temperatures?|fields?|pressures?|frequency|bias|power|doping)",
    re.I,
)
"""A condition a measure is taken under, one word ("room-temperature resistivity", "zero-field splitting"): its words
do not name the measure (a "0K" is no resistivity), and a resistivity under it is one alone."""


def units_of(phrase: str, asked: str = "") -> Units:
    """The units of the measure a question names, read from its head word ("coherence time": a time; "power
    conversion efficiency": a share); none when the question (`asked`, its clause) asks a change or a comparison ("by
    how much did T1 improve", "how much longer": a share or a factor answers)."""
    words = re.findall(r"[\w\-]+", phrase.lower())
    if not words or asks_change(phrase, asked):
        return NO_UNITS
    head = terms(words[-1])
    said = re.findall(r"[a-zμµ]+", f"{phrase} {asked}".lower())
    said_words = frozenset(said) | {w.rstrip("s") for w in said}
    if "time" in head and len(words) > 1 and terms(words[-2]) & _PHYSICAL_TIMES:
        return _strict(_TIME)._replace(asked=said_words)
    if "temperatur" in head and len(words) > 1 and words[-2] in ("transition", "critical", "curie", "neel", "néel"):
        return _strict(_TEMPERATURE)._replace(asked=said_words)
    if "resist" in head:  # electrical only: not an insulin, a drug or a thermal resistance ("35%", "0.8 °C/W")
        words = [w for w in words if not CONDITION.fullmatch(w)]
        alone = words == ["resistivity"] or words[-1] == "on-resistance"
        electrical = alone or bool(set(words[-2:-1]) & _ELECTRICAL)
        return _strict(_RESISTANCE)._replace(asked=said_words) if electrical else NO_UNITS
    if words[-1] in ("rate", "rates") and len(words) > 1 and words[-2] in _SHARE_RATES:
        return Units(_SHARE, _PHYSICAL | _TIME, asked=said_words)  # "completes the task in 12 seconds": no success rate
    found = next((_MEASURES[s] for s in head if s in _MEASURES), None)
    if stated := _asked_unit(asked):  # "in percent": a fraction may state it too; "in kelvin": "92 K" does
        kelvin = {"k"} if stated == _TEMPERATURE else set()
        shapes = found.shapes if found is not None else frozenset()  # "4-nm-thick" is no length in nm either
        return Units(stated | kelvin, _ALL_UNITS - stated, shapes, asked=said_words, written=stated != _SHARE)
    return found._replace(asked=said_words) if found is not None else NO_UNITS


_SHARE_RATES = frozenset("success completion pass win acceptance hit".split())  # rates that are shares of trials
_IN_UNIT = re.compile(
    r"\bin\s+(?:units\s+of\s+)?(?:degrees\s+(?=celsius|fahrenheit))?(?P<unit>%|[a-zμµ°℃ω]{2,})\s*[?.!]*\s*$", re.I
)


def without_asked_unit(question: str) -> str:
    """The question without the unit it names at its end ("What is the band gap in eV?" -> "What is the band gap"):
    a figure in any unit of that dimension answers it, so the unit's words need not be in the abstract."""
    m, units = _unit_at_end(question)
    return question[: m.start()] + question[m.end() :] if m and units else question


def _asked_unit(asked: str) -> frozenset[str]:
    """The units of the dimension a question names the unit of at its end ("... latency in milliseconds?": a time;
    "in percent": a share), or none."""
    return _unit_at_end(asked)[1]


def _unit_at_end(question: str) -> tuple[re.Match[str] | None, frozenset[str]]:
    """Where a question names a unit at its end, and the units of that unit's dimension (none: no unit named)."""
    m = _IN_UNIT.search(question)
    written = m.group("unit") if m else ""
    if (written.isupper() and len(written) <= 2) or (written[-1:] == "M" and written.lower() in _CONCENTRATION):
        return m, frozenset()  # "in US?" is a country; "in mM", "in nM" are concentrations, which no check knows
    unit = written.lower()
    return m, frozenset().union(*(g for g in _NAMED_UNITS if unit in g)) if unit else frozenset()


_PHYSICS_CUE = re.compile(  # a T1 or T2 of a physical system: not an MRI's T1-weighted images nor a TNM stage
    r"\b(?:qubits?|spins?|transmons?|fluxoniums?|nv|donors?|coheren\w*|relaxation|nuclear|electrons?|resonators?|"
    r"ions?|atoms?|magnons?|dots?|defects?|centers?|centres?)\b",
    re.I,
)


def keyword_figure(words: list[str]) -> bool:
    """Whether a keyword query asks the figure of the physical measure its last word names ("35-qubit device T2",
    "microring resonance linewidth"): not a modifier ("room-temperature", "T2-weighted"), a plural ("telecom
    wavelengths") nor the T1 or T2 of no physical system ("brain MRI T1")."""
    last = words[-1].lower().rstrip("?.!,;:")
    if ("-" in last and last != "on-resistance") or (last.endswith("s") and not last.endswith(("ss", "us"))):
        return False
    units = units_of(" ".join(words[-2:]))
    if units.units == _TIME and not _PHYSICS_CUE.search(" ".join(words)):
        return False
    return bool(units.units)


def fits(quantity: str, following: str, units: Units) -> bool:
    """Whether a quantity may state a measure stated in `units`: not in a unit it `rejects`, not a rate ("0.05 nm per
    pulse", "5 °C min-1") nor a figure of another shape ("4-nm-thick"), not a number word without a unit ("two
    modules")."""
    if not units.units:
        return True
    unit = in_unit(quantity, following)
    if units.written:
        return _written_in(unit, following, units)
    if not unit:
        return units.counted or any(c.isdigit() for c in quantity)  # a number word with no unit counts something
    if unit in units.units:
        return True
    unit, shape, per = _compound(unit)
    if shape in units.shapes and unit in _LENGTH:
        return False  # "a 4-nm-thick channel" states no channel length
    rate = (per in _TIME or per in _STEPS) and per not in units.asked and unit in _ALL_UNITS
    if rate and units.rejects != _SHARE:
        return False  # "0.05 nm per pulse", "10 °C/min"
    return bool(per) or unit in units.units or unit not in units.rejects  # "2 nJ/bit" is a measure of its own


_STEPS = frozenset("pulse cycle step iteration epoch".split())  # a figure per one of them is a rate
_SHAPES = frozenset("thick thin wide deep tall high long".split())


def _written_in(unit: str, following: str, units: Units) -> bool:
    """Whether a figure's `unit` is one of `units` itself, maybe per something or of a shape the measure allows ("0.42
    s per frame", "5-nm-thick" for a thickness, "35/48 µs"), not a product of it ("240 Pa·s" is no pressure)."""
    slash = re.match(r"\s*/[\d.,]+\s*([^\s,;:()]+)", following) if unit[:1] in ("", "/") else None
    unit = slash.group(1).lower().rstrip(".") if slash else unit  # "rise/fall times of 35/48 µs"
    own, _, shape = unit.partition("-")
    if shape in _SHAPES:
        unit = "" if shape in units.shapes else own  # "a 4-nm-thick channel" states no channel length
    return unit.partition("/")[0] in units.units


def _compound(unit: str) -> tuple[str, str, str]:
    """A unit's own part, the dimension its hyphen names and what it is per: "nm-thick" ("nm", "thick", ""),
    "nm/min" and "nm/pulse" ("nm", "", "min"; "nm", "", "pulse"), "mω·cm2" and "kohm-cm" ("mω", "kohm")."""
    unit, _, shape = unit.partition("-") if unit.partition("-")[2] in _SHAPES else (unit, "", "")
    unit, _, per = unit.partition("/")
    per = per if per in _TIME else per.rstrip("s")
    return re.split(r"[·⋅*]|-(?=[a-zμµω])", unit, maxsplit=1)[0], shape, per


def in_unit(quantity: str, following: str) -> str:
    """The unit, lower case, written onto a quantity ("10%", "5ms", "3 GHz") or right after it ("50 μs", "50(3) μs",
    "nine micrometres"), or ""."""
    own = re.search(r"[\d.,]\s?([^\d\s.,][^\s]*)$", quantity)
    if own and own.group(1) in ("×", "x") and re.match(r"\s*10", following):
        return ""  # "3.1 × 10⁻¹⁸": a number in scientific notation, not a factor
    if own:
        unit = own.group(1).lower()
        if _INVERSE.match(following):
            return f"{unit}-1"
        rest = _UNIT_REST.match(following)  # "2 nJ" + "/bit", "3.1 m" + "Ω·cm2"
        return f"{unit}{rest.group(0).lower()}".rstrip(".") if rest else _per(unit, following)
    after = _UNIT_AFTER.match(following)
    word = after.group(1).lower().rstrip(".").lstrip("-") if after else ""
    head, _, tail = word.rpartition("-")
    word = tail if tail in _ALL_UNITS and head.split("-")[0] not in _ALL_UNITS else word  # "ten device-hours"
    if word in ("percent", "per"):
        return "%" if word == "percent" else ""
    if after and (word in _ALL_UNITS or word.rstrip("s") in _ALL_UNITS):
        return _per(word, following[after.end() :])
    return word if _compound(word)[0] in _ALL_UNITS else ""  # "nm/min", "4-nm-thick", "mΩ·cm2", "kohm-cm"


# what a unit is per when written apart: "0.05 nm per pulse", "52 kg grain per kg N", "0.45 W A-1", "10 °C min−1"
_PER = re.compile(r"(?:\s+[a-z]+)?\s+per\s+([a-zμµω°]+)|\s+([a-zμµω°]+)\s?[-−⁻]\s?[1-9¹²³]\b", re.I)


_APART = re.compile(r"\s*(hg|h2o)\b", re.I)


def _per(unit: str, rest: str) -> str:
    """`unit`, "unit/what" when `rest` (the text after it) says what it is per, or the unit it begins ("mmhg")."""
    apart = _APART.match(rest) if unit in ("mm", "cm") else None  # "138 mm Hg"
    if apart:
        return unit + apart.group(1).lower()
    per = _PER.match(rest)
    return f"{unit}/{(per.group(1) or per.group(2)).lower()}" if per else unit


def _after(text: str, quantity: str, start: int, length: int = 24) -> str:
    """The text right after the quantity found at offset `start` of `text`, where its unit is written."""
    return text[start + len(quantity) : start + len(quantity) + length]


def unit_at(text: str, quantity: str, start: int) -> str:
    """The unit of the quantity found at offset `start` of `text` (`in_unit`), less what it is per ("mω" of
    "mΩ·cm2")."""
    return _compound(in_unit(quantity, _after(text, quantity, start)))[0]


def in_units(found: list[tuple[str, int]], text: str, units: Units) -> list[tuple[str, int]]:
    """The (quantity, offset) pairs of `text` that may state a measure stated in `units` (`fits`)."""
    return [(q, a) for q, a in found if fits(q, _after(text, q, a), units)]


def values_in(found: list[tuple[str, int]], text: str) -> list[tuple[str, int]]:
    """The (quantity, offset) pairs of `text` that state a value, not a change (`a_change`)."""
    return [(q, a) for q, a in found if not a_change(q, text[max(0, a - 200) : a], _after(text, q, a, 30))]
