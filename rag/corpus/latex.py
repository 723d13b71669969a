"""LaTeX markup in titles, abstracts and author names, turned into the plain text a reader expects.

arXiv listings and metadata keep the authors' LaTeX: `360{\\deg}`, `$\\times$`, `{\\Psi}`, `Pad\\'e`,
`$\\frac{\\ell_1}{\\ell_2}$`, `91.3\\%`, `{\\bf X}`, `\\textbf{C}`. `unwrap_latex` turns those into `360°`, `×`,
`Ψ`, `Padé`, `ℓ₁/ℓ₂`, `91.3%`, `X` and `C` before a paper is indexed, so every text shown from it (title,
abstract, passage, quote, answer, reference) reads as prose. Only text holding a backslash or a `$` is touched;
`$...$` counts as math only when it looks like math (a macro, `^`, `_` or a brace inside, or a letter first), so
"$5 and $10" keeps its dollars, and `_` / `^` are read as sub- and superscripts only inside math (URLs keep
theirs). An author's own macro (`\\inerf`) keeps its name without the backslash.
"""

from __future__ import annotations

import re
import unicodedata

from rag.corpus.siunitx import MACRO, quantities_written

_GREEK = {
    name: chr(code)
    for name, code in {
        "alpha": 0x3B1, "beta": 0x3B2, "gamma": 0x3B3, "delta": 0x3B4, "epsilon": 0x3F5, "varepsilon": 0x3B5,
        "zeta": 0x3B6, "eta": 0x3B7, "theta": 0x3B8, "vartheta": 0x3D1, "iota": 0x3B9, "kappa": 0x3BA,
        "lambda": 0x3BB, "mu": 0x3BC, "nu": 0x3BD, "xi": 0x3BE, "pi": 0x3C0, "rho": 0x3C1, "sigma": 0x3C3,
        "tau": 0x3C4, "upsilon": 0x3C5, "phi": 0x3D5, "varphi": 0x3C6, "chi": 0x3C7, "psi": 0x3C8, "omega": 0x3C9,
        "Gamma": 0x393, "Delta": 0x394, "Theta": 0x398, "Lambda": 0x39B, "Xi": 0x39E, "Pi": 0x3A0, "Sigma": 0x3A3,
        "Upsilon": 0x3A5, "Phi": 0x3A6, "Psi": 0x3A8, "Omega": 0x3A9,
    }.items()
}  # fmt: skip
_SYMBOLS = {
    **_GREEK,
    "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "div": "÷", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥",
    "neq": "≠", "ne": "≠", "approx": "≈", "sim": "~", "simeq": "≃", "propto": "∝", "equiv": "≡", "ll": "≪",
    "gg": "≫", "infty": "∞", "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒",
    "leftrightarrow": "↔", "mapsto": "↦", "uparrow": "↑", "downarrow": "↓", "deg": "°", "degree": "°",
    "textdegree": "°", "circ": "°", "ell": "ℓ", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫",
    "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀",
    "exists": "∃", "emptyset": "∅", "varnothing": "∅", "sqrt": "√", "ldots": "…", "dots": "…", "cdots": "…",
    "star": "*", "ast": "*", "dagger": "†", "ddagger": "‡", "S": "§", "P": "¶", "copyright": "©",
    "textregistered": "®", "texttrademark": "™", "euro": "€", "pounds": "£", "textasciitilde": "~",
    "textbackslash": "\\", "textbar": "|", "textless": "<", "textgreater": ">", "textendash": "–",
    "textemdash": "—", "vert": "|", "mid": "|", "lvert": "|", "rvert": "|", "langle": "⟨", "rangle": "⟩",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "top": "⊤", "perp": "⊥", "neg": "¬",
    "land": "∧", "lor": "∨", "wedge": "∧", "vee": "∨", "oplus": "⊕", "otimes": "⊗", "odot": "⊙",
    "log": "log", "ln": "ln", "exp": "exp", "sin": "sin", "cos": "cos", "tanh": "tanh", "max": "max",
    "min": "min", "arg": "arg", "argmax": "argmax", "argmin": "argmin", "lim": "lim", "sup": "sup", "inf": "inf",
    "det": "det", "Pr": "Pr", "LaTeX": "LaTeX", "TeX": "TeX",
    # letters
    "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "l": "ł",
    "L": "Ł", "i": "ı", "j": "ȷ",
}  # fmt: skip
_DROPPED = frozenset(
    "bf it em sc rm tt sl sf up md normalfont bfseries itshape scshape rmfamily ttfamily sffamily upshape "
    "tiny scriptsize footnotesize small normalsize large Large LARGE huge Huge displaystyle textstyle "
    "scriptstyle left right big Big bigg Bigg bigl bigr Bigl Bigr quad qquad noindent newline linebreak "
    "xspace limits nolimits relax protect".split()
)
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
_WRAPPERS = (
    "textbf|textit|textsl|textsc|textrm|textsf|texttt|textup|textmd|textnormal|text|emph|underline|mbox|hbox|"
    "mathrm|mathbf|mathit|mathsf|mathtt|mathcal|mathscr|mathfrak|mathbb|boldsymbol|bm|operatorname|url|"
    "hat|bar|tilde|vec|dot|ddot|widehat|widetilde|overline"
)
_ACCENT_MARKS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304", ".": "\u0307",
    "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323",
}  # fmt: skip
_SUPERSCRIPT = dict(zip("0123456789+-=()niT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", strict=True))
_SUBSCRIPT = dict(zip("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎", strict=True))

