"""Does the answer actually answer? Explainable checks run after an answer is written and cited.

Three outcomes: `answered`; `partial` (the cited abstracts are on topic but do not state the asked fact: a number for a
"how many" question, a name the question is about, most of its rare words); `abstained` (the question names something
no indexed abstract mentions, or shares almost nothing with the sources). Each verdict says in words what is missing.

The rules, in order:
1. every specific name of the question (model, data set, acronym, or an acronym's expansion) occurs in the
   cited abstracts; a name that occurs in no indexed abstract at all (BM25 document frequency 0) means abstain;
   so does every number the question states (a setting: "at 128 x 128", "in three milliseconds");
   a name counts under any of its names: the acronyms and long forms the indexed abstracts define
   (`CorpusTerms.acronyms`: "mAP" ~ "mean average precision"), written as one word or apart ("data set" ~
   "dataset", "seq2seq" ~ "sequence to sequence"); a number in any spelling ("three" ~ "3", "1.2k" ~ "1,200");
2. a number question gets a sentence with a quantity about what it measures, near the word that names it
   (a time for "how long"; a physical quantity may be named by its unit: "14 GPa" states a pressure); a
   which-question asking for a named thing ("Which datasets ...", "What solver ...", "EvolveGCN dataset names")
   gets a sentence naming one: a name the question does not hold, and not an acronym the abstracts spell out as
   another kind of thing ("GCNs" for "which datasets");
3. the cited abstracts cover enough of the question's words, each weighted by its inverse
   document frequency in the index (rare words count most); with an embedder, a question word
   also counts as covered by a source word whose word embedding is close enough (`word_match`:
   "wider" by "width", "problem" by "issue"), so a paraphrased question is not taken for a
   question the sources do not answer;
4. a multi-part question (rag.parts: "accuracy and latency", "on A and on B", two questions in one) is checked part
   by part: each part's names, and for a number part an answer sentence with a quantity of what it measures that
   names the part's target ("on CIFAR-100"); a part that fails makes the answer partial, named in `missing`
   ("report the latency"); a name no abstract holds, asked only by a part that fails while another part is
   answered, makes the answer partial, not abstained.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from rag.acronyms import AcronymMap
from rag.config import Settings
from rag.corpus.records import normalize
from rag.coverage import WordCoverage, question_words
from rag.dimensions import asks_change, units_of
from rag.index.terms import CorpusTerms
from rag.makers import unnamed_thing
from rag.measures import asks_count, counts_in
from rag.names import named_in
from rag.normalise import abbreviated, nearest, number_forms, numerals, rounds_to, spelled_settings
from rag.parts import target_in
from rag.quantities import measured_quantities, quantities, unit_word
from rag.question import Question
from rag.spans import how_long_missing, states_how_long
from rag.support import SCRIPT_DIGITS, SentenceEmbeddings, restates_question
from rag.types import Paper
from rag.verdict import Signals, VerdictModel
from rag.words import terms

log = logging.getLogger(__name__)
Status = Literal["answered", "partial", "abstained"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of the sufficiency check, with what is missing in plain words."""

    status: Status
    missing: str = ""
    """What the sources do not state, as a verb phrase: "mention UrbanSound8K", "give the number of GPUs"."""
    reasons: tuple[str, ...] = field(default_factory=tuple)
    """The rules that fired, for logs and evaluation ("absent-name:UrbanSound8K", "no-quantity", "coverage:0.31")."""
    signals: Signals | None = field(default=None, compare=False)
    """What the checks found (the calibrated model's inputs)."""


_DEFAULTS = Settings.model_fields  # one set of defaults: a checker built without settings judges as `Settings` does


