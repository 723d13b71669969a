"""Whether a sentence names a thing of the kind a which-question asks for ("Which datasets ...?": ImageNet, not
GCNs or mIoU): the names it gives beyond the question's, typed by the acronym map's long forms, by chemistry for
materials, by a cell-line label for cell lines, by the kind's noun next to a name ("the POWER dataset") and by what
many abstracts call a name (`rag/data/name_kinds.json`: "Frank-Wolfe" is a method, not a solver)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from rag.acronyms import AcronymMap, harvest, singular_acronym
from rag.chemistry import ELEMENTS, is_material_name
from rag.corpus.records import normalize
from rag.names import KIND_GROUPS, kind_heads, names_a_method, names_a_process, new_names, singular
from rag.quantities import METRIC_TOKEN, unit_word
from rag.question import Question
from rag.support import STOPWORDS
from rag.words import is_common


def unnamed_kind(question: Question, sentences: Sequence[str], acronyms: AcronymMap) -> str:
    """The kind of thing a which-question asks for ("Which solver ...?") when no claim names one (`names_of_kind`),
    else "". Claims come without the paper titles they name (rag.citations), so a title restated before a sentence
    names nothing."""
    if not question.kind or any(names_of_kind(question, s, acronyms) for s in sentences):
        return ""
    return question.kind


def typed_otherwise(name: str, heads: frozenset[str]) -> bool:
    """Whether the abstracts of many papers call `name` things of other kinds: "Frank-Wolfe" a method or an
    algorithm, not a solver (`heads`); "SGD" an algorithm or an optimizer, hardly ever a data set. Mined from an arXiv
    export (eval/mine_name_kinds.py), names as written ("BLOOM" the model is not "Bloom" the filter). Not known, so
    not ruled out: a name seen fewer than five times, and any name for a kind the table holds fewer than two nouns of
    (a cell line, a gene, an optimizer) or a material (the abstracts call "hBN" a layer, a substrate, ...)."""
    names, nouns = _lexicon()
    if len(heads & nouns) < 2 or "material" in heads:
        return False
    counts = names.get(name) or (names.get(name[:-1]) if name.endswith("s") else None) or {}
    total = sum(counts.values())
    return total >= 5 and sum(c for h, c in counts.items() if h in heads) < 0.1 * total


@cache
def _lexicon() -> tuple[dict[str, dict[str, int]], frozenset[str]]:
    return read_name_kinds(Path(__file__).parent / "data" / "name_kinds.json")


def read_name_kinds(path: Path) -> tuple[dict[str, dict[str, int]], frozenset[str]]:
    """A mined table (eval/mine_name_kinds.py): each name with how often abstracts call it each kind of thing, and
    those kind nouns. Empty when the file is missing or unreadable, so that no name is ruled out by it; an entry
    that is not a name's counts is left out."""
    try:
        found = json.loads(path.read_text("utf-8"))
        names = {
            str(name): {str(h): c for h, c in counts.items() if isinstance(c, int)}
            for name, counts in found["names"].items()
            if isinstance(counts, dict)
        }
        return names, frozenset(str(h) for h in found["heads"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}, frozenset()


def names_of_kind(question: Question, sentence: str, acronyms: AcronymMap) -> list[str]:
    """The names a sentence gives of the kind a which-question asks for (a data set, a solver, ...): names other
    than the question's and than their acronyms or long forms, and not an acronym the map spells out as another
    kind of thing ("GCNs" or "FDN", a network, for "which datasets")."""
    heads = kind_heads(question.kind)
    aliases = (normalize(a) for n in question.names for a in acronyms.aliases(n))
    asked = f" {normalize(question.text)} {' '.join(aliases)} "
    out = []
    found = new_names(question.text, sentence, question.kind)
    # methods and tasks ("Reinforcement Learning"), and their words, name no data set; a process ("Sharpness-Aware
    # Minimization") names no architecture either; a solver, an optimizer or a baseline may be any method
    if heads & {"solver", "optimizer", "algorithm"} or singular(question.kind.lower()) == "baseline":
        methods = []
    else:
        methods = [n for n in found if names_a_process(n) or ("architecture" not in heads and names_a_method(n))]
    method_words = {w for n in methods for w in re.split(r"[ \-]", n)}
    # a word of a spelled-out acronym names nothing alone ("Intermediate-Scale" of Noisy Intermediate-Scale Quantum)
    defined = harvest(sentence)
    spelled = {normalize(lf) for _, lf in defined} | {a for n in found for a in acronyms.aliases(n)}
    spelled_words = {w for lf in spelled for w in lf.split()}
    for name in found:
        key = normalize(name)
        long_forms = [normalize(a) for a in acronyms.aliases(name)]
        if f" {key.rstrip('s')} " in asked or any(f" {a} " in asked or f" {a}s " in asked for a in long_forms):
            continue  # "GNNs" for a question about graph neural networks, "microRNAs" for one about miRNAs
        ends = [a.split()[-1] for a in long_forms if a.split()]
        other = ends and not any(e.rstrip("s") in heads for e in ends)
        if (
            other
            and "algorithm" not in heads
            and (all(is_common(e) for e in ends) or any(_another_kind(e, heads) for e in ends))
        ):
            continue  # "SOTA", "GCNs", "MLP" for "which datasets": spelled out as another thing (not "Penn Treebank")
        if "algorithm" in heads:  # "JSSP" (job-shop scheduling problem), "TSP": what an algorithm solves, not one
            own = [lf.split()[-1] for a, lf in defined if a == singular_acronym(name) and lf.split()]
            if (ends or own) and all(normalize(e).rstrip("s") in _PROBLEMS for e in ends + own):
                continue
        if name in methods or name in method_words:
            continue
        if _capitalised_word(name) and set(key.split()) <= spelled_words and key not in spelled:
            continue
        if unit_word(name):
            continue  # "THz", "GHz": a unit names nothing of any kind
        if kind_heads(name) == heads or key.rstrip("s") == normalize(question.kind).replace(" ", "").rstrip("s"):
            continue  # "microRNAs" for "which mirnas": the kind itself, not one of its names
        if METRIC_TOKEN.match(name) and not _called(sentence, name, heads):
            continue  # "mIoU", "BLEU", "top-1": a measure, not a thing of any asked kind (unless "the POWER dataset")
        if typed_otherwise(name, heads) and not _called(sentence, name, heads):
            continue  # "the Frank-Wolfe algorithm" for "which solver", "SGD" for "which data set"
        out.append(name)
    if "cell" in heads:  # a cell line is named where a sentence calls it one: "COS-7 and HeLa cells", "the line U2OS"
        out = [n for n in out if _called_a_cell_line(n, sentence)]
    described = _methods_named(sentence, set(asked.split())) if heads & {"algorithm", "optimizer"} else []
    named = {normalize(n) for n in out}  # a lower-case method ("a genetic algorithm"), once
    out += [d for d in dict.fromkeys(described) if d not in named]
    if heads & {"material", "substrate", "compound"}:  # not a capitalised word ("Ising"); an element in any case
        out = [n for n in out if is_material_name(n) or not _capitalised_word(n)]
        out += [w for w in _ELEMENT_WORD.findall(sentence) if w.lower() in ELEMENTS and f" {w.lower()} " not in asked]
    return out


# a specific method, its head ending the noun phrase ("simulated annealing", "minimax search", "Monte Carlo Tree
# Search"): not followed by another noun, after its acronym or not ("a search problem", "Quadratic Unconstrained
# Binary Optimization (QUBO) problems")
_METHOD = re.compile(
    r"\b(?i:algorithms?|search|descent|annealing|sampling|clustering|programming|trees|forests?)\b"
    r"(?!(?:\s*\([^()]{1,20}\))?\s+(?!(?:with|over|on|in|to|for|of|by|and|or|until|using|that|which|at|as|from|is|"
    r"are|was|were|through|within|via|under|into|while|after|before|per|across|against|than|based)\b)[A-Za-z])"
)
_GENERIC = frozenset(
    "proposed novel new our their its this that these an a the efficient simple fast improved existing specific "
    "dedicated standard general same different other modified optimal baseline classical custom iterative learning "
    "based deep machine heuristic hybrid adaptive numerical online extensive systematic exhaustive approximate "
    "approximation optimization well-known state-of-the-art off-the-shelf two-stage multi-stage end-to-end "
    "scalable robust generic global local".split()
)


_PROBLEMS = frozenset("problem task challenge game benchmark competition".split())


def _methods_named(sentence: str, asked: set[str]) -> list[str]:
    """Method phrases of a sentence, normalised: the method's head and up to three words just before it, in lower
    or in title case ("solved by simulated annealing" -> "simulated annealing", "Monte Carlo Tree Search"); none
    for a bare, generic or task head ("the proposed algorithm", "an extensive search", "a clustering algorithm"), nor
    for the question's own words (by their first five letters: "clustered" for "clustering") or their initials ("a
    reinforcement learning algorithm" for "Which RL algorithm ...?")."""
    out = []
    for m in _METHOD.finditer(sentence):
        title = m.group(0)[0].isupper()
        before = re.findall(r"\w[\w\-]*", sentence[max(0, m.start() - 120) : m.start()])[-3:]
        words: list[str] = []
        for w in reversed(before):
            if (
                (w.lower() in STOPWORDS and w.lower() != "based")
                or w == "s"
                or (not w[0].isupper() if title else w[0].isupper() and "-" not in w)
            ):
                break
            words.insert(0, w)
        modifiers = [w for w in normalize(" ".join(words)).split() if w][-3:]
        specific = [w for w in modifiers if w not in _GENERIC and not w.endswith("ing")]  # not "selecting algorithms"
        if specific and not _own(modifiers, asked):
            out.append(" ".join([*modifiers, normalize(m.group(0))]))
    return out


def _own(words: list[str], asked: set[str]) -> bool:
    """Whether words are the question's own, by their first five letters ("clustered" for "clustering"), or spell
    out an acronym it writes ("reinforcement learning" for "RL": two to five letters, not an ordinary word)."""
    stems = {w[:5] for w in asked}
    acronyms = {w for w in asked if 2 <= len(w) <= 5 and not is_common(w)}
    initials = "".join(w[0] for w in words)
    runs = {initials[i:j] for i in range(len(initials)) for j in range(i + 2, len(initials) + 1)}
    return all(w[:5] in stems for w in words) or bool(runs & acronyms)


_ELEMENT_WORD = re.compile(r"\b([A-Za-z]+)\b(?!-|\s+(?:to|standard)\b)")  # not "lead to", "gold standard"


def _another_kind(word: str, heads: frozenset[str]) -> bool:
    """Whether a head noun names a kind of thing other than `heads` ("perceptrons" for "datasets")."""
    found = kind_heads(word)
    return found != heads and any(found == g for g in KIND_GROUPS)


def _capitalised_word(name: str) -> bool:
    """Whether a name is only capitalised words ("Ising", "Kondo-Heisenberg"): no digits, no inner capitals."""
    return all(p.isalpha() and p[:1].isupper() and p[1:].islower() for p in name.split("-") if p)


_CELL_LABEL = (
    r"(?:(?:,|\s+and|\s+or)\s+[\w\-/]+){0,3}"  # other names listed with it
    r"(?:\s+(?!(?:from|of|in|on|at|and|or|the|a|an|with|to|by|for|into|than)\b)(?:[a-z\-]+|[A-Z]{1,3})){0,3}"
    r"\s+(?:cells?|cell\s+lines?|lines?|macrophages|fibroblasts|monocytes|oocytes)\b"  # "MCF-7 breast cancer cells"
)


def _called_a_cell_line(name: str, sentence: str) -> bool:
    """Whether a sentence calls `name` a cell line: "cells" or "cell line" follows it, maybe after other names
    ("COS-7 and HeLa cells"), or "cell line" comes just before it."""
    if re.search(rf"(?<![\w-]){re.escape(name)}{_CELL_LABEL}", sentence):
        return True
    mentions = re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", sentence)
    before = (r"\bcell\s+lines?\b(?:\s+[\w\-]+){0,2},?\s*$", r"\b(?:cells|lines?)\s*\(\s*$")  # "... cells (HEK293)"
    return any(re.search(b, sentence[: m.start()]) for m in mentions for b in before)


def _called(sentence: str, name: str, heads: frozenset[str]) -> bool:
    """Whether a sentence calls `name` a thing of the asked kind: the word just after it ("the SCS solver") or
    just before it ("the solver SCS") is one of `heads`."""
    for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", sentence):
        after = re.match(r"\s+([A-Za-z\-]+)", sentence[m.end() :])
        before = re.search(r"([A-Za-z\-]+)\s+$", sentence[: m.start()])
        if any(w is not None and kind_heads(w.group(1)) == heads for w in (after, before)):
            return True
    return False
