"""The `siunitx` quantities of an abstract's LaTeX written out: `\\qty{0.17}{\\electronvolt}` reads "0.17 eV",
`\\num{747}` "747", `\\qtyrange{50}{90}{\\degree}` "50-90 °", `\\SI{3.5}{\\milli\\second}` "3.5 ms". arXiv keeps
the authors' markup; without this, the number and its unit ran together ("qty0.17electronvolt") and no number
question found them. Run before the rest of `rag.corpus.latex`."""

from __future__ import annotations

import re

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
_ARG = r"\{([^{}]*)\}"
_OPTIONS = r"(?:\[[^\]]*\])?"
_RANGE = re.compile(rf"\\(?:qtyrange|SIrange)\s*{_OPTIONS}\s*{_ARG}\s*{_ARG}\s*{_ARG}")
_NUMRANGE = re.compile(rf"\\numrange\s*{_OPTIONS}\s*{_ARG}\s*{_ARG}")
_QUANTITY = re.compile(rf"\\(?:qty|SI)\s*{_OPTIONS}\s*{_ARG}\s*{_ARG}")
_NUMBER = re.compile(rf"\\num\s*{_OPTIONS}\s*{_ARG}")
_UNIT_ONLY = re.compile(rf"\\(?:si|unit)\s*{_OPTIONS}\s*{_ARG}")
_ANGLE = re.compile(rf"\\ang\s*{_OPTIONS}\s*{_ARG}")
_POWER = {"squared": "²", "cubed": "³"}
_TOKEN = re.compile(r"\\([A-Za-z]+)(?:\s*\{([^{}]*)\})?|([^\\]+)")


def unit(body: str) -> str:
    """A siunitx unit argument as written text: `\\milli\\second` "ms", `\\metre\\per\\second` "m/s",
    `\\square\\metre` "m²"; a literal unit ("mm", "K/min") stays as it is."""
    out, prefix, pending = "", "", ""
    for m in _TOKEN.finditer(body):
        name, argument, literal = m.groups()
        if literal is not None:
            out += literal.strip()
        elif name in _PREFIXES:
            prefix += _PREFIXES[name]
        elif name == "per":
            out += "/"
        elif name in ("square", "cubic"):
            pending = "²" if name == "square" else "³"
        elif name in _POWER:
            out += _POWER[name]
        elif name == "tothe" and argument is not None:
            out += "^" + argument
        elif name in _UNITS:
            out += prefix + _UNITS[name] + pending
            prefix, pending = "", ""
        else:  # an author's own unit macro keeps its name
            out += prefix + name + pending
            prefix, pending = "", ""
    return out


def _spaced(number: str, written: str) -> str:
    return f"{number.strip()}{written}" if written in ("%", "°", "′", "″") else f"{number.strip()} {written}"


def quantities_written(text: str) -> str:
    """`text` with its siunitx quantities, numbers, ranges, angles and units written out (see the module
    docstring); other LaTeX is left for `rag.corpus.latex`."""
    if "\\" not in text:
        return text
    text = _RANGE.sub(lambda m: _spaced(f"{m.group(1).strip()}-{m.group(2).strip()}", unit(m.group(3))), text)
    text = _NUMRANGE.sub(lambda m: f"{m.group(1).strip()}-{m.group(2).strip()}", text)
    text = _QUANTITY.sub(lambda m: _spaced(m.group(1), unit(m.group(2))), text)
    text = _NUMBER.sub(lambda m: m.group(1).strip(), text)
    text = _ANGLE.sub(lambda m: m.group(1).strip() + "°", text)
    return _UNIT_ONLY.sub(lambda m: unit(m.group(1)), text)
