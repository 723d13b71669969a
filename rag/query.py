"""Question analysis in one room: what a question asks for, and the specific names and numbers it holds.

`analyze("How many GPUs were used to train Mamba?")` tells the rest of the pipeline that the
question asks for a number of GPUs and names Mamba; the extractive answerer uses it to pick the
sentence holding that kind of fact, the sufficiency check to decide whether the sources hold it.
Every rule here is a regular expression or a word list, so a verdict can be explained. What it builds on flows one
way: `rag.words` (the question's words and clauses), `rag.quantities` (numbers, units, measures), `rag.question` (the
`Question` it returns) and `rag.names` (names, and the kind of named thing asked for).
"""

from __future__ import annotations

import re
from dataclasses import replace

from rag.dimensions import keyword_figure
from rag.measures import COUNT_HEAD, HOW, PLURAL_METRIC, in_singular, measure_after, measure_of, modifies_a_thing
from rag.names import KINDS, named_kind, names_in
from rag.parts import split as split_parts
from rag.quantities import (
    METRIC,
    METRIC_TOKEN,
    METRIC_WORD,
    NAMED_MEASURE,
    life_science_unit,
    quantities,
    tail_word,
    unit_tail,
    unit_word,
    written_as_unit,
)
from rag.question import Asks, Question
from rag.support import content_words
from rag.typos import fixed_typing_typos
from rag.words import ASKS_ITSELF, AUXILIARY, OPENER, QWORD, plain_text, spelled_out, split_asking, unshouted

