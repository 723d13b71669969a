"""Names: the specific things a question or a sentence names (models, data sets, acronyms, title-case runs), the kind
of named thing a which-question asks for, and whether a text names a given name (as written, spelled out, or as an
acronym's expansion)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.corpus.records import normalize
from rag.greek import GREEK_NAMES, coded, greek_in, without_greek
from rag.normalise import initials_in, variant_in
from rag.quantities import METRIC_TOKEN, unit_word
from rag.question import Question
from rag.support import STOPWORDS
from rag.words import is_common

_DESCRIPTIVE_SUFFIX = re.compile(r"-(?:based|like|style|aware|free|driven|level|wise|only)$", re.I)


def _without_lower_tail(token: str) -> str:
    """A token without the lower-case words hyphenated after it ("LLM-generated" names LLM), in linear time; a
    spelled Greek letter is part of a coded name ("IFN-gamma"; not "Lyman-alpha", "Cronbach-alpha")."""
    parts = token.split("-")
    end, greek_tail = len(parts), coded(parts[0])  # "IFN-gamma", not "Lyman-alpha"
    while end > 1 and re.fullmatch(r"[a-z]{3,}", parts[end - 1]) and not (greek_tail and parts[end - 1] in GREEK_NAMES):
        end -= 1
    if end == len(parts) or not re.search(r"[A-Za-z0-9]$", parts[end - 1]):
        return token
    return "-".join(parts[:end])


# a token that names something: an acronym (GPU, BLEU), CamelCase (SuperGlue), letters with digits
# (ResNet-50, UrbanSound8K), or a capitalised word that does not open the question (Mamba, Jupiter)
_NAME = re.compile(
    r"(?<![\w\-'])(?:[A-Za-z][\w']*(?:-[\w']+)*)(?![\w\-])",
)


HEADLINE_WORDS = 5
"""Words after the first, four in five of them capitalised, with two or more small words of which two in three are
capitalised too ("Was Linked To The"), that make a text headline case, where capitalisation says nothing about names
(a list of names, "Llama, Mistral and Qwen", keeps its small words in lower case)."""


def _headline(text: str) -> bool:
    """Whether a text is written in headline case ("What Hazard Ratio Was Linked To Higher TMAO?")."""
    words = re.findall(r"[A-Za-z][\w\-']*", text)[1:]
    small = [w for w in words if w.lower() in STOPWORDS]
    capitalised = sum(w[0].isupper() for w in words)
    small_capitalised = sum(w[0].isupper() for w in small)
    return (
        len(words) >= HEADLINE_WORDS
        and capitalised >= 0.8 * len(words)
        and len(small) >= 2
        and small_capitalised >= 2 / 3 * len(small)
    )


def names_in(question: str) -> list[str]:
    """The specific names in a question, as written: acronyms, mixed case, letters with digits, and capitalised words
    (not the first) that are not ordinary words, with the rest of their title-case run ("Audio Spectrogram
    Transformer"). Capitalisation alone makes no name: "The Principles of Deep Learning Theory" names nothing."""
    tokens: list[tuple[int, str, bool]] = []  # (position, token, capitalised)
    named: set[int] = set()
    part_caps: set[int] = set()  # names only by the capitals opening their hyphenated parts ("Meta-Analysis")
    for i, m in enumerate(_NAME.finditer(question)):
        token = _DESCRIPTIVE_SUFFIX.sub("", re.sub(r"'s$", "", m.group(0))).strip("'")
        token = _without_lower_tail(token)
        letters = token.replace("-", "").replace("'", "")
        if len(letters) <= 2:
            continue
        acronym = sum(c.isupper() for c in letters) >= 2
        mixed = _mixed(letters)
        capital = i > 0 and token[:1].isupper() and token.lower() not in STOPWORDS
        tokens.append((i, token, capital))
        if acronym or mixed:
            named.add(i)
            parts = token.split("-")
            if not mixed and all(len(p) > 1 and not any(c.isupper() for c in p[1:]) for p in parts):
                part_caps.add(i)  # "Meta-Analysis", not "U-Net"
    capitalised = {i for i, _, capital in tokens if capital}
    if _headline(question):
        capitalised = set()  # "What Hazard Ratio Was Linked To Higher TMAO?": headline case, no word is a name by it
        named -= part_caps
    named |= {i for i, token, _ in tokens if i in capitalised and not is_common(token)}
    for i in sorted(named & capitalised):  # the ordinary words of a name's title-case run are part of it
        for step in (-1, 1):
            j = i + step
            while j in capitalised:
                named.add(j)
                j += step
    out: list[str] = []
    for i, token, _ in tokens:
        if i in named and token not in out:
            out.append(token)
    return out


_IDENTIFIER = re.compile(r"[A-Za-z]{2,}(?:_[A-Za-z0-9]{2,})+")  # "ibm_torino", not a subscript "T_c" or "x_1"


def is_name(token: str) -> bool:
    """Whether a token is written as a name: an acronym, mixed case, letters with digits, or an identifier
    ("ibm_torino")."""
    letters = token.replace("-", "")
    return sum(c.isupper() for c in letters) >= 2 or _mixed(letters)


def _mixed(letters: str) -> bool:
    """Letters with digits ("A100", "GPT4"), or an identifier ("ibm_torino")."""
    return (any(c.isdigit() for c in letters) and any(c.isalpha() for c in letters)) or bool(
        _IDENTIFIER.fullmatch(letters)
    )


# things an answer names rather than describes: data, benchmarks, software, architectures ("which networks" or
# "which model" is as often answered by a description: "the wide residual networks")
KINDS = (
    r"(?:data ?sets?|datasets?|databases?|benchmarks?|corpus|corpora|solvers?|librar(?:y|ies)|toolkits?|simulators?|"
    r"baselines?|architectures?|backbones?|languages?|games?|environments?|optimi[sz]ers?|materials?|substrates?|"
    r"compounds?|cell ?lines?|collections?(?!\s+of\b)|software(?:\s+packages?)?|packages?|"
    # hardware an abstract names ("ibm_torino", "Sycamore", "A100")
    r"quantum (?:computers?|processors?|hardware|devices?|chips?)|processors?|chips?|gpus?|tpus?|annealers?|"
    # biomedical things an abstract names by a symbol (Oct4, miR-21, ChemR23, Ser-109), rarely by a plain word
    r"genes?|residues?|ligands?|receptors?|kinases?|transcription factors?|mirnas?|micro-?rnas?|opsins?|subunits?|"
    r"alleles?|genotypes?|isoforms?|cytokines?|"
    # algorithms and encoders an abstract names ("PPO", "CLIP ViT-L/14"); not tools, often named in lower case
    r"algorithms?|encoders?)"
)


KIND_WORDS = frozenset(
    "dataset datasets database databases benchmark benchmarks corpus corpora solver solvers library libraries "
    "toolkit toolkits simulator simulators baseline baselines architecture architectures backbone backbones "
    "language languages environment environments optimizer optimizers optimiser optimisers material materials "
    "substrate substrates compound compounds collection collections".split()
)
"""The general kind words of `KINDS` written out, whose one-edit typos are fixed before a question is typed
("datsets"); not the biomedical ones."""
_KIND_HEAD = (
    rf"^(?:on |in |from |against |of )?(?:which|what)\s+(?:(?:is|are|was|were)\s+)?(?:(?:of )?(?:the|that|this)\s+)?"
    r"(?:names? of (?:the |that |this )?)?"
    rf"(?P<before>(?:(?!(?:of|for)\s)[\w\-]+\s+){{0,5}}?)(?P<kind>{KINDS})"
)
_KIND_Q = re.compile(
    _KIND_HEAD + r"(?=\s*[?,:;]|\s*$|\s+(?:do|does|did|is|are|was|were|has|have|had|can|could|would|will|should|"
    r"get|gets|got|used|of|in|on|for|from|that|which|to|by|with|and|or|they|it|its|their|the|this|these|he|she|we|called|named|"
    r"besides|beyond|other|apart)\b"
    r"|\s+[a-z]+(?:s|ed)\s+(?:the|a|an|its|their|this|these)\b"  # "what material forms the islands"
    r"|\s+(?-i:[A-Z]))",  # "which data sets RLSAC is evaluated on"
    re.I,
)


_IMPERATIVE_KIND = re.compile(
    _KIND_HEAD + r"(?=\s+[a-z]{3,}ed\s+(?:in|on|at|by|for|from|with|to|under|using|across)\b)",
    re.I,
)


KIND_GROUPS = (
    frozenset("dataset set benchmark corpus corpora challenge database collection suite data cohort archive".split()),
    frozenset("solver library toolkit tool simulator framework package engine software softwarepackage code".split()),
    frozenset("architecture backbone network model baseline transformer encoder net perceptron".split()),
    frozenset("optimizer optimiser".split()),
    frozenset("algorithm method technique".split()),
    frozenset(
        "processor chip gpu tpu annealer hardware device computer platform quantumcomputer quantumprocessor".split()
    ),
    frozenset("material substrate compound element crystal alloy".split()),
    frozenset("cellline line cell".split()),
    frozenset({"language"}),
    frozenset({"game"}),
    frozenset({"environment"}),
)


def kind_heads(kind: str) -> frozenset[str]:
    """The head nouns (singular) of things of the same kind as `kind` ("datasets" -> dataset, benchmark, corpus,
    ...): an acronym spelled out as another kind of thing ("graph convolutional networks" for "datasets") does not
    name what was asked."""
    head = kind.lower().replace(" ", "")  # "data sets" -> "datasets"
    head = singular(re.sub(r"^micro-?rna", "mirna", head))  # "microRNAs" and "miRNAs" are one kind
    return next((g for g in KIND_GROUPS if head in g), frozenset({head}))


def singular(word: str) -> str:
    """A noun in lower case and singular, roughly ("libraries" -> library, "approaches" -> approach; "corpus",
    "basis" and "series" stay)."""
    word = word.lower()
    if word.endswith(("series", "species")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):  # "approaches", "losses", "boxes"
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith(("us", "ss", "is")) else word


METHOD_HEADS = frozenset(
    "learning network model method algorithm framework approach module mechanism architecture transformer attention "
    "regression classifier optimization optimisation estimation inference analysis theory process".split()
)
"""Head nouns of a method's name ("Graph Attention Network", "Expectation Maximization"), in the singular."""


def names_a_method(name: str) -> bool:
    """Whether a multi-word name ends in a word for a method or a task ("Graph Neural Networks", "Reinforcement
    Learning", "Sharpness-Aware Minimization", "Image Classification"): it does not name a data set, a corpus or a
    material ("Something-Something" and "Bank Marketing" do)."""
    words = name.lower().replace("-", " ").split()
    if len(words) < 2:
        return False
    last = words[-1]
    return last in METHOD_HEADS or last.rstrip("s") in METHOD_HEADS or names_a_process(name)


def names_a_process(name: str) -> bool:
    """Whether a multi-word name ends in a word for a process ("Sharpness-Aware Minimization", "Image
    Classification"): it names no architecture either ("Linear Attention", "Deep Residual Learning" may)."""
    words = name.lower().replace("-", " ").split()
    last = words[-1] if len(words) >= 2 else ""
    return last.endswith(("ization", "isation")) or (last.endswith("ation") and is_common(last))


def named_kind(question: str, imperative: bool = False) -> str:
    """The kind of named thing a which-question asks for ("Which real-world graph datasets did they use?" ->
    "datasets"), as written; "" when it asks for something else (a reason, a property, a paper). The object of an
    imperative ("Name the architecture trained in ...") is what is asked, whatever participle follows it."""
    m = _KIND_Q.match(question.strip()) or (_IMPERATIVE_KIND.match(question.strip()) if imperative else None)
    before = m.group("before") if m else ""
    if not m or _QUALIFIED.search(before) or _PREPOSITIONAL.search(before) or _verb_and_object(before):
        return ""  # "Which model trained on the benchmark released in 2021 ...": a model is asked, not a benchmark
    return m.group("kind")


# a verb and its object's determiner ("Which cell types express the receptor?"), not a preposition's ("Which in the
# wild expression datasets ...?")
_DETERMINER = re.compile(r"\b(?P<verb>[a-z]+)\s+(?:the|a|an|its|their|this|these|those|our)\s", re.I)
_NOT_VERBS = frozenset("among amongst exactly off only just".split())  # before a determiner, not among STOPWORDS


def _verb_and_object(before: str) -> bool:
    """Whether the words before a kind noun end a verb and open its object ("express the"), not a preposition, a
    quantifier or an auxiliary ("in the wild", "all the", "among the", "are the": helper-47)."""
    return any(
        m.group("verb").lower() not in STOPWORDS and m.group("verb").lower() not in _NOT_VERBS
        for m in _DETERMINER.finditer(before)
    )


_QUALIFIED = re.compile(r"\b[a-z]{3,}ed\s+(?:on|in|at|by|for|from|with|to|under|using)\b", re.I)
# a plural, maybe a verb, then a preposition: the kind noun is in a phrase of the clause ("Which drugs act on 5-HT2C
# receptors ...?"), not in a modifier holding a preposition ("Which text to SQL benchmarks ...?": helper-89)
_PREPOSITIONS = "on|in|at|to|into|onto|with|by|from|via|across|upon"
_PREPOSITIONAL = re.compile(rf"\b(?!news\b)[a-z]{{2,}}(?<![siu])(?<!ic)s\s+(?:[a-z]+\s+)?(?:{_PREPOSITIONS})\s", re.I)


def new_names(question: str, sentence: str, kind: str = "") -> list[str]:
    """The names a sentence holds that the question does not (any case, singular or plural): what answers a
    which-question asking for a named thing. A web address names nothing asked ("github.com/IBM/EvolveGCN"); with
    a `kind`, a capitalised run of ordinary words ("the Relational Context of each entity") counts only where the
    sentence calls it a thing of that kind ("the Wall Street Journal corpus"), and so does an ordinary word in a run
    with a name ("the IBM Torino device": Torino, called a device; not "Large" in "the IBM Large team")."""
    asked = normalize(question)
    sentence = _WEB_ADDRESS.sub(" ", sentence)
    heads = kind_heads(kind) if kind else frozenset()
    out = []
    for name in names_in(sentence):
        key = normalize(name)
        if not key or key in asked or key.rstrip("s") in asked or initials_in(name, asked):
            continue  # also "SPL" for a question about sub-pseudo labels
        if re.fullmatch(r"[A-Z]{2,}[a-z]{2,}", name) and is_common(name):  # "SAmple Consensus": initials shown
            continue
        if not is_name(name) and is_common(name) and not _called_kind(sentence, name, heads):
            continue  # an ordinary word of a title-case run ("Consensus"), not "the IBM Torino device"
        out.append(name)
    for m in _QUOTED_OR_RUN.finditer(sentence):  # 'Ok Google', "the Wall Street Journal corpus"
        name = m.group("quoted") or m.group("run")
        key = normalize(name)
        if not key or key in asked or len(name) > 60 or name in out:
            continue
        plain_run = m.group("run") and all(is_common(w) for w in re.split(r"[ \-]", name))
        if plain_run and heads and not _labelled(sentence, m.start("run"), m.end("run"), heads):
            continue
        out.append(name)
    return out


_WEB_ADDRESS = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.\-]+\.(?:com|org|io|net)/\S*", re.I)


