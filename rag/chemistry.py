"""Chemistry: whether a name is a material's (a chemical formula such as La3Ni2O7 or NbN, or an element's name such
as niobium): what answers "which material / substrate / compound", where a capitalised word ("Abelian", "Ising")
or a unit ("THz") does not."""

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