# escaped characters that must survive the brace and math handling: kept as private-use placeholders meanwhile
_ESCAPED = {"\\{": "\ue000", "\\}": "\ue001", "\\$": "\ue002", "\\_": "\ue003"}
_RESTORE = {v: k[1] for k, v in _ESCAPED.items()}

_MATH = re.compile(r"\$(?!\s)([^$]{1,300}?)(?<!\s)\$")
_MATHY = re.compile(r"[\\^_{]|^[A-Za-z]")
_ACCENT = re.compile(r"""\\(['`^"~=.])\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))""")
_LETTER_ACCENT = re.compile(r"\\([uvHckrd])(?:\s*\{\s*(\\?[A-Za-z])\s*\}|\s+([A-Za-z])(?![A-Za-z]))")
_WRAP = re.compile(r"\\(" + _WRAPPERS + r")\s*\{([^{}]*)\}")
_HREF = re.compile(r"\\href\s*\{[^{}]*\}\s*\{([^{}]*)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_SCRIPT = re.compile(r"([_^])\s*(?:\{([^{}]*)\}|(\\[A-Za-z]+|[A-Za-z0-9+\-]))")
_MACRO = re.compile(r"\\([A-Za-z]+)\*?")
_CONTROL_SPACE = re.compile(r"\\[,;:! ]|\\\\")
_CONTROL_DROP = re.compile(r"\\[-/@]")
_TIE = re.compile(r"(?<=\S)~(?=\S)")


def _accented(mark: str, letter: str) -> str:
    base = {"\\i": "i", "\\j": "j"}.get(letter, letter.lstrip("\\"))
    return unicodedata.normalize("NFC", base + _ACCENT_MARKS[mark])


def _wrapped(m: re.Match[str]) -> str:
    name, body = m.group(1), m.group(2)
    if name == "mathbb" and body.strip() in _BLACKBOARD:
        return _BLACKBOARD[body.strip()]
    return body


def _script(m: re.Match[str]) -> str:
    kind, body = m.group(1), m.group(2) if m.group(2) is not None else m.group(3)
    body = _symbols(body.strip())
    if kind == "^" and body in ("°", "∘"):
        return "°"
    table = _SUPERSCRIPT if kind == "^" else _SUBSCRIPT
    if body and all(c in table for c in body):
        return "".join(table[c] for c in body)
    if kind == "^":
        return "^" + (body if len(body) == 1 else f"({body})")
    return "_" + body


def _macro(m: re.Match[str]) -> str:
    name = m.group(1)
    if name in _DROPPED:
        return ""
    return _SYMBOLS.get(name, name)  # an author's own macro (`\inerf`) keeps its name


def _symbols(text: str) -> str:
    return _MACRO.sub(_macro, text) if "\\" in text else text


def _structures(text: str, *, math: bool) -> str:
    """Unwrap commands with arguments, innermost first, until nothing changes."""
    for _ in range(8):
        before = text
        text = _ACCENT.sub(lambda m: _accented(m.group(1), m.group(2) or m.group(3)), text)
        text = _LETTER_ACCENT.sub(lambda m: _accented(m.group(1), m.group(2) or m.group(3)), text)
        if math:
            text = _SCRIPT.sub(_script, text)
        text = _WRAP.sub(_wrapped, text)
        text = _HREF.sub(r"\1", text)
        text = _FRAC.sub(lambda m: f"{_group(m.group(1))}/{_group(m.group(2))}", text)
        text = _SQRT.sub(lambda m: "√" + _group(m.group(1)), text)
        if text == before:
            break
    return text


def _group(body: str) -> str:
    """A fraction's or root's operand, parenthesised when it is more than one token."""
    body = body.strip()
    return f"({body})" if re.search(r"[\s+\-*/]", body) else body


def _plain(text: str, *, math: bool) -> str:
    text = _structures(text, math=math)
    text = _CONTROL_SPACE.sub(" ", text)
    text = _CONTROL_DROP.sub("", text)
    text = _symbols(text)
    return text.replace("{", "").replace("}", "")


def _math(m: re.Match[str]) -> str:
    body = m.group(1)
    if not _MATHY.search(body):
        return m.group(0)
    return _plain(body, math=True)


def _siunitx_math(body: str) -> str:
    """A `$...$` span holding siunitx quantities: written out, and still math only where the rest is."""
    body = quantities_written(body, _SYMBOLS, _SUPERSCRIPT)
    return f"${body}$" if _MATHY.search(body) else body


def unwrap_latex(text: str) -> str:
    """`text` with its LaTeX markup replaced by the characters it stands for (see the module docstring)."""
    if "\\" not in text and "$" not in text:
        return text
    macros = "\\" in text
    for escaped, placeholder in _ESCAPED.items():
        text = text.replace(escaped, placeholder)
    if macros and MACRO.search(text):  # "\\qty{0.17}{\\electronvolt}": "0.17 eV"; "$\\SI{25.9}{\\percent}$": "25.9%"
        text = _MATH.sub(lambda m: _siunitx_math(m.group(1)) if MACRO.search(m.group(1)) else m.group(0), text)
        text = quantities_written(text, _SYMBOLS, _SUPERSCRIPT)
    text = text.replace("\\%", "%").replace("\\&", "&").replace("\\#", "#")
    if "$" in text:
        text = _MATH.sub(_math, text)
    if macros:
        text = _TIE.sub(" ", _plain(text, math=False))
    for placeholder, char in _RESTORE.items():
        text = text.replace(placeholder, char)
    return text
