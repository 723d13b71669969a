"""The `siunitx` quantities of an abstract's LaTeX written out: `\\qty{0.17}{\\electronvolt}` reads "0.17 eV",
`\\num{747}` "747", `\\qtyrange{50}{90}{\\degree}` "50–90°", `\\SI{3.5}{\\milli\\second}` "3.5 ms". arXiv keeps
the authors' markup; without this, the number and its unit ran together ("qty0.17electronvolt") and no number
question found them. Run before the rest of `rag.corpus.latex`."""

from __future__ import annotations

import re
from collections.abc import Mapping

_PREFIXES = {
    "yocto": "y", "zepto": "z", "atto": "a", "femto": "f", "pico": "p", "nano": "n", "micro": "μ", "milli": "m",
    "centi": "c", "deci": "d", "deca": "da", "hecto": "h", "kilo": "k", "mega": "M", "giga": "G", "tera": "T",
    "peta": "P", "exa": "E",
}  # fmt: skip
_UNITS = {
    "metre": "m", "meter": "m", "second": "s", "hertz": "Hz", "kelvin": "K", "electronvolt": "eV", "volt": "V",
    "ampere": "A", "watt": "W", "joule": "J", "tesla": "T", "pascal": "Pa", "gram": "g", "kilogram": "kg",
    "ohm": "Ω", "percent": "%", "degree": "°", "degreeCelsius": "°C", "celsius": "°C", "mole": "mol",
    "litre": "L", "liter": "L", "bar": "bar", "decibel": "dB", "gauss": "G", "siemens": "S", "farad": "F",
    "henry": "H", "coulomb": "C", "newton": "N", "minute": "min", "hour": "h", "day": "d", "angstrom": "Å",
    "dalton": "Da", "barn": "b", "molar": "M", "arcminute": "′", "arcsecond": "″", "radian": "rad",
    "steradian": "sr", "candela": "cd", "becquerel": "Bq", "gray": "Gy", "sievert": "Sv", "lux": "lx",
    "weber": "Wb", "byte": "B", "bit": "bit", "astronomicalunit": "au", "parsec": "pc", "lightyear": "ly",
}  # fmt: skip
# bounded, so that markup left open ("\qty[" a thousand times) is not read to the end of the text each time
_NUMBER_ARG = r"\{([^{}]{1,100})\}"  # not "\SI{}{}", an author's "Supplementary Information"
_UNIT_ARG = r"\{((?:[^{}]|\{[^{}]{0,20}\}){0,200})\}"  # one level of braces inside: "\metre\tothe{3}"
_OPTIONS = r"\s*(?:\[([^\][]{0,200})\]\s*)?"
_RANGE = re.compile(rf"\\(?:qtyrange|SIrange){_OPTIONS}{_NUMBER_ARG}\s*{_NUMBER_ARG}\s*{_UNIT_ARG}")
_NUMRANGE = re.compile(rf"\\numrange{_OPTIONS}{_NUMBER_ARG}\s*{_NUMBER_ARG}")
_QUANTITY = re.compile(rf"\\(?:qty|SI){_OPTIONS}{_NUMBER_ARG}\s*{_UNIT_ARG}")
_NUMBER = re.compile(rf"\\num{_OPTIONS}{_NUMBER_ARG}")
_UNIT_ONLY = re.compile(rf"\\(?:si|unit){_OPTIONS}{_UNIT_ARG}")  # the units package: "\unit[500]{nm}"
_ANGLE = re.compile(rf"\\ang{_OPTIONS}{_NUMBER_ARG}")
MACRO = re.compile(r"\\(?:qty|SI|num|si|unit|qtyrange|SIrange|numrange|ang)\b")
"""Whether a text holds a siunitx macro (a `$...$` span holding one is rewritten before it is read as math)."""
_EXPONENT = re.compile(r"^([-+]?[\d.,]+(?:\(\d+\))?)\s*[eE]\s*([-+]?)(\d+)$")
_POWER = {"squared": "²", "cubed": "³"}
_PREFIX_SYMBOLS = frozenset({"μ", "µ"})
_TOKEN = re.compile(r"\\([A-Za-z]+)(?:\s*\{([^{}]*)\})?|\\[,;:! ]|([^\\]+)")  # "\\," a thin space


