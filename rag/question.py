"""A `Question`: what a question asks for and what it names, as `rag.query.analyze` finds it (one analysis per
request, carried with it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from rag.support import STOPWORDS
from rag.words import plain_text, terms, without_opener

Asks = Literal["number", "name", "list", "yesno", "description"]


@dataclass(frozen=True)
class Question:
    """What a question asks for and what it names."""

    text: str
    asks: Asks
    names: tuple[str, ...] = ()
    """Specific names the answer must be about (models, data sets, acronyms), as written."""
    numbers: tuple[str, ...] = ()
    """Numbers the question itself mentions (these are not answers)."""
    measure: tuple[str, ...] = ()
    """For number questions: stemmed words of what is measured ("gpu", "bleu", "top-1")."""
    measure_phrase: str = ""
    """The measured thing as the question words it ("GPUs", "BLEU score")."""
    duration: bool = False
    """Whether the number asked for is a time."""
    focus: frozenset[str] = field(default_factory=frozenset)
    """The question's stemmed content words (the chat politeness stripped)."""
    asked: str = ""
    """The clause that asks, as written: the question without a preamble ("I'm reading about ...; what ...?")."""

    def __post_init__(self) -> None:
        if not self.asked:
            object.__setattr__(self, "asked", self.text)

    @property
    def core(self) -> str:
        """The asking clause without its politeness ("Could you tell me ...", "please list ..."): the words an
        answer must cover."""
        return without_opener(self.asked)

    parts: tuple[Question, ...] = ()
    """A multi-part question's parts, each analysed as a question of its own (rag.parts); () for one question."""
    target: str = ""
    """For a part split off coordinated targets ("on A and on B"): its target as the question words it ("on B")."""
    kind: str = ""
    """For a which-question asking for things that have names ("Which datasets ...", "What solver ..."): that kind
    of thing as the question words it ("datasets"); an answer must name one. "" otherwise."""
    keyword: bool = False
    """Whether the asking clause is a bare keyword query ("eye tracker model used in reading study"): no question
    word, auxiliary or imperative opens it."""
    own_words: str = ""
    """For a follow-up rewritten into `text` (the paper or topic it refers to put in): the follow-up as asked
    ("what about uncertainty?"). "" for a question asked as is, or a follow-up that only points back ("And the
    second one?")."""

    @property
    def wants_number(self) -> bool:
        """Whether the answer is a quantity."""
        return self.asks == "number"


_HOW_SOMETHING = re.compile(r"\bhow\s+[a-z]+", re.IGNORECASE)
_TOKEN = re.compile(r"[^\s?!.,;:\"'()]+")
VERB_FORMS = frozenset(terms("proposes proposing presented presenting showed showing"))
"""Stems of the forms of reporting verbs whose other forms are STOPWORDS ("we propose" is no term)."""
_GREETING = frozenset(
    terms("hello hi hey thanks ok okay cheers bye goodbye good morning evening afternoon going doing fine great nice")
)
SUMMING_UP = frozenset(
    terms("main chief principal contribution idea insight takeaway gist upshot novelty briefly nutshell")
)
"""Stems asking how to sum a paper up, which its abstract need not write ("What's the upshot of X?", "X's main
idea in a nutshell?"); none has another sense in a field ("key", "point", "primary" and "overall" do)."""
_ASKING_WORDS = (  # and how to say it: "in one line", "in simple terms"
    "introduces describes studies finds demonstrates reports explains summarize summary tell please approaches works "
    "best anything else help ask question brief short simple terms sentence line"
)
_PAPER_PARTS = (
    "results findings conclusion concluded limitation motivation goal aim point message strength weakness "
    "advantage drawback implication outcome purpose abstract article highlight significance impact problem solve "
    "solving address tackle perform performance compare comparison baseline prior previous"
)
_EMPHASIS = "key core central primary major overall basic big biggest important significant notable novel general"
TOPICLESS = _GREETING | SUMMING_UP | VERB_FORMS | terms(f"{_ASKING_WORDS} {_PAPER_PARTS} {_EMPHASIS}")
"""Stems of words that name nothing to look for: words that ask, the parts any paper has, emphasis, greetings
("Which paper introduces?", "What are the main results?", "Summarize the key findings.", "hi there")."""


def topicless(text: str) -> bool:
    """Whether every content word of `text` is one of `TOPICLESS`, after its opener ("Tell me", "Please") and how it
    asks ("how many", "how fast") are taken out: "What's the main contribution?" says what to say of a paper, not
    which."""
    return not (terms(_HOW_SOMETHING.sub(" ", without_opener(text))) - TOPICLESS)


def greeting(text: str) -> bool:
    """Whether `text` only greets or thanks ("hi there", "Thanks!", "ok"): nothing asked, of any earlier turn."""
    words = terms(text)
    return bool(words) and words <= _GREETING


def names_nothing(question: Question) -> bool:
    """Whether a question names nothing to look for ("Which paper?", "What does it show?", "How many?", "What are
    the main results?"): no name, number, asked kind or measure, and `topicless`; so any retrieved paper would do as
    well as another. A word the lists do not read names something: a letter or symbol ("R", "C++", "k"), an acronym
    that is a stop word ("OR"), text in another script. Such a question reads as a follow-up (rag.followup), so a
    conversation rewrites it first."""
    text = without_opener(plain_text(question.text))  # contractions spelled out: "What's" is "What is"
    if question.names or question.numbers or question.kind or question.measure:
        return False
    bare = _HOW_SOMETHING.sub(" ", text)  # "how many", "how fast": how it asks, not what about
    shouting = text.isupper()
    for token in _TOKEN.findall(bare):
        if any(ch.isdigit() or not ch.isascii() for ch in token):
            return False  # a year, a version, a symbol ("∇"), another script
        if token.lower() not in STOPWORDS and not terms(token) and any(ch.isalpha() for ch in token):
            return False  # "R", "C++", "k"
        if token.lower() in ("model", "models"):
            return False  # a stop word for matching, a topic when asked alone: "How big should models be?"
        if token.isupper() and len(token) > 1 and not shouting:
            return False  # "OR", "IT"
    return topicless(text)
