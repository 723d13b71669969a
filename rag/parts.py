"""Multi-part questions split into the parts each answer must cover, by three explainable rules.

1. Two questions in one: "What is X, and how does it compare to Y?" splits at ", and" / "; " / "? " before a
   question word ("what", "how", "which", ...); an elliptical second question that asks what something "reaches"
   takes the first part's measure ("..., and what does UNet reach?" asks for the same Dice).
2. Coordinated measures: "What precision and recall does X reach?", "What ImageNet accuracy and ADE20K mIoU ...",
   "What top-1 and top-5 accuracy ..." (a shared head word is given to each part): every conjunct between the
   question word and the verb must name a measure (a metric word, a comparative, or an acronym).
3. Coordinated targets: "... on A and on B", "... for X and for Y" (the preposition repeated), or "on A and B" when
   A and B are both strong names (an acronym, a digit, inner capitals: CIFAR-10, ImageNet).

A split happens only when each part is askable on its own; "and" inside a quoted title, after "called" or
"titled", or in a noun compound ("question answering and generation", "Bert and Ernie") does not split: missing a
split only loses the per-part check, inventing one would claim a part is missing that was never asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.corpus.records import normalize
from rag.names import KINDS, name_in, names_in
from rag.quantities import COMPARATIVES
from rag.question import Question
from rag.words import AUXILIARY, QWORD, terms


@dataclass(frozen=True)
class Part:
    """One part of a multi-part question: its own question text and, for a coordinated target, the target as the
    question words it ("on ESC-50")."""

    text: str
    target: str = ""


MAX_PARTS = 4
"""Most parts a question is split into ("precision, recall, F1 and accuracy"); longer lists are not split."""

_WH = QWORD
_CLAUSE = re.compile(
    rf"(?:,\s*(?:and|but)\s+|;\s*(?:and\s+)?|\?\s+|\s+and\s+(?:also\s+)?)(?=(?:(?:in|on|for|at|by|from|to|into|with)\s+)?"
    rf"{_WH}\b)",
    re.I,
)
_MEASURE_WORDS = frozenset(
    "accuracy accuracies error errors rate rates score scores f1 f-score f1-score f-measure bleu rouge perplexity map "
    "miou iou auc auroc auprc psnr ssim wer cer der eer mos dice precision recall speed-up speedup speed throughput "
    "latency size count bitrate resolution energy power memory top-1 top-5 sparsity gain improvement reduction "
    "parameters params flops fps time duration cost sdr si-sdr ndcg mrr ap ap50 ap75 rtf loss".split()
)
_MEASURE_CUE = re.compile(
    r"^(?P<cue>.*?\b(?:what|which|how many|how much|by how much)\s+)(?P<list>.+?)\s+"
    r"(?P<rest>(?:does|do|did|is|are|was|were|can|could|would|will|has|have|had)\b.*)$",
    re.I,
)
_CONJ = re.compile(r"\s*,\s*(?:and\s+|as well as\s+)?|\s+(?:and|as well as)\s+", re.I)
_PREP = r"(?:on|for|in|at|across|under|with)"
_TARGETS = re.compile(
    rf"\b(?P<prep>{_PREP})\s+(?P<a>(?:(?!\b{_PREP}\b)[^,;?])+?)\s*,?\s+and\s+(?P<again>(?P=prep)\s+)?(?P<b>[^,;?]+?)"
    rf"(?=\s*[,;?]|\s*$|\s+(?:over|than|compared|versus|vs\.?|when|while|using|relative|respectively|"
    rf"does|do|did|is|are|was|were|{_PREP}|from|by)\b)",
    re.I,
)
# a title may follow: anywhere after "called" or "titled" (unquoted, where it ends is unknown), right after "paper"
_TITLE_CUE = re.compile(r"\b(?:called|titled|entitled|named|dubbed)\b|\b(?:paper|article|book)\s*[:,]?\s*\S*$", re.I)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<!\w)'[^']*'(?!\w)")
_STRONG_NAME = re.compile(r"^(?:\S*\d\S*|\S*[A-Z]\S*[A-Z]\S*)$")
_ELLIPTIC = re.compile(
    r"^(?:what|which)\s+(?:does|do|did|is|are|was|were|can|could)\b.*\b(?:reach|achieve|get|score|obtain|attain|"
    r"report)(?:s|es|ed)?\b",
    re.I,
)
_ASKS = re.compile(  # a question of its own: its verb comes before its subject ("how long did training take")
    rf"^(?:(?:in|on|for|at|by|from|to|into|with)\s+)?{_WH}\b(?:\s+\S+){{0,4}}?\s+{AUXILIARY}\b",
    re.I,
)
_VERB = re.compile(rf"\b{AUXILIARY}\b.*$", re.I)
_LEAD = r"(?:(?:in|on|for|at|by|from|to|into|with|against|across|under)\s+)?"  # "against how many baselines"
_FRAGMENT = re.compile(  # a question without its verb: "how many speakers", "against how many baselines"
    rf"^{_LEAD}(?:how many|how much|what|which)(?:\s+(?!{AUXILIARY}\b)[\w\-']+){{1,3}}$",
    re.I,
)
_OPENS_QUESTION = re.compile(
    rf"^(?:(?:in|on|for|at|by|from|to|into|with|against|across|under|besides)\s+)?(?:{_WH}|{AUXILIARY}|name|list|"
    r"give|tell)\b",
    re.I,
)
_OPENS_WH = re.compile(rf"^{_LEAD}{_WH}\b", re.I)
_DANGLING = re.compile(r"\b(?:between|of|and|or|to|the|a|an|both|either|whether|than|on|for|in|at|with)$", re.I)


def split(question: str, measure_phrase: str = "") -> list[Part]:
    """The parts of a multi-part question (each askable alone), or [] when it asks one thing. `measure_phrase` is
    what the whole question measures (for an elliptical second question)."""
    text = " ".join(question.split())
    parts = _clauses(text, measure_phrase)
    if not parts:
        parts = [Part(text)]
    out: list[Part] = []
    for part in parts:
        out += _coordinated(part) or [part]
    return out[:MAX_PARTS] if len(out) > 1 and len(out) <= MAX_PARTS else []


def _protected(text: str) -> list[tuple[int, int]]:
    """Spans no split may cut: quoted text."""
    return [m.span() for m in _QUOTED.finditer(text)]


def _inside(at: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= at < b for a, b in spans)


def _clauses(text: str, measure_phrase: str) -> list[Part]:
    """Two (or more) questions in one, split at their question words; [] for one question."""
    spans = _protected(text)
    cuts = [m for m in _CLAUSE.finditer(text) if not _inside(m.start(), spans)]
    if not cuts:
        return _trailing_fragment(text, spans)
    pieces, start = [], 0
    for m in cuts:
        pieces.append(text[start : m.start()])
        start = m.end()
    pieces.append(text[start:])
    pieces = [p.strip(" ,;?") for p in pieces]
    if len(pieces) == 2 and not _ASKS.match(pieces[1]) and _askable_fragment(pieces[1]):
        return _with_verb(pieces[0], pieces[1])  # "How many layers does it have, and how many heads?"
    if any(len(p.split()) < 3 for p in pieces) or len(pieces) > MAX_PARTS or any(_DANGLING.search(p) for p in pieces):
        return []  # "what and why?": not questions alone
    if any(not _ASKS.match(p) for p in pieces[1:]) or re.search(r"\bbetween\b", pieces[0], re.I):
        return []  # "the trade-off between accuracy and how fast the model runs": one question
    if not _OPENS_QUESTION.match(pieces[0]):
        return []  # "I'm surveying X; which dataset was it?": a preamble, then one question
    verb = _VERB.search(pieces[-1])
    out = []
    for i, piece in enumerate(pieces):
        if i < len(pieces) - 1 and verb and _FRAGMENT.match(piece):  # "How many speakers and how many hours ...
            piece = f"{piece} {pieces[-1][verb.start() :]}"  # ... does X have?": each takes the shared verb
        piece = piece[0].upper() + piece[1:]
        if i and measure_phrase and _ELLIPTIC.match(piece):  # "and what does UNet reach?": the same measure
            piece = re.sub(r"^(what|which)\b", rf"\1 {measure_phrase}", piece, count=1, flags=re.I)
        out.append(Part(piece + "?"))
    return out


_KIND = re.compile(KINDS, re.I)
_LAST_FRAGMENT = re.compile(r",\s*(?P<fragment>[^,;?]+?)\s*\?\s*$")


def _trailing_fragment(text: str, spans: list[tuple[int, int]]) -> list[Part]:
    """'Which networks were compared, on which datasets?' -> 'Which networks were compared?', 'On which datasets
    were compared?': a verbless question after a comma, ending the text, takes the first question's verb."""
    m = _LAST_FRAGMENT.search(text)
    if m is None or _inside(m.start(), spans) or not _askable_fragment(m.group("fragment")):
        return []
    return _with_verb(text[: m.start()].strip(" ,;"), m.group("fragment"))


def _askable_fragment(fragment: str) -> bool:
    """A verbless question that asks for a count or amount ("how many heads"), for named things of a kind ("on which
    datasets", "which benchmarks") or for a measure on something ("on which benchmark's accuracy"), not for a
    circumstance ("in which setting") nor a bare measure that may restate the first question ("how fast is it, what
    latency?")."""
    if not _FRAGMENT.match(fragment):
        return False
    head = fragment.split()[-1]
    if re.search(r"\bhow (?:many|much)\b", fragment, re.I) or _KIND.fullmatch(head):
        return True
    return _is_measure(head) and not re.match(r"(?:what|which)\b", fragment, re.I)


_INVERTED = re.compile(r"^(?:does|do|did|can|could|has|have|had|will|would|should)\s+(?!not\b)\w", re.I)


def _with_verb(first: str, fragment: str) -> list[Part]:
    """A wh-question and a verbless one after it: the second takes the first's verb and subject when the first
    inverts them ("how many layers does it have, and how many heads?" -> "How many heads does it have?"), else it
    stands alone ("which networks were compared, on which datasets?" -> "On which datasets?"); [] when the first
    is not a wh-question with a verb."""
    verb = _VERB.search(first)
    if not _OPENS_WH.match(first) or verb is None or len(first.split()) < 3 or _DANGLING.search(first):
        return []
    second = f"{fragment} {first[verb.start() :]}" if _INVERTED.match(first[verb.start() :]) else fragment
    return [Part(first[0].upper() + first[1:] + "?"), Part(second[0].upper() + second[1:] + "?")]


def _is_measure(word: str) -> bool:
    word = word.strip(",.?()")
    # an acronym (BLEU, mAP, mIoU, AP50, F1), not a CamelCase name (SuperSlomo, ImageNet)
    return (
        word.lower() in _MEASURE_WORDS
        or word.lower() in COMPARATIVES
        or bool(re.fullmatch(r"[a-z]?[A-Z]{2,6}(?:@?\d+)?|[a-z][A-Z][a-z]?[A-Z]|[A-Z]\d|top-\d+", word))
    )


def _coordinated(part: Part) -> list[Part]:
    """A part with coordinated measures or targets split further; [] when it has neither."""
    return _measures(part) or _targets(part)


def _measures(part: Part) -> list[Part]:
    """'What precision and recall does X reach?' -> 'What precision does X reach?', 'What recall does X reach?'."""
    m = _MEASURE_CUE.match(part.text)
    if not m or not _CONJ.search(m.group("list")) or _inside(m.start("list"), _protected(part.text)):
        return []
    if re.search(r"\b(?:than|between|of)\b", m.group("list"), re.I):
        return []  # "faster than A and B", "the ratio of A and B": what is compared, not what is measured
    conjuncts = [re.sub(r"^(?:what|which)\s+", "", c.strip(), flags=re.I) for c in _CONJ.split(m.group("list"))]
    conjuncts = [c for c in conjuncts if c]
    if len(conjuncts) < 2 or any(len(c.split()) > 4 or re.match(rf"{_PREP}\b", c, re.I) for c in conjuncts):
        return []  # "reduction in FLOPs and in latency": coordinated targets, not measures
    last = conjuncts[-1].split()
    head = last[-1]
    measured = []
    for c in conjuncts:
        words = c.split()
        modifier = re.fullmatch(r"top-\d+", c, re.I) or not _is_measure(c)
        if len(words) == 1 and c is not conjuncts[-1] and len(last) >= 2 and _is_measure(head) and modifier:
            measured.append(f"{c} {head}")  # "top-1 and top-5 accuracy", "training and inference time"
        elif _is_measure(words[-1]):
            measured.append(c)
        else:
            return []  # "question answering and generation accuracy": not a list of measures
    return [Part(f"{m.group('cue')}{c} {m.group('rest')}", part.target) for c in measured]


def _targets(part: Part) -> list[Part]:
    """'... on A and on B' -> '... on A', '... on B' (also 'on A and B' for two strong names)."""
    text = part.text
    spans = _protected(text)
    for at in re.finditer(rf"\b{_PREP}\s", text, re.I):
        m = _TARGETS.match(text, at.start())
        if m is None or _inside(m.start(), spans) or _TITLE_CUE.search(text[: m.start()]):
            continue
        a, b, prep = m.group("a").strip(), m.group("b").strip(), m.group("prep")
        if not a or not b or len(a.split()) > 5 or len(b.split()) > 5 or " and " in f" {a} ":
            continue
        if not m.group("again") and not (_strong(a) and _strong(b)):
            continue  # "on question answering and generation", "for Bert and Ernie": one thing
        out = []
        for target in (a, b):
            out.append(Part(f"{text[: m.start()]}{prep} {target}{text[m.end() :]}", f"{prep} {target}"))
        return out
    return []


def _strong(phrase: str) -> bool:
    """Whether every word of a target is a strong name (an acronym, a digit, inner capitals): CIFAR-10, ImageNet."""
    words = phrase.split()
    return len(words) <= 3 and all(_STRONG_NAME.match(w) for w in words)


_SECOND_PART = re.compile(r"\b(?:and|or)\s+(?:\w+\s+)?(?:how|what|which|where|who|when|why)\b", re.I)


def asks_several_facts(question: str | Question) -> bool:
    """Whether the question asks a second thing ("How many topics ..., and into which parts ...?")."""
    if isinstance(question, Question):
        return bool(question.parts) or bool(_SECOND_PART.search(question.text))
    return bool(_SECOND_PART.search(question))


def target_in(target: str, text: str) -> bool:
    """Whether a text speaks of a part's target ("on CIFAR-100", "for sleep stage classification"): each of its
    names (an acronym's expansion counts) and its other content words occur in the text."""
    bare = re.sub(r"^\W*(?:on|for|in|at|across|under|with)\s+(?:the|a|an)?\s*", "", target, flags=re.I)
    names = names_in(f"x {bare}")
    normalized = normalize(text)
    if not all(name_in(n, normalized) for n in names):
        return False
    named = {t for n in names for t in terms(n)}
    return terms(bare) - named <= terms(text)