def unit(body: str, symbols: Mapping[str, str] | None = None) -> str:
    """A siunitx unit argument as written text: `\\milli\\second` "ms", `\\metre\\per\\second` "m/s",
    `\\square\\metre` "m²", `\\metre\\second` "m s" (a product, not milliseconds); a literal unit ("mm",
    "mg\\,kg^{-1}") stays as it is; another macro is read from `symbols` (`\\mu m` "μm", `\\Omega` "Ω"), a
    wrapper by its argument (`\\mathrm{\\mu m}` "μm"), else keeps its name."""
    out, prefix, pending = "", "", ""

    def add(text: str) -> str:  # a unit after another is a product: "m s"
        nonlocal prefix, pending
        joined = f"{out} " if out and out[-1] not in "/ " else out
        text, prefix, pending = joined + prefix + text + pending, "", ""
        return text

    for m in _TOKEN.finditer(body):
        name, argument, literal = m.groups()
        if name is None and literal is None:  # "\\,": a space
            out += " " if out and not out.endswith(" ") else ""
        elif literal is not None:
            out = add(literal.strip()) if literal.strip() else out
        elif name in _PREFIXES:
            prefix += _PREFIXES[name]
        elif name == "per":
            out = out.rstrip() + "/"
        elif name in ("square", "cubic"):
            pending = "²" if name == "square" else "³"
        elif name in _POWER:
            out += _POWER[name]
        elif name == "tothe" and argument is not None:
            out += "^" + argument
        elif name in _UNITS:
            out = add(_UNITS[name])
        elif argument is not None:  # a wrapper ("\\mathrm{...}", "\\text{cells}", "\\si{...}")
            out = add(unit(argument, symbols))
        else:  # a symbol ("\\mu", "\\AA"), or an author's own unit macro, which keeps its name
            symbol = (symbols or {}).get(name, name)
            if symbol in _PREFIX_SYMBOLS and not prefix:  # "\\mu m": a prefix before a literal unit
                prefix = symbol
            else:
                out = add(symbol)
    return re.sub(r"°\s+([CF])\b", r"°\1", re.sub(r"\^\s*[°∘]", "°", out)).strip()  # "^\\circ C": °C


def _number(written: str, superscripts: Mapping[str, str] | None = None) -> str:
    """A siunitx number as prose: "1.2e-3" -> "1.2×10⁻³" (the exponent in `superscripts`, else "×10^-3")."""
    written = written.strip()
    if m := _EXPONENT.match(written):
        power = m.group(2) + m.group(3)
        if superscripts and all(c in superscripts for c in power):
            return f"{m.group(1)}×10" + "".join(superscripts[c] for c in power)
        return f"{m.group(1)}×10^{power}"
    return written


def _range(low: str, high: str, superscripts: Mapping[str, str] | None) -> str:
    low, high = _number(low, superscripts), _number(high, superscripts)
    return f"{low} to {high}" if low.startswith("-") or high.startswith("-") else f"{low}–{high}"


def _spaced(number: str, written: str) -> str:
    return f"{number}{written}" if written in ("%", "°", "′", "″") else f"{number} {written}".rstrip()


def quantities_written(
    text: str, symbols: Mapping[str, str] | None = None, superscripts: Mapping[str, str] | None = None
) -> str:
    """`text` with its siunitx quantities, numbers, ranges, angles and units written out (see the module
    docstring); other LaTeX is left for `rag.corpus.latex`, which passes its tables: `symbols`, the symbol macros a
    unit may use, and `superscripts`, the characters an exponent is written in."""
    if "\\" not in text:
        return text
    sup = superscripts
    text = _RANGE.sub(lambda m: _spaced(_range(m.group(2), m.group(3), sup), unit(m.group(4), symbols)), text)
    text = _NUMRANGE.sub(lambda m: _range(m.group(2), m.group(3), sup), text)
    text = _QUANTITY.sub(lambda m: _spaced(_number(m.group(2), sup), unit(m.group(3), symbols)), text)
    text = _NUMBER.sub(lambda m: _number(m.group(2), sup), text)
    text = _ANGLE.sub(lambda m: m.group(2).strip() + "°", text)
    return _UNIT_ONLY.sub(lambda m: _spaced(_count(m.group(1)), unit(m.group(2), symbols)).strip(), text)


def _count(option: str | None) -> str:
    """The number the units package writes as `\\unit[500]{nm}`'s option; siunitx options are settings."""
    return _number(option) if option and re.fullmatch(r"\s*[-+]?[\d.,]+(?:\s*[eE][-+]?\d+)?\s*", option) else ""
