"""The words that stand for a measure's value, by the measure's stem: its units ("a latency of 12 ms"), the unit a
physical quantity is stated in ("superconducting at 14 GPa" states a pressure), and other names of a factor or a
share ("2.5x faster", "a fraction of 40%")."""

from __future__ import annotations

UNIT_ALIASES = {
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
_LENGTH_UNITS = {"nm", "μm", "um", "mm", "cm", "km", "å", "angstrom"}
_PHYSICAL = {
    "pressur": {"gpa", "mpa", "kpa", "pa", "kbar", "bar", "mbar", "atm", "torr"},
    "temperatur": set("k mk °c ° ℃ kelvin μk µk nk kev degrees nanokelvin microkelvin".split()),
    "tc": {"k", "mk"},
    "wavelength": _LENGTH_UNITS,
    "thick": _LENGTH_UNITS | {"layers", "monolayers", "unit-cells", "uc"},
    "length": _LENGTH_UNITS,
    "distanc": _LENGTH_UNITS,
    "width": _LENGTH_UNITS,
    "height": _LENGTH_UNITS,
    "depth": _LENGTH_UNITS,
    "diamet": _LENGTH_UNITS,
    "radiu": _LENGTH_UNITS,
    "period": _LENGTH_UNITS | {"ps", "fs", "ns"},
    "frequenc": {"hz", "khz", "mhz", "ghz", "thz", "cm-1"},
    "gap": {"mev", "ev", "k"},
    "energi": {"mev", "ev", "kev", "gev", "j", "kj/mol", "kcal/mol", "wh", "kwh", "mwh"},
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
UNIT_ALIASES |= {stem: UNIT_ALIASES.get(stem, set()) | units for stem, units in _PHYSICAL.items()}