def _called_kind(sentence: str, name: str, heads: frozenset[str]) -> bool:
    """Whether a capitalised word is called a thing of the asked kind where the sentence writes it ("the IBM
    Torino device", "the processor Torino")."""
    found = re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", sentence) if heads else ()
    return any(_labelled(sentence, m.start(), m.end(), heads) for m in found)


def _labelled(sentence: str, start: int, end: int, heads: frozenset[str]) -> bool:
    """Whether the word after a run, or one of the two before it, is a head noun of the asked kind ("the X corpus",
    "the dataset X")."""
    after = re.findall(r"[A-Za-z\-]+", sentence[end:])[:1]
    before = re.findall(r"[A-Za-z\-]+", sentence[:start])[-2:]
    return any(kind_heads(w) == heads for w in after + before)


# a quoted phrase, or two or more capitalised words in a row not opening the sentence
_QUOTED_OR_RUN = re.compile(
    r"[\"“‘']\b(?P<quoted>[A-Z][\w\- ]{1,58}\w)[\"”’']"
    r"|(?:\b[a-z][\w\-]*[,;]?|\() (?P<run>(?:[A-Z][a-z]+[ \-]){1,4}[A-Z][a-z]+)\b"
)


def name_in(name: str, normalized_text: str) -> bool:
    """Whether a name occurs in a text (both normalised; a hyphenated name by all of its parts)."""
    key = normalize(name)
    if not key:
        return True
    padded = f" {normalized_text} "
    forms = {key, f"{key}s", key[:-1] if key.endswith("s") and len(key) > 3 else key}  # CNNs ~ CNN
    if any(f" {form} " in padded for form in forms):
        return True
    parts = key.split()
    if len(parts) > 1 and all(f" {p} " in padded or f" {p}s " in padded for p in parts):
        return True
    return _expanded(name, normalized_text)