# "works" are papers after a word that makes it a noun ("which works", "prior works"), not a verb ("Which loss works
# for imbalanced data?", "Which sampling strategy works best?")
_WORKS = (
    "(?:"
    + "|".join(
        rf"(?<={w} )"
        for w in "which what other prior related recent previous existing earlier several many some any all these "
        "those the key seminal".split()
    )
    + r")works(?!\s+(?:best|better|well|worse|poorly|equally|great|reliably|nicely)\b)"
)
_LIST = re.compile(
    rf"\b(?:which|what|list|name|any|all|several|other)\b.{{0,30}}\b(?:papers|{_WORKS}|studies|articles|methods|"
    r"approaches)\b|\bpapers (?:that|which|on|about)\b",
    re.I,
)
_MODIFIER = (
    r"(?!(?:with|of|on|in|for|that|which|whose|by|from|to|at|than|and|or|between|behind|regarding|about|among|"
    r"across|over|under|into|per|versus|vs|most|main|common|popular)\b)[\w\-/']+"
)
# what may follow the metric that ends the noun phrase ("... top-1 accuracy of X?"), not a noun it modifies ("the
# noise reduction method")
_PHRASE_END = (
    r"(?=\s*(?:[?.,;:!]|$)|\s+(?:of|on|for|in|at|with|by|from|to|that|when|after|before|under|across|does|do|did|is|"
    r"are|was|were|has|have|had|can|could|would|will|reported|reached|achieved|obtained|measured|recorded|"
    r"and|than)\b)"
)
_FIGURE_VERB = r"(?:obtain|achieve|reach|attain|get|report|record|measure)"
"""Verbs of finding a figure, in their base form (a question asks for what they find)."""
# measures asked in the plural, then a verb of finding a figure in their clause ("what plasma concentrations were
# measured", "what hazard ratios were found"); not a verb ("Which method yields the best results?") or a plural that
# asks for kinds ("Which scores are used", "What model sizes were compared": helper-45)
_PLURAL_ASKED = (
    rf"(?:what|which)(?:\s+[\w\-/']+){{0,3}}?\s+{PLURAL_METRIC}(?=\s+(?:were|are|was|is|did|do|does)\b"
    rf"(?:\s+[\w\-]+){{0,5}}?\s+(?:{_FIGURE_VERB}(?:d|ed)?|found|observed)\b)"
)
_TIME_LY = r"(?:hour|dai|week|month|quarter|year|night|ear|fami|elder)ly"  # adjectives: "what daily doses ..."
_NUMBER_Q = re.compile(
    rf"\b(?:by {HOW}|{HOW}|by what (?:factor|share|margin|percentage)|(?:what|which)\b"
    # "what controls the", "what mainly limits the", "what happens to the"
    rf"(?!\s+(?:(?:(?!{_TIME_LY}\b)[a-z]+ly|most|best)\s+){{0,2}}(?!{METRIC}\b|(?:is|was|has|does)\b)[a-z]+s\s+"
    r"(?:(?:to|of|in|with|on)\s+)?(?:the|a|an|its|their|this|these)\b)"
    rf"(?:\s+[\w\-/']+){{0,3}}?\s+{METRIC}\b(?!-[a-z])"
    rf"|(?:what|which)\s+(?:is|are|was|were)\s+(?:the|its|their)(?:\s+{_MODIFIER}){{2,4}}?\s+"
    rf"{METRIC}{_PHRASE_END}|{_PLURAL_ASKED}|to what (?:perplexity|accuracy|error|extent|value)|how many times"
    rf"|(?:what|which)\s+(?:is|are|was|were)\s+(?:the|its|their)(?:\s+{_MODIFIER}){{0,4}}?\s+{NAMED_MEASURE}{_PHRASE_END}"
    rf"|(?:what|which)(?:\s+[\w\-]+){{0,2}}?\s+{NAMED_MEASURE}\s+(?:do|does|did|is|are|was|were|can|could)\b"
    rf"(?=(?:\s+[\w\-]+){{0,5}}?\s+(?:{_FIGURE_VERB}(?:s|d|ed)?|found|observed)\b)"  # "what linewidth did they measure"
    # "what memory overhead does X add", "what runtime overhead did X incur" (not "what value does X add"; nor "what
    # overhead does X introduce", which may ask its kind: helper-53)
    rf"|(?:what|which)(?:\s+[\w\-]+){{0,2}}?\s+(?!values?\b){NAMED_MEASURE}\s+(?:do|does|did|will|would|can|could)\b"
    r"(?=(?:\s+[\w\-]+){0,5}?\s+(?:add(?:s|ed)?|incur(?:s|red)?|impose[sd]?)\b)"
    r"|(?:what|which)\s+(?:(?!(?:type|kind|sort|form)\b)[\w\-]+\s+){0,2}?thresholds?"  # "what threshold do ... reach"
    r"(?=\s+(?:do|does|did|is|are|was|were|can|could|would)\b))",
    re.I,
)
"""A number question: a count or amount ("how many"), or a metric after "what"/"which" and at most three words (not
after a verb and its article: "what controls the error decay" asks for a cause), or
after "what is the" and at most four modifiers ("What is the exact ImageNet top-1 accuracy of X?"), none of them a
preposition ("What is the model with the best accuracy?" asks for a model), the metric ending its noun phrase ("What
is the best noise reduction method?" asks for a method)."""
_WH = re.compile(r"\bwhich\b", re.I)
_RELATIVE = re.compile(  # a noun and its preposition before "which": "the scheme in which", "the layer after which"
    r"(?<![\w\-])(?!(?:and|or|but|then)\b)[\w\-]+\s+(?:in|on|at|for|by|with|from|under|during|across|through|over|"
    r"within|after|via|below|above|among|between|against)\s+$",
    re.I,
)


def _number_cue(text: str) -> re.Match[str] | None:
    """Where a question asks for a quantity (`_NUMBER_Q`); not in a relative clause, whose "which" follows a noun
    and its preposition ("the scheme in which precision improves", "the dataset on which accuracy improves" ask for
    no precision or accuracy; "For the 7B model, at what learning rate ...?" and "Grown on sapphire at what
    temperature?" do ask)."""
    start = 0
    while m := _NUMBER_Q.search(text, start):
        cue = m.group(0)[:5].lower()
        inner = _WH.search(m.group(0), 5) if cue in ("which", "what ") else None
        if inner is not None:  # "which dataset on which accuracy": the metric is the inner clause's
            start = m.start() + inner.start()
        elif cue == "which" and _RELATIVE.search(text, 0, m.start()):
            start = m.end()
        else:
            return m
    return None


