"""A `Question`: what a question asks for and what it names, as `rag.query.analyze` finds it (one analysis per
request, carried with it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rag.words import without_opener

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