def named_in(name: str, normalized_text: str) -> bool:
    """Whether a (normalised, acronym-expanded) text names `name`: as written, as an acronym's expansion (spelled
    out word by word), or written as one word or apart; a name holding a Greek letter by that letter (`greek_in`)."""
    greek = greek_in(name, normalized_text)
    if greek is not None:
        return greek
    name = without_greek(name)
    return (
        name_in(name, normalized_text)
        or variant_in(name, normalized_text)
        or initials_in(name, normalized_text)
        or _camel_spelled(name, normalized_text)
    )


def _camel_spelled(name: str, normalized_text: str) -> bool:
    """Whether a text spells out a CamelCase name word by word, each word starting with a part of it
    ("AutoDiff" ~ "automatic differentiation", "BatchNorm" ~ "batch normalization")."""
    parts = re.findall(r"[A-Z][a-z]+", name)
    if len(parts) < 2 or "".join(parts) != name or any(len(p) < 3 for p in parts):
        return False
    pattern = r"\s+".join(rf"{p.lower()}[a-z]*" for p in parts)
    return re.search(rf"\b{pattern}\b", normalized_text) is not None


def _expanded(name: str, normalized_text: str) -> bool:
    """Whether an acronym's expansion is in the text: GNNs ~ "graph neural networks", FFN ~ "feed forward network"."""
    letters = name[:-1] if name.endswith("s") and name[:-1].isupper() else name
    if not (2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()):
        return False
    words = r"\s+".join(rf"{c}[a-z0-9]*" for c in letters.lower())
    return re.search(rf"\b{words}\b", normalized_text) is not None