# "What AP50 does CSPNet score ...?", "Which SDR does it obtain ...?": a metric named by its acronym, then a verb of
# scoring; the acronym is what is measured
_ACRONYM_METRIC = re.compile(
    r"^(?:[Ww]hat|[Ww]hich)\s+(?P<metric>[A-Z][A-Za-z]*[A-Z][\w@.\-]*|[A-Z]{2,}\w*)\s+(?:\w+\s+){0,2}?"
    r"(?:does|do|did|is|was|are|were|can|could|would)\b(?=.*\b(?:obtain|achieve|reach|score|attain|get|report|"
    r"yield|record)(?:s|d|ed)?\b)"
)
# "What T1 did the qubit have?", "what T2 was measured?", "What is the qubit T1 measured when ...?": a measure named by
# a symbol, one letter and its index, then an auxiliary and, within its clause, a verb of measuring or having, or a
# participle of measuring; "Which T5 did they use?", "Which p53 mutations were reported?", "What is the role of p53?",
# "What is the L1 of the participants?" ask for names or descriptions (helper-44, helper-45)
_SYMBOL_METRIC = re.compile(
    r"^(?:what|which)\s+(?:(?:is|was|are|were)\s+(?:the|its|their)\s+"
    r"(?:(?!(?:of|in|on|at|for|with|between|from|to|by|and|or)\b)[\w\-]+\s+){0,2}?)?"
    r"(?P<metric>[a-z](?:\d{1,2}|[₀-₉]{1,2}|[²³]|[_^]\{?\d{1,2}\}?)\*?)"  # T1, T₁, R², T_1, T_{1}, T2*
    r"(?:\s+(?:does|do|did|is|was|are|were|can|could|would)\b(?=(?:\s+[\w\-]+){0,5}?\s+"
    rf"(?:(?:{_FIGURE_VERB}|yield|show|exhibit)(?:s|d|ed)?|have|has|had)\b)"
    r"|(?=\s+(?:measured|reported|recorded|achieved|obtained|when)\b))",
    re.I,
)
_YESNO = re.compile(
    r"^(?!(?:can|could|would|will) (?:you|u)\s+(?:(?:please|briefly|also|kindly|quickly|just)\s+)*"
    r"(?:summari[sz]e|describe|explain|compare|outline|clarify|elaborate|discuss|characteri[sz]e|break down|go over|"
    r"walk me through|help me understand)\b|would you mind\b)"  # a request to the assistant
    r"(?:is|are|was|were|does|do|did|can|could|has|have|had|will|would|should)\b(?!.*\b(?:which|what|how)\b)",
    re.I,
)
_NAME_Q = re.compile(
    r"^(?:which|what|who|on which|in which|from which|against which|besides \w+, (?:on )?which)\b", re.I
)
_DURATION = re.compile(
    r"\bhow long\b|\b(?:training|inference|run(?:ning)?) time\b|\bhow quickly\b"
    # the duration asked, not one qualifying another measure ("the ablation depth at the longest pulse duration")
    r"|^(?:what|which)\s+(?:is|was|were|are)\s+the\s+(?:[\w\-]+\s+)?duration\b"
    r"|^(?!.*\b(?:what|which|how|who|when|where|why)\b).*\bduration\s*\??$"  # a keyword query: "infusion duration"
    r"|\bhow much time\b(?=.*\b(?:take|takes|took|spend|spent|need|needed|require|required|last|lasted)\b)",
    re.I,
)


def is_list_question(question: str) -> bool:
    """Whether the question asks for several papers."""
    return bool(_LIST.search(question))


def canonical(text: str) -> str:
    """A question in its plain form, for typing: contractions spelled out, one-edit typos of metric and kind words
    fixed, an imperative read as the question it stands for ("Tell me the PSNR of X" -> "what is the PSNR of X",
    "List the datasets ..." -> "which datasets ...", "Tell me how many ..." -> "how many ...")."""
    text = fixed_typing_typos(plain_text(text).strip())
    m = OPENER.match(text)
    if not m:
        return text
    rest, verb = text[m.end() :], m.group("verb").lower()
    if not rest:
        return text
    if ASKS_ITSELF.match(rest):
        return rest
    if re.match(r"(?:whether|if)\b", rest, re.I):
        return "is it true that " + rest.split(None, 1)[-1]
    if verb in ("list", "name", "identify") and not _LIST.search(text):
        return "which " + re.sub(r"^(?:the|a|an|all)\s+", "", rest, flags=re.I)
    if verb in ("list", "name", "identify"):
        return text
    return "what is " + rest