class SufficiencyChecker(WordCoverage):
    """Decides answered / partial / abstained for a question, its answer sentences and the papers they cite."""

    def __init__(
        self,
        corpus: CorpusTerms | None = None,
        *,
        partial_coverage: float = _DEFAULTS["partial_coverage"].default,
        abstain_coverage: float = _DEFAULTS["abstain_coverage"].default,
        embeddings: SentenceEmbeddings | None = None,
        word_match: float = _DEFAULTS["word_match"].default,
        measure_window: int = _DEFAULTS["measure_window"].default,
        model: VerdictModel | None = None,
    ) -> None:
        self.corpus = corpus
        self.model = model
        """The calibrated verdict model (rag.verdict); None: the rules decide in order."""
        self.partial_coverage = partial_coverage
        self.abstain_coverage = abstain_coverage
        self.embeddings = embeddings
        self.word_match = word_match
        """Cosine at which a source word covers a question word it does not spell (above 1: exact stems only)."""
        self.measure_window = measure_window
        """Most words between a stated quantity and the word naming what a number question measures."""

    def check(
        self,
        question: Question,
        sentences: Sequence[str],
        cited: Sequence[Paper],
        *,
        relevance: float = 0.0,
        margin: float = 1.0,
        support: float = 0.0,
        by_claim: Sequence[Sequence[Paper]] | None = None,
    ) -> Verdict:
        """Judge an answer: `sentences` are its claims (without markers), `cited` the papers it cites, `by_claim`
        (when known) the papers each claim cites; `relevance`, `margin` and `support` are what retrieval and
        citation checking found (inputs of the calibrated model)."""
        if not cited:
            return Verdict("abstained", "answer the question", ("nothing-cited",))
        found = self.signals(
            question, sentences, cited, relevance=relevance, margin=margin, support=support, by_claim=by_claim
        )
        verdict = self.decide(question, found)
        return replace(verdict, signals=found)

    def signals(
        self,
        question: Question,
        sentences: Sequence[str],
        cited: Sequence[Paper],
        *,
        relevance: float = 0.0,
        margin: float = 1.0,
        support: float = 0.0,
        by_claim: Sequence[Sequence[Paper]] | None = None,
    ) -> Signals:
        """What the checks find, before any decision. A number must come from a claim citing a paper that names
        what the question names (`by_claim`): a quantity from another paper is about something else."""
        # a title that restates the question covers it without answering it
        raw = " ".join(
            p.abstract if restates_question(question.text, p.title) else f"{p.title}. {p.abstract}" for p in cited
        )
        acronyms = self.acronyms()
        # the sources' text, followed by the other names of what it names ("lstm" ... "long short term memory")
        source_text = acronyms.expand(raw)
        spelled = abbreviated(question.asked, raw)  # "mean average precision" asked, "mAP" written
        source_text += " . " + " . ".join(spelled) if spelled else ""
        names = self._names(question, acronyms)
        missing = tuple(n for n in names if not named_in(n, source_text))
        unknown = tuple(n for n in missing if self._unknown(n, acronyms)) + self._rare(question, source_text)
        stated = _stated_numbers(raw.translate(SCRIPT_DIGITS))  # the numbers stated, in every spelling ("La₃Ni₂O₇")
        asked_numbers = {_number_of(n): _number_forms(n) for n in question.numbers if n[0].isdigit()}
        asked_numbers |= {n: {n} for n in spelled_settings(question.asked)}  # "at three milliseconds"
        unstated = tuple(  # "at 128 x 128": 256 only; "about 97%": 97.20% written
            n for n, forms in asked_numbers.items() if not forms & stated and not rounds_to(n, stated, question.asked)
        )
        named = [n for n in names if n not in missing]
        quantity_missing = question.wants_number and (
            self.measure_unspoken(question, source_text)  # "hazard ratio" asked, only odds ratios written
            or not self._states_quantity(question, _naming(named, sentences, by_claim, acronyms), stated)
        )
        kind_unnamed = unnamed_thing(question, sentences, acronyms)
        parts_missing: tuple[str, ...] = ()
        if question.parts:  # each part gets its sentence: the parts' checks replace the whole question's quantity
            lacks = [self._part_lacks(p, sentences, stated, source_text, acronyms) for p in question.parts]
            parts_missing = tuple(dict.fromkeys(lack for lack in lacks if lack))
            quantity_missing = any(lack and p.wants_number for p, lack in zip(question.parts, lacks, strict=True))
            answered = [p for p, lack in zip(question.parts, lacks, strict=True) if not lack]
            if answered:  # a name no abstract holds, asked by a part that is missing: that part, not the question
                kept = {normalize(n) for p in answered for n in self._names(p, acronyms)}
                unknown = tuple(n for n in unknown if normalize(n) in kept)
        coverage, absent = self.coverage(question, source_text)
        return Signals(
            asks=question.asks,
            names_missing=missing,
            names_asked=len(names),
            names_unknown=unknown,
            numbers_unstated=unstated,
            quantity_missing=quantity_missing,
            kind_unnamed="" if question.parts else kind_unnamed,
            parts_missing=parts_missing,
            coverage=coverage,
            absent=tuple(absent),
            relevance=relevance,
            margin=margin,
            support=support,
        )

    def decide(self, question: Question, found: Signals) -> Verdict:
        """answered / partial / abstained. With a fitted model (`self.model`) one calibrated probability decides
        whether the answer stands; what a held-back answer lacks, and whether it is partial (the cited abstracts are
        about the question) or abstained (a name no abstract holds, or hardly any of the question's words), is read
        from the signals. Without a model the rules decide, in order."""
        lacks = self.lacking(question, found)
        if self.model is not None:
            if self.model.answers(found):
                return Verdict("answered")
            if not lacks:
                return Verdict("partial", "state what the question asks", ("model",))
            status, missing, reasons = lacks[0]
            off_topic = bool(found.names_unknown) or found.coverage < self.abstain_coverage
            return Verdict("abstained" if off_topic else "partial", missing, (*reasons, "model"))
        if not lacks:
            return Verdict("answered")
        status, missing, reasons = lacks[0]
        return Verdict(status, missing, reasons)

    def lacking(self, question: Question, found: Signals) -> list[tuple[Status, str, tuple[str, ...]]]:
        """What the cited abstracts lack, most telling first: (the rules' status, verb phrase, rules that fired)."""
        out: list[tuple[Status, str, tuple[str, ...]]] = []
        unknown, missing = found.names_unknown, found.names_missing
        if unknown:
            out.append(("abstained", f"mention {_join(unknown)}", tuple(f"unknown-name:{n}" for n in unknown)))
        elif missing:
            out.append(("partial", f"mention {_join(missing)}", tuple(f"absent-name:{n}" for n in missing)))
        unstated = found.numbers_unstated
        if unstated:
            out.append(("partial", f"mention {_join(unstated)}", tuple(f"absent-number:{n}" for n in unstated)))
        if found.parts_missing:
            reasons = tuple(f"missing-part:{p}" for p in found.parts_missing)
            out.append(("partial", " or ".join(found.parts_missing), reasons))
        elif found.quantity_missing:
            out.append(("partial", _number_phrase(question), ("no-quantity",)))
        elif found.kind_unnamed:
            out.append(("partial", f"name the {found.kind_unnamed}", (f"no-name:{found.kind_unnamed}",)))
        coverage, absent = found.coverage, found.absent
        if coverage < self.abstain_coverage:
            out.append(("abstained", f"mention {_join(absent)}", (f"coverage:{coverage:.2f}",)))
        elif coverage < self.partial_coverage:
            out.append(("partial", f"mention {_join(absent)}", (f"coverage:{coverage:.2f}",)))
        return out

    def about(self, question: Question, paper: Paper) -> bool:
        """Whether one paper is about what `question` asks: its title and abstract hold the question's names and
        at least `partial_coverage` of its weighted words (what a one-paper answer needs not to be partial)."""
        acronyms = self.acronyms()
        text = acronyms.expand(f"{paper.title}. {paper.abstract}")
        if not all(named_in(n, text) for n in self._names(question, acronyms)):
            return False
        return self.coverage(question, text)[0] >= self.partial_coverage

    def sole_namer(self, question: Question, papers: Sequence[Paper]) -> int | None:
        """The position of the one paper of several whose title and abstract hold more of the question's names
        (under any of their names) than any other, each name weighted by its rarity in the index (IDF: HaloNet counts
        for more than ImageNet); None when no paper holds one or two hold as much. A sentence from a paper that does
        not name what the question names is about something else, and the name checks hold it back."""
        acronyms = self.acronyms()
        names = self._names(question, acronyms)
        if not names or len(papers) < 2:
            return None
        total = self._chunks()
        weight = {n: self._idf(n, total) for n in names}
        texts = [acronyms.expand(f"{p.title}. {p.abstract}") for p in papers]
        held = [sum(w for n, w in weight.items() if named_in(n, text)) for text in texts]
        best = max(range(len(papers)), key=lambda i: held[i])
        return best if held[best] > 0 and held.count(held[best]) == 1 else None

    def topic(self, question: Question) -> str:
        """The question's subject in its own words, for an abstention ("speech synthesis with transformers")."""
        return " ".join(question_words(question.core).values())

    def unknown_names(self, question: Question) -> list[str]:
        """The question's names that no indexed abstract mentions under any of their names (none without term
        statistics)."""
        acronyms = self.acronyms()
        return [n for n in self._names(question, acronyms) if self._unknown(n, acronyms)]

    def acronyms(self) -> AcronymMap:
        """The corpus's acronym map (an empty one for a term index without one)."""
        return getattr(self.corpus, "acronyms", None) or _NO_ACRONYMS

    def _unknown(self, name: str, acronyms: AcronymMap) -> bool:
        """Whether no indexed abstract mentions a name, nor its acronym or long form, nor its written-apart or
        joined-up variant (document frequency 0 for every one)."""
        if self._corpus_count(name) != 0:
            return False
        key = normalize(name)
        others = acronyms.aliases(name) | {key.replace(" ", "")} - {key}
        return all(self._corpus_count(other) == 0 for other in others)

    @staticmethod
    def _names(question: Question, acronyms: AcronymMap) -> list[str]:
        """The question's names, a long form the corpus defines counting as one name ("Long Short-Term Memory",
        not "Long", "Short-Term" and "Memory")."""
        words = re.findall(r"[A-Za-z0-9]+", question.asked)  # the normalised question, word for word
        key_words = [normalize(w) for w in words]
        spans = acronyms.spans(" ".join(key_words))
        if not spans:
            return list(question.names)
        inside = {normalize(w) for a, b, _ in spans for w in words[a:b]}
        out = [n for n in question.names if not set(normalize(n).split()) <= inside]
        return out + [" ".join(words[a:b]) for a, b, _ in spans if any(w[:1].isupper() for w in words[a:b])]

    def _part_lacks(
        self, part: Question, sentences: Sequence[str], stated: set[str], source_text: str, acronyms: AcronymMap
    ) -> str:
        """What the answer lacks for one part of a multi-part question, as a verb phrase ("" when nothing): its
        names in the cited abstracts, and for a number part a sentence stating a quantity of what it measures,
        that sentence naming the part's target ("on CIFAR-100") when it has one."""
        absent = [n for n in self._names(part, acronyms) if not named_in(n, source_text)]
        if absent:
            return f"mention {_join(absent)}"
        targeted = [s for s in sentences if target_in(part.target, s)] if part.target else list(sentences)
        if part.wants_number:
            if self._states_quantity(part, targeted, stated):
                return ""
            return f"{_number_phrase(part)} {part.target}".strip()
        if part.target and not targeted:
            return "mention " + re.sub(r"^(?:on|for|in|at|across|under|with)\s+", "", part.target)
        if unnamed := unnamed_thing(part, targeted, acronyms):
            return f"name the {unnamed}"
        return ""

    def _states_quantity(self, question: Question, sentences: Sequence[str], source_numbers: set[str]) -> bool:
        """Some answer sentence gives a number (not one the question already holds) about what is measured, within
        `measure_window` words of the word naming it, and that number is among the cited abstracts' `source_numbers`."""
        asked = {normalize(n) for n in question.numbers}

        def stated(found: list[str]) -> list[str]:
            found = [q for q in found if normalize(q) not in asked]
            return [q for q in found if not q[0].isdigit() or _number_forms(q) & source_numbers]

        measure = self._spelled_measure(question.measure, sentences)
        phrase = question.measure_phrase.split()
        modifier = phrase[0] if len(phrase) > 1 else ""  # "character" error rate: not the "word" error rate
        rivals = self.acronyms().rivals(question.measure_phrase) if modifier else set()
        counting = asks_count(question.text, question.measure_phrase)  # once: the sentences only change what counts
        units = units_of(question.measure_phrase, question.asked)  # a T1: not "10%", not "two modules"
        values = not asks_change(question.measure_phrase, question.asked)  # a value: not "reduced by 18%"
        for sentence in sentences:
            if question.duration:
                found = [q for q in quantities(sentence) if normalize(q) not in asked]
                if states_how_long(question.asked, sentence) and (stated(found) or not found):
                    return True
                continue
            found = measured_quantities(measure, sentence, self.measure_window, modifier, rivals, units, values)
            if stated(counts_in(found, sentence, measure) if counting else found):
                return True
        return False

    def _spelled_measure(self, measure: tuple[str, ...], sentences: Sequence[str]) -> tuple[str, ...]:
        """The measure's stems, a typo no indexed abstract holds read as the sentences' word one edit away ("how
        many pasages" measures passages)."""
        vocabulary: set[str] | None = None
        out = []
        for stem in measure:
            if len(stem) >= 4 and stem.isalpha() and self._corpus_count(stem) == 0:
                vocabulary = terms(" ".join(sentences)) if vocabulary is None else vocabulary
                stem = stem if stem in vocabulary else nearest(stem, vocabulary, 1) or stem
            out.append(stem)
        return tuple(out)


