"""Questions that name nothing to look for: words that only ask, name the parts any paper has, emphasise or greet
("What's the main contribution?", "Any limitations?", "thanks!"), and the words that ask to sum a paper up, which
its abstract need not write ("the upshot of X"). Read by the answerer (no paper is chosen for such a question), the
follow-up reader (in a chat it refers to what was discussed) and the coverage check."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.normalise import nearest
from rag.question import Question
from rag.support import STOPWORDS
from rag.words import is_common, plain_text, spelled_out, terms, without_opener

_HOW_SOMETHING = re.compile(r"\bhow\s+[a-z]+", re.IGNORECASE)
_TOKEN = re.compile(r"[^\s?!.,;:\"'()]+")
_VERB_FORM_WORDS = "proposes proposing presented presenting showed showing"
VERB_FORMS = frozenset(terms(_VERB_FORM_WORDS))
"""Stems of the forms of reporting verbs whose other forms are STOPWORDS ("we propose" is no term)."""
_GREETINGS = frozenset(
    "hello hi hey hiya thanks thank thx ty tysm cheers bye goodbye morning evening afternoon ok okay k kk great nice "
    "cool awesome perfect got".split()
)
_GREETING_FILLER = frozenset(  # "thanks a lot", "thank u", "nice one", "thanks, that's helpful"
    "there you u very much so a lot all again it is good man one that thats helpful answer really".split()
)
_SMALL_TALK = ("how is it going", "how are you", "how are you doing", "how is everything")
_SUMMING_NOUNS = frozenset(
    "contribution contributions idea ideas insight insights takeaway takeaways gist upshot nutshell tldr".split()
)
_SUMMING_ADJECTIVES = frozenset("main chief principal key core central big basic overall primary major".split())
_ASKING_A = frozenset("in me us give write provide make need want get with as".split())
"""Words after which "a" asks how to answer ("in a nutshell", "give me a summary"), not what about."""
_ASKING = (  # and how to say it: "in one line", "tl;dr"
    "introduce introduces introduced describe describes described studies studied find finds found demonstrate "
    "demonstrates demonstrated report reports reported explain explains explained summarize summarise summarized "
    "summarised summary whats tell please pls plz approach approaches works best anything else help ask question "
    f"questions briefly brief short sentence line tl dr write give provide {_VERB_FORM_WORDS}"
)
_PAPER_PARTS = (  # not words a field uses for a thing: "prior", "advantage" (RL), "messages", "abstraction"
    "result results finding findings conclusion conclusions conclude concluded limitation limitations novelty goal "
    "goals aim aims point points drawback drawbacks implication implications outcome outcomes purpose highlights "
    "significance impact pros cons problem problems solve solves solving tackle tackles perform performs performance "
    "compare compared comparison baseline baselines previous existing new future address addresses message "
    "advantages strengths weaknesses caveat caveats assumption assumptions application applications methodology "
    "evaluation experiments"
)
_EMPHASIS = "biggest important significant notable novel good"  # and _SUMMING_ADJECTIVES
TOPICLESS = (
    frozenset(f"{_ASKING} {_PAPER_PARTS} {_EMPHASIS}".split())
    | _SUMMING_NOUNS
    | _SUMMING_ADJECTIVES
    | _GREETINGS
    | _GREETING_FILLER
)
"""Words, as written in lower case, that name nothing to look for: words that ask, the parts any paper has,
emphasis, greetings ("Which paper introduces?", "What are the main results?", "Summarize the key findings.", "hi
there"). Whole words, not stems: "generalization", "explainability" and "abstractive" name topics."""
_TOPIC_STOPWORDS = frozenset({"model", "models"})
"""Stop words for matching that are a topic when asked alone: "How big should models be?"."""
_LONG_TOPICLESS = tuple(sorted(w for w in TOPICLESS if len(w) >= 6))
_WORD = re.compile(r"[a-z][a-z\-']*|[^\sa-z]")


def _words(text: str) -> list[str]:
    """The lower-case words and marks of `text`, contractions and chat shorthand spelled out ("what's", "whats":
    "what is"; `rag.words.spelled_out`)."""
    return _WORD.findall(spelled_out(plain_text(text)).lower())  # a history's turn comes as typed


def topicless(text: str) -> bool:
    """Whether every content word of `text` is one of `TOPICLESS` or a one-edit typo of a long one ("contributon"),
    after its opener ("Tell me", "Please") and how it asks ("how many", "how fast") are taken out: "What's the main
    contribution?" says what to say of a paper, not which. A greeting is; a word after "a" is a thing of that name
    ("What is a primary key?"), unless the "a" asks how to answer ("in a nutshell")."""
    return _topicless(text, _words(text))


def _topicless(text: str, every: list[str]) -> bool:
    """`topicless`, with the words of `text` read once (`_words`)."""
    if _greets(every):
        return True
    if any(w in ("a", "an") and (i == 0 or every[i - 1] not in _ASKING_A) for i, w in enumerate(every)):
        return False  # "What is a primary key?", "What is a good point?": a thing of that name
    words = _words(_HOW_SOMETHING.sub(" ", without_opener(text)))
    asked = [w for w in words if w[0].isalpha() and (w not in STOPWORDS or w in _TOPIC_STOPWORDS)]
    return all(w in TOPICLESS or _topicless_typo(w) for w in asked)


def _topicless_typo(word: str) -> bool:
    return len(word) >= 6 and not is_common(word) and nearest(word, _LONG_TOPICLESS, 1) is not None


def greeting(text: str) -> bool:
    """Whether `text` only greets or thanks ("hi there", "Thanks a lot!", "ok", "how's it going"): nothing asked,
    of any earlier turn ("ok, why?", "Is it OK?" and "Thanks! How does it work?" ask)."""
    return _greets(_words(text))


def _greets(every: list[str]) -> bool:
    """`greeting`, of the words of a text (`_words`)."""
    words = [w for w in every if w[0].isalpha()]
    hailed = 0
    while hailed < len(words) and words[hailed] in ("hi", "hello", "hey"):
        hailed += 1
    if (hailed and hailed == len(words)) or " ".join(words[hailed:]) in _SMALL_TALK:
        return True  # "hello", "hi, how are you?"
    if "?" in every and every[0] not in ("hi", "hello", "hey"):
        return False  # "Is it OK?", "great?": asked of what was said
    return any(w in _GREETINGS for w in words) and all(w in _GREETINGS | _GREETING_FILLER for w in words)


def sums_up(words: Sequence[str], at: int) -> bool:
    """Whether the lower-case word at `at` asks to sum a paper up where it stands, which its abstract need not write:
    a noun ending its phrase ("the upshot of X", "X's main idea?", "the key insight behind X", "in a nutshell"), or
    an adjective before one ("main", "central"); not a noun it modifies ("gist tokens", "principal axes", "main
    memory")."""
    word = words[at]
    after = words[at + 1] if at + 1 < len(words) else ""
    if word in _SUMMING_ADJECTIVES:
        return after in _SUMMING_NOUNS and sums_up(words, at + 1)
    ends = not after or not after[0].isalpha() or after in STOPWORDS or after == "behind"
    return word in _SUMMING_NOUNS and ends


def names_nothing(question: Question) -> bool:
    """Whether a question names nothing to look for ("Which paper?", "What does it show?", "How many?", "What are
    the main results?"): no name, number, asked kind or measure, and `topicless`; so any retrieved paper would do as
    well as another. A word the lists do not read names something: a letter or symbol ("R", "C++", "k"), an acronym
    that is a stop word ("OR"), text in another script. Such a question reads as a follow-up (rag.followup), so a
    conversation rewrites it first."""
    every = _words(question.text)  # read once for the greeting and the word lists
    if _greets(every):
        return True  # "k", "thank u"
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
        if token.isupper() and len(token) > 1 and not shouting:
            return False  # "OR", "IT"
    return _topicless(question.text, every)  # as asked: its opener makes "give me a summary" ask how to answer