_NAME_HEAD = frozenset({"name", "names", "title", "titles", "list", "which"})


_FIGURE_CHANGES = frozenset("gap drop gain gains improvement reduction increase decrease".split())  # not "effect"


def keyword_only(text: str) -> bool:
    """Whether a question is a keyword query ("Auto-GNN architecture search controller type"): no question word,
    auxiliary or imperative opens it."""
    plain = plain_text(text).strip().rstrip("?.!")
    if not 2 <= len(plain.split()) <= 10 or ASKS_ITSELF.match(plain) or OPENER.match(plain) or _YESNO.match(plain):
        return False
    return not re.search(rf"\b(?:{QWORD}|{AUXILIARY}|whether)\b", plain, re.I)


def keyword_query(text: str) -> tuple[Asks, tuple[str, ...], str] | None:
    """How a bare keyword query asks, when `text` is one (a few words, no question word, no verb of asking):
    ending in a measure ("ResNet-RS parameter count", "X Fon word error rate", "NeMF PSNR") it asks for a number;
    ending in "names" it asks for a name. None for a sentence or a question."""
    if not keyword_only(text):
        return None
    plain = plain_text(text).strip().rstrip("?.!")
    words = plain.split()
    last = words[-1].strip(",;:")
    lead = _COUNT_LEAD.match(plain)
    if lead and len(words) >= 4:  # "number of layers in the encoder", "total number of parameters in GPT-3"
        return "number", *measure_of(lead.group("counted").split())
    if last.lower() in _NAME_HEAD or keyword_kind(plain):
        return "name", (), ""
    if last.lower() in COUNT_HEAD and len(words) >= 2:
        measure, phrase = measure_of([words[-2]])
        return ("number", measure, phrase) if measure else None
    if _asks_in_unit(words):  # "... SDR dB", "... frames per second", "... rapamycin dose nM"
        start = len(words) - 1
        while start > 0 and len(words) - start < 4 and unit_tail(words[start - 1], words[start]):
            start -= 1
        return "number", *measure_of(words[start:])
    if len(words) >= 3 and last.lower() in _FIGURE_CHANGES and METRIC_TOKEN.match(words[-2]):
        return "number", *measure_of(words[-2:-1])  # "X Adam SGD accuracy gap", "X BLEU improvement"
    tail = [w for w in words[-3:] if METRIC_TOKEN.match(w.strip(",;:")) or w.lower() in ("error", "rate", "score")]
    if (METRIC_TOKEN.match(last) and tail) or keyword_figure(words):  # "qubit T1", "microring resonance linewidth"
        start = len(words) - 1
        while start > 0 and len(words) - start < 3 and tail_word(words[start - 1]):
            start -= 1
        return "number", *measure_of(words[start:])
    return None


_COUNT_LEAD = re.compile(
    r"(?:the\s+)?(?:(?:total|average|mean|median)\s+)?(?:number|count)\s+of\s+"
    r"(?P<counted>(?:(?!(?:in|of|on|for|at|per|from|by|with|across|during|used|needed|required)\b)[\w\-]+\s*){1,3})",
    re.I,
)
"""A keyword query that opens with a count: what it counts ("number of attention heads in BERT": attention heads);
not a measure ("reduction of CO2 on copper", "time of flight mass spectrometry" are topics: helper-47)."""


def _asks_in_unit(words: list[str]) -> bool:
    """Whether a keyword query ends in the unit of the figure it asks for. Not after a number ("semaglutide weekly
    2.4 mg" sets the dose), and a life-science unit only after a measure word ("rapamycin dose nM"; "healthcare ml",
    "refractory mm" end in names)."""
    last = words[-1].strip(",;:")
    if len(words) >= 3 and words[-2].lower() == "per":
        return True
    if not unit_word(last) or re.fullmatch(r"[\d.,]+", words[-2]):
        return False
    return not life_science_unit(last) or any(METRIC_TOKEN.match(w.strip(",;:")) for w in words[-4:-1])


