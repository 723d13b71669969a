"""Chemistry: whether a name is a material's (a chemical formula such as La3Ni2O7 or NbN, or an element's name such
as niobium): what answers "which material / substrate / compound", where a capitalised word ("Abelian", "Ising")
or a unit ("THz") does not; and an isotope's ways of being written ("87Rb", "Rb-87", "rubidium-87")."""

from __future__ import annotations

import re

_SYMBOLS = frozenset(
    """H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr
    Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt
    Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr""".split()
)

ELEMENTS = frozenset(
    """hydrogen helium lithium beryllium boron carbon nitrogen oxygen fluorine neon sodium magnesium aluminum
    aluminium silicon phosphorus sulfur sulphur chlorine argon potassium calcium scandium titanium vanadium chromium
    manganese iron cobalt nickel copper zinc gallium germanium arsenic selenium bromine krypton rubidium strontium
    yttrium zirconium niobium molybdenum technetium ruthenium rhodium palladium silver cadmium indium tin antimony
    tellurium iodine xenon cesium caesium barium lanthanum cerium praseodymium neodymium promethium samarium europium
    gadolinium terbium dysprosium holmium erbium thulium ytterbium lutetium hafnium tantalum tungsten rhenium osmium
    iridium platinum gold mercury thallium lead bismuth polonium astatine radon francium radium actinium thorium
    protactinium uranium neptunium plutonium graphene graphite diamond""".split()
)
"""The elements' names (and carbon's common forms), the materials a text names in lower case."""

# a formula's pieces: an element symbol with an optional count ("O7", "Ni2", "O7-δ", "Fe1.5"), a bracketed group
# with its count ("(PO4)3", "(La,Pr)3"), or a doping variable
_PIECE = re.compile(r"[A-Z][a-z]?[\d.₀-₉]*|\([A-Za-z\d,.₀-₉]+\)[\d.₀-₉]*|[xyzδ\-+]")


def is_formula(name: str) -> bool:
    """Whether a name is a chemical formula: element symbols only (with counts, brackets, a doping x or δ, a
    Greek or polytype prefix such as "α-" or "1T-"), two or more of them or one with a count, and a digit or a
    two-letter symbol among them, so that an acronym of one-letter symbols ("BCS", "CNN") is not one."""
    body = re.sub(r"^(?:[α-ωΑ-Ω]|\d[A-Z])-", "", name)
    pieces = _PIECE.findall(body)
    if not pieces or "".join(pieces) != body:
        return False
    symbols = [re.sub(r"[\d.₀-₉]+$", "", p) for p in pieces if p[0].isupper()]
    if not all(s in _SYMBOLS for s in symbols):
        return False
    counted = any(c.isdigit() or "₀" <= c <= "₉" for c in body)
    two_letter = any(len(s) == 2 for s in symbols)
    return (len(symbols) >= 2 or counted) and (counted or two_letter)


def is_material_name(name: str) -> bool:
    """Whether a name is a material's: a chemical formula, or an element's name."""
    return is_formula(name) or name.lower() in ELEMENTS


_ORDER = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb "
    "Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au "
    "Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu"
).split()
_NAMES = (
    "hydrogen helium lithium beryllium boron carbon nitrogen oxygen fluorine neon sodium magnesium aluminium silicon "
    "phosphorus sulfur chlorine argon potassium calcium scandium titanium vanadium chromium manganese iron cobalt "
    "nickel copper zinc gallium germanium arsenic selenium bromine krypton rubidium strontium yttrium zirconium "
    "niobium molybdenum technetium ruthenium rhodium palladium silver cadmium indium tin antimony tellurium iodine "
    "xenon caesium barium lanthanum cerium praseodymium neodymium promethium samarium europium gadolinium terbium "
    "dysprosium holmium erbium thulium ytterbium lutetium hafnium tantalum tungsten rhenium osmium iridium platinum "
    "gold mercury thallium lead bismuth polonium astatine radon francium radium actinium thorium protactinium uranium "
    "neptunium plutonium"
).split()
_NUMBER = {symbol: z for z, symbol in enumerate(_ORDER, start=1)}
_NAME_OF = dict(zip(_ORDER, _NAMES, strict=True))
_SYMBOL_OF = {name: symbol for symbol, name in _NAME_OF.items()} | {"aluminum": "Al", "sulphur": "S", "cesium": "Cs"}
_ELEMENT_NAME = "|".join(sorted(_SYMBOL_OF, key=len, reverse=True))
_ISOTOPE = re.compile(
    r"(?<![\w.\-])(?P<m1>\d{1,3})(?P<s1>(?!(?-i:[BKSVW])(?![a-z]))[A-Z][a-z]?)(?![a-z\d])"  # 87Rb, 13C, ^{87}Rb
    r"|(?<![\w\-])(?P<s2>[A-Z][a-z]?)-(?P<m2>\d{1,3})(?![\w.])"  # Rb-87, C-14
    r"|(?<![\w\-])(?P<s3>[A-Z][a-z])(?P<m3>\d{2,3})(?![\w.])"  # Rb87, Cs133 (a one-letter symbol glued is a formula)
    rf"|\b(?P<name>{_ELEMENT_NAME})[\s\-](?P<m4>\d{{1,3}})(?![\w.])",  # rubidium-87, carbon 14
    re.I,
)
_MARKS = re.compile(r"\$|\^|[{}]|</?sup>")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def isotopes(text: str) -> list[tuple[str, int]]:
    """The isotopes a text names, as (element symbol, mass number), however written: "87Rb", "⁸⁷Rb", "$^{87}$Rb",
    "Rb-87", "Rb87", "rubidium-87" all give ("Rb", 87). A mass number must fit the element (from its atomic number
    to three times it plus ten), so "4K" (kelvin) and "5G" are no isotopes; nor, written mass first, are the symbols
    that more often follow a count ("7B" parameters, "40K" images, "30S" ribosomes, "48V", "100W")."""
    out: dict[tuple[str, int], None] = {}
    text = text if text.isascii() else text.translate(_SUPERSCRIPTS)  # "⁸⁷Rb", as ingest writes $^{87}$Rb
    for m in _ISOTOPE.finditer(_MARKS.sub("", text) if "^" in text or "<sup" in text else text):
        if m.group("name"):
            symbol, mass = _SYMBOL_OF[m.group("name").lower()], m.group("m4")
        else:
            symbol, mass = next((m.group(f"s{i}"), m.group(f"m{i}")) for i in (1, 2, 3) if m.group(f"s{i}"))
            if symbol[0].islower() or (symbol[1:] and symbol[1:].isupper()):
                symbol = symbol[0].upper() + symbol[1:].lower()  # "rb87", "RB-87" as a tired person types
        z = _NUMBER.get(symbol)
        if z is not None and z <= int(mass) <= 3 * z + 10:
            out[(symbol, int(mass))] = None
    return list(out)


def isotope_forms(symbol: str, mass: int) -> list[str]:
    """An isotope's normalised spellings: "87rb", "rb87", "rb 87", "rubidium 87"."""
    s = symbol.lower()
    return [f"{mass}{s}", f"{s}{mass}", f"{s} {mass}", f"{_NAME_OF[symbol]} {mass}"]