def with_written_names(question: Question, texts: Sequence[str]) -> Question:
    """The question with the words it writes in lower case that the retrieved `texts` mostly write as names
    ("halonet": HaloNet, "lstm": LSTM) added to its names, as the texts write them: the index, not the question's
    capitals, knows what is a name. A common word ("clip", "map" for mAP) stays a word; so does one the texts
    mostly write in lower case."""
    return _with_written_names(question, _forms_of(texts))


def _forms_of(texts: Sequence[str]) -> dict[str, list[str]]:
    """Each word of the texts (a run of letters, digits and hyphens), lower-cased, with the ways they write it."""
    forms: dict[str, list[str]] = {}
    for text in texts:
        for token in re.findall(r"[\w\-]+", text):
            forms.setdefault(token.lower(), []).append(token)
    return forms


def _with_written_names(question: Question, written: dict[str, list[str]]) -> Question:
    have = {normalize(n) for n in question.names}
    found: list[str] = []
    for word in dict.fromkeys(re.findall(r"(?<![\w\-])[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![\w\-])", question.text)):
        letters = word.replace("-", "")
        if len(letters) < 3 or word in STOPWORDS or word in have or is_common(word):
            continue
        if unit_word(word) or METRIC_TOKEN.match(word):  # "mev", "rmsd": a unit or a measure, not a named thing
            continue
        forms = written.get(word, [])
        named = [f for f in forms if _written_as_name(f)]
        if named and len(named) * 2 > len(forms):
            found.append(max(dict.fromkeys(named), key=named.count))  # the most usual spelling, first on ties
    parts = tuple(_with_written_names(p, written) for p in question.parts)
    if not found and parts == question.parts:
        return question
    return replace(question, names=question.names + tuple(found), parts=parts)


def _written_as_name(token: str) -> bool:
    """Whether a word is written as only a name is: a capital inside a part (HaloNet, EvolveGCN), a part in
    capitals (LSTM), or letters with digits; not a title's "Cross-Modal"."""
    parts = [p for p in token.split("-") if p]
    return any(any(c.isupper() for c in p[1:]) for p in parts) or (
        any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
    )