def keyword_kind(text: str) -> str:
    """The kind of named thing a keyword query asks for: its last word, or the one before a final "names" or "used"
    ("EvolveGCN experiment dataset names" -> "dataset", "MEDUSA medical imaging benchmarks" -> "benchmarks")."""
    words = [w.strip(",;:") for w in plain_text(text).strip().rstrip("?.!").split()]
    if len(words) >= 3 and words[-1].lower() in ("names", "name", "used", "list"):
        words = words[:-1]
    if len(words) < 2 or re.search(rf"\b(?:{QWORD}|{AUXILIARY})\b", " ".join(words), re.I):
        return ""
    return words[-1] if re.fullmatch(KINDS, words[-1], re.I) else ""


def analyze(question: str) -> Question:
    """Read what a question asks for (number, name, list, yes/no, description), what it names and, for a
    multi-part question, its parts ("What accuracy and latency ...?": one part for each), whatever its wording."""
    asked = _analyze_one(spelled_out(unshouted(" ".join(question.split()))))  # caps lock, chat shorthand
    if asked.asks == "list":
        return asked
    pieces = split_parts(asked.asked, asked.measure_phrase)
    parts = tuple(replace(_part_measure(_analyze_one(p.text)), target=p.target) for p in pieces)
    return replace(asked, parts=parts) if parts else asked


def _part_measure(part: Question) -> Question:
    """A number part whose cue leaves its measure unread ("What is its latency?", "How large is the speed-up ...?")
    measures the metric word it holds: a part's check needs what it asks for."""
    if not part.wants_number or part.measure or part.duration:
        return part
    words = [m.group(0) for m in METRIC_WORD.finditer(part.text)]
    if not words:
        return part
    measure, phrase = measure_of(words[-1:])
    return replace(part, measure=measure, measure_phrase=phrase)


_READER = r"(?-i:I'm|I've|I'd|I|[Mm]y|[Ww]e|[Ww]e're|[Oo]ur|[Mm]e|us|[Yy]ou|[Yy]our)"
_READER_WORD = re.compile(rf"\b{_READER}\b")
_SETTING = re.compile(
    r"\s*(?:in|on|for|among|according to|as (?:reported|described|shown) in)\s+the\s+"
    rf"(?![^,;]*\b{_READER}\b)[^;:?!.,]*?\b(?:sub)?(?:study|trial|survey|cohort|analysis|registry|experiments?|"
    r"dataset|benchmark|model|network|method|framework)\s*,\s*$",
    re.I,
)
"""A leading phrase naming the study or system the question is about ("In the PLATO substudy, ...", "For the DSen2
network, ..."): part of what is asked. Not the reader's own setting ("In PyTorch, ...", "In the era of ChatGPT,
...", "For my thesis on ResNet, ...")."""


_TOP_K = re.compile(r"top-?\d+", re.I)


def _analyze_one(text: str) -> Question:
    """One question's type, names, numbers and measure, whatever its wording: an imperative ("Tell me the BLEU of
    X"), a contraction, a preamble before the question proper, or a bare keyword query ("X parameter count") is
    read as the plain question it stands for."""
    asked, topic_first = split_asking(text)
    lead = text[: len(text) - len(asked)]
    # "RLSAC: which datasets ...?" and "In the PLATO substudy, how many ...?" are about RLSAC and PLATO
    setting = _SETTING.match(lead) is not None and not _READER_WORD.search(asked)  # "how can I ...?"
    topic = lead.rstrip().endswith(":") or setting or topic_first
    # "top-1" qualifies the measure (the quantity check compares it with "top-5"), it names nothing to look for; nor
    # does a unit the question writes as one ("in GHz", "10 MPa": any unit of its dimension may state the figure)
    names = tuple(
        n for n in names_in(text if topic else asked) if not _TOP_K.fullmatch(n) and not written_as_unit(n, text)
    )
    numbers = tuple(quantities(asked))
    focus = frozenset(content_words(text))
    keyword = keyword_query(asked)
    if keyword is not None:
        asks, measure, phrase = keyword
        kind = keyword_kind(asked) if asks == "name" else ""
        duration = bool(_DURATION.search(asked))
        return Question(text, asks, names, numbers, measure, phrase, duration, focus, asked, kind=kind, keyword=True)
    imperative = OPENER.match(plain_text(asked)) is not None
    question_obj = _typed(canonical(asked), names, numbers, focus, imperative)
    return replace(question_obj, text=text, asked=asked, keyword=keyword_only(asked))


