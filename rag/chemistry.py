"""Chemistry: whether a name is a material's (a chemical formula such as La3Ni2O7 or NbN, or an element's name such
as niobium): what answers "which material / substrate / compound", where a capitalised word ("Abelian", "Ising")
or a unit ("THz") does not; and an isotope's ways of being written ("87Rb", "Rb-87", "rubidium-87")."""

from __future__ import annotations

import re

_ORDER = (  # the elements' symbols by atomic number
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb "
    "Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au "
    "Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr"
).split()
_NAMES = (  # their names, up to plutonium
    "hydrogen helium lithium beryllium boron carbon nitrogen oxygen fluorine neon sodium magnesium aluminium silicon "
    "phosphorus sulfur chlorine argon potassium calcium scandium titanium vanadium chromium manganese iron cobalt "
    "nickel copper zinc gallium germanium arsenic selenium bromine krypton rubidium strontium yttrium zirconium "
    "niobium molybdenum technetium ruthenium rhodium palladium silver cadmium indium tin antimony tellurium iodine "
    "xenon caesium barium lanthanum cerium praseodymium neodymium promethium samarium europium gadolinium terbium "
    "dysprosium holmium erbium thulium ytterbium lutetium hafnium tantalum tungsten rhenium osmium iridium platinum "
    "gold mercury thallium lead bismuth polonium astatine radon francium radium actinium thorium protactinium uranium "
    "neptunium plutonium"
).split()
_SYMBOLS = frozenset(_ORDER)
_SPELLINGS = {"aluminum": "Al", "sulphur": "S", "cesium": "Cs"}

ELEMENTS = frozenset(_NAMES) | frozenset(_SPELLINGS) | {"graphene", "graphite", "diamond"}
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


_NUMBER = {symbol: z for z, symbol in enumerate(_ORDER[: len(_NAMES)], start=1)}  # isotopes up to plutonium's
_NAME_OF = dict(zip(_ORDER[: len(_NAMES)], _NAMES, strict=True))
_SYMBOL_OF = {name: symbol for symbol, name in _NAME_OF.items()} | _SPELLINGS
_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_FROM_SUPERSCRIPT = str.maketrans(_SUPERSCRIPT, "0123456789")
_TO_SUPERSCRIPT = str.maketrans("0123456789", _SUPERSCRIPT)
_END = r"(?![\w\-]|[.,]\d)"  # a sentence may end after it: "atoms of Rb-87."
_MARKED = re.compile(  # a mass written as a superscript is an isotope's, whatever the symbol
    rf"(?:\$?(?:\{{\}})?\^\{{?(?P<a>\d{{1,3}})\}}?\$?|<sup>(?P<b>\d{{1,3}})</sup>|(?P<c>[{_SUPERSCRIPT}]{{1,3}}))"
    r"(?P<m>m?)\s?(?P<s>[A-Z][a-z]?)(?![a-z])"
)
_PLAIN = re.compile(
    # 87Rb, 13C, 18F-FDG, 99mTc; not the symbols that more often follow a count ("7B", "40K", "30S", "48V", "100W"),
    # nor a polytype ("2H-MoS2")
    r"(?<![\w.\-])(?P<m1>\d{1,3})(?P<t1>m?)(?P<s1>(?![BKSVW](?![a-z]))[A-Z][a-z]?)(?![a-z\d])(?!(?<=H)-[A-Z])"
    rf"|(?<![\w\-])(?P<s2>[A-Z][a-z]?|[a-z]{{1,2}})[-–](?P<m2>\d{{1,3}})(?P<t2>m?){_END}"  # Rb-87, c-14, Tc-99m
    rf"|(?<![\w\-])(?P<s3>[A-Z][a-z]|[a-z]{{2}})(?P<m3>\d{{2,3}})(?P<t3>m?){_END}"  # Rb87, rb87 (not CD80)
    rf"|\b(?P<name>[A-Za-z]{{3,13}})[-–](?P<m4>\d{{1,3}})(?P<t4>m?){_END}",  # rubidium-87, technetium-99m
)


def isotopes(text: str) -> list[tuple[str, str]]:
    """The isotopes a text names, as (element symbol, mass number with an "m" for a metastable one), however
    written: "87Rb", "⁸⁷Rb", "⁸⁷ Rb", "$^{87}$Rb", "Rb-87", "Rb87", "rb87", "rubidium-87" all give ("Rb", "87"),
    "99mTc" and "Tc-99m" give ("Tc", "99m"). A mass number must fit the element (from its atomic number to three
    times it plus ten; hydrogen's up to 3), and symbols are read in their own case, so "CD80", "95th", "40mg", "3h",
    "7b" and "4K" are no isotopes; nor are "7B", "40K", "30S", "48V", "100W" unless the mass is a superscript."""
    out: dict[tuple[str, str], None] = {}
    for m in _MARKED.finditer(text):
        digits = m.group("a") or m.group("b") or m.group("c").translate(_FROM_SUPERSCRIPT)
        _add(out, m.group("s"), digits, m.group("m"))
    for m in _PLAIN.finditer(text):
        if m.group("name"):  # an element's name, or another word before a number ("ResNet-50")
            if (symbol := _SYMBOL_OF.get(m.group("name").lower())) is not None:
                _add(out, symbol, m.group("m4"), m.group("t4"))
            continue
        i = next(i for i in (1, 2, 3) if m.group(f"s{i}"))
        _add(out, m.group(f"s{i}").capitalize(), m.group(f"m{i}"), m.group(f"t{i}"))  # "rb87" as typed
    return list(out)


def _add(out: dict[tuple[str, str], None], symbol: str, mass: str, metastable: str) -> None:
    z = _NUMBER.get(symbol)
    if z is not None and z <= int(mass) <= (3 if z == 1 else 3 * z + 10):
        out[(symbol, f"{int(mass)}{metastable}")] = None


def isotope_forms(symbol: str, mass: str) -> list[str]:
    """An isotope's normalised spellings, for matching a text: "87rb", "rb87", "rb 87", "rubidium 87"."""
    s = symbol.lower()
    return [f"{mass}{s}", f"{s}{mass}", f"{s} {mass}", f"{_NAME_OF[symbol]} {mass}"]


def isotope_tokens(symbol: str, mass: str) -> list[str]:
    """An isotope's spellings as one word, as an index counts them: "87rb", "rb87", "⁸⁷rb"."""
    s = symbol.lower()
    return [f"{mass}{s}", f"{s}{mass}", mass.translate(_TO_SUPERSCRIPT) + s]