def _naming(
    names: Sequence[str], sentences: Sequence[str], by_claim: Sequence[Sequence[Paper]] | None, acronyms: AcronymMap
) -> list[str]:
    """The claims whose cited papers name every one of `names` (all claims when it is not known what each cites)."""
    if not names or by_claim is None:
        return list(sentences)
    out = []
    for sentence, papers in zip(sentences, by_claim, strict=True):
        text = acronyms.expand(" ".join(f"{p.title}. {p.abstract}" for p in papers))
        if all(named_in(n, text) for n in names):
            out.append(sentence)
    return out


_NO_ACRONYMS = AcronymMap()


def _number_forms(quantity: str) -> set[str]:
    """Every value a quantity may stand for ('1.2k' -> 1.2 and 1200), its digits when it has no other."""
    return number_forms(quantity) or {_number_of(quantity)}


def _stated_numbers(text: str) -> set[str]:
    """The values of the numbers a text states, however written ("three", "1.2k", "1,200", "1.2 million")."""
    found = quantities(text) + quantities(numerals(text))
    return {form for q in found for form in _number_forms(q)}


def _number_of(quantity: str) -> str:
    """The digits of a quantity without its unit and thousands separators: '1.2M' -> '1.2', '14,000' -> '14000'."""
    m = re.match(r"\d+(?:[.,]\d+)*", quantity)
    return m.group(0).replace(",", "") if m else quantity


def _join(words: Sequence[str]) -> str:
    words = list(dict.fromkeys(words))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _number_phrase(question: Question) -> str:
    """'give the number of GPUs', 'say how long it took', 'report the BLEU score'."""
    if question.duration:
        return how_long_missing(question.asked)
    phrase = question.measure_phrase
    comparative = re.search(r"\bhow (?:much|many times) (\w+er)\b", question.asked, re.I)
    if comparative:
        return f"say how much {comparative.group(1).lower()}"
    counted = phrase and re.search(rf"\bnumber of {re.escape(phrase)}\b", question.asked, re.I)
    if phrase and (counted or re.search(r"\bhow many\b", question.asked, re.I)):
        return f"give the number of {phrase}"
    words = phrase.split()
    if words and all(unit_word(w) for w in words):  # "exosome size range nm": the unit alone
        return f"give the figure in {phrase}"
    if len(words) > 1 and unit_word(words[-1]) and words[-2].lower() != "per":  # "rapamycin dose nM"
        return f"report the {' '.join(words[:-1])} in {words[-1]}"
    if phrase:
        return f"report the {phrase}"
    return "give the figure asked for"