def _typed(
    text: str, names: tuple[str, ...], numbers: tuple[str, ...], focus: frozenset[str], imperative: bool = False
) -> Question:
    """The question type of a plain question (one that opens with its question word or auxiliary; `imperative`:
    made from an imperative, "Name the ...")."""
    if is_list_question(text):
        return Question(text, "list", names, numbers, focus=focus)
    cue = _number_cue(text)
    found = measure_after(text, cue) if cue else None
    if cue and found and not _asks_which_thing(text, cue, found[1]) and not _asks_worth(cue, found[1]):
        measure, phrase = found
        if re.search(rf"\b{PLURAL_METRIC}$", cue.group(0), re.I):  # "what hazard ratios were found": hazard ratio, HR
            measure, phrase = in_singular(phrase)
        return Question(text, "number", names, numbers, measure, phrase, bool(_DURATION.search(text)), focus)
    metric = _ACRONYM_METRIC.match(text) or _SYMBOL_METRIC.match(text)
    if metric:
        measure, phrase = measure_of([metric.group("metric")])
        return Question(text, "number", names, numbers, measure, phrase, False, focus)
    if _YESNO.match(text):
        return Question(text, "yesno", names, numbers, focus=focus)
    if _NAME_Q.match(text):
        return Question(text, "name", names, numbers, focus=focus, kind=named_kind(text, imperative))
    return Question(text, "description", names, numbers, focus=focus)


_RELATIVE_OPENER = (
    r"(?:to|they|we|it|the|this|these|its|their|that|which|performs?|works?|gives?|yields?|used|employed|applied|"
    r"adopted|chosen|selected|proposed|for|[a-z]{3,}s\s+(?:the|a|an|its|their))"
)
"""What may follow the asked thing: a relative clause ("the code they used"), "to" ("which metric to use"), a
participle ("the distance metric used"), "for" ("What distance metric for clustering?"), or a verb of which the thing
is the subject ("Which noise reduction method performs best?", "What error correction code protects the qubits?")."""


def _asks_which_thing(text: str, cue: re.Match[str], phrase: str) -> bool:
    """Whether a what- or which-question's metric word only modifies the thing it asks for, the subject of its verb
    ("What error correction code did they use?", "Which distance metric is used?"): a name or a description, not a
    number. Not a noun before the question's own verb ("What accuracy models achieve ...?"); a how-question counts
    even such things ("How many error correction codes ...?")."""
    verbal = r"(?!(?:during|according|including|concerning|regarding|following|using|being|having)\b)[a-z]+ing"
    after = r"\s+([a-z]+)\b" if phrase.endswith("ing") else rf"\s+({verbal}\s+[a-z]+)\b"  # "distance profiling tool"
    gerund = re.search(rf"{re.escape(phrase)}{after}", text, re.I)
    phrase = f"{phrase} {gerund.group(1)}" if gerund else phrase
    if not re.match(r"(?:what|which)\b", cue.group(0), re.I) or not modifies_a_thing(phrase):
        return False
    return (
        re.search(rf"{re.escape(phrase)}(?:\s+(?:{AUXILIARY}|{_RELATIVE_OPENER})\b|\s*[?.,;:!]|\s*$)", text, re.I)
        is not None
    )


_MEASURED = re.compile(rf"\b{METRIC}\b|[A-Za-z]{{1,2}}\d|\w_\w|\(\d+\)", re.I)


def _asks_worth(cue: re.Match[str], phrase: str) -> bool:
    """Whether "what is the value of X" asks what X is worth ("the value of pretraining for ..."), not its figure:
    X names no measure and no symbol ("the Fano factor", "g2(0)", "P_c" do: helper-53)."""
    return re.search(r"\bvalues?$", cue.group(0), re.I) is not None and not _MEASURED.search(phrase)


def as_question(question: str | Question) -> Question:
    """`question` analysed: a `Question` passes through (one analysis per request), a string is analysed."""
    return question if isinstance(question, Question) else analyze(question)
