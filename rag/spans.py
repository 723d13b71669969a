"""How long: whether a sentence states the span of time, or for a thing the length, that a "how long" question
asks ("How long did training take?", "How long is the fiber link?", "What was the duration of the follow-up?"), and
not a span of something else (a washout, a warm-up, a rate, an age)."""

from __future__ import annotations

import re

from rag.dimensions import in_units, units_of
from rag.names import singular as singular_of
from rag.quantities import has_time, placed_quantities
from rag.support import STOPWORDS
from rag.words import terms

# "how long is the fiber link?" may ask a length: a copula and a thing, not a span of time ("how long was the
# follow-up?", "how long did training take?")
_LONG_THING = re.compile(
    r"\bhow long (?:is|are|was|were)\s+(?:the|a|an|its|their|each|this|these|that|those|our)\s+"
    r"(?P<thing>(?:[\w\-']+\s+){0,3}?[\w\-']+)"
    r"(?=\s*(?:[?.!,;]|$)|\s+(?:between|of|in|on|at|from|to|that|which|used|for|with|connecting|linking)\b)",
    re.I,
)
_EVENTS = frozenset(  # what lasts rather than extends: "how long was the follow-up?" asks a span of time
    "follow-up followup treatment therapy period session stay course interval delay life lifetime exposure "
    "intervention phase study trial surgery procedure operation training run time wait visit program programme "
    "campaign mission experiment simulation pulse window duration retention regimen observation recording illness "
    "infection outage cycle epoch year day hour recovery blackout shutdown flight journey trip drive walk ride "
    "voyage season semester term war strike storm event episode deployment incubation".split()
)
_PARTICIPLES = frozenset(  # a passive's verb that does not end in "-ed": "how long were the seedlings grown?"
    "grown given kept worn held run done taken seen left spent fed shown made built known written driven put set "
    "sent hung spun flown begun brought bought caught taught sold told found ground bound wound fought sought "
    "frozen chosen stolen woken ridden hidden beaten bitten eaten fallen forgotten gotten sewn sown shaken".split()
)


def _asks_a_thing(asked: str) -> bool:
    """Whether "how long is/was the X" asks how long a thing is, not how long something lasted or was done: not a
    span ("the follow-up"), nor a passive ("the agent trained", "the mice fed the diet")."""
    for m in _LONG_THING.finditer(asked):
        words = m.group("thing").lower().split()
        passive = words[-1].endswith("ed") or words[-1] in _PARTICIPLES
        if not (set(words) & STOPWORDS or passive or {w.rstrip("s") for w in words} & _EVENTS):
            return True
    return False


def states_a_length(asked: str, sentence: str) -> bool:
    """Whether "how long is the <thing>?" (not a span of time) is answered by a length: "a 25 km fiber link",
    "two kilometres"."""
    if not _asks_a_thing(asked):
        return False
    return bool(in_units(placed_quantities(sentence), sentence, units_of("length")._replace(written=True)))


def how_long_missing(asked: str) -> str:
    """What an answer to a "how long" question lacks: a span of time, or a length ("how long is the cable?")."""
    return "say how long it is" if _asks_a_thing(asked) else "say how long it takes"


# a span of time written before the noun it measures: "a two-hour recovery period", "a 5-min warm-up", "a 2-week
# washout" (not "for 3 days using 8 GPUs", "10 ms per image", "24 months later")
_AGES = "day|week|month|year|yr"  # units of time, in the singular; a span's written before a noun ("a 5-day course")
_SPAN_UNITS = f"second|sec|minute|min|hour|hr|{_AGES}"
_TIME_OF = re.compile(
    r"\b(?:\d[\d.,]{0,20}|a|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|forty|fifty|sixty)"
    rf"(?:\s|-)(?:{_SPAN_UNITS}|h|ms|s)(?:\s|-)"
    r"((?:[a-z][a-z\-]+\s+){0,2}[a-z][a-z\-]+)",
    re.I,
)
_UNIT_OF_TIME = rf"(?:(?:{_SPAN_UNITS})s?|h|ms|s)\b"
# a unit of time that is no span: a rate's ("450 per hour", "every 6 hours", "42 frames per second", "3% per
# month"), an age ("aged 6 to 59 months", "three-month-old mice", "5 days post-fertilisation")
_AGE_UNIT = rf"(?:(?:{_AGES})s?)\b"
_NOT_A_SPAN = re.compile(
    rf"(?:\bper|/)\s*(?:[\d.,]{{1,20}}\s*)?{_UNIT_OF_TIME}"
    rf"|\bevery\s+(?:[\d.,]{{1,20}}\s*|other\s+)?{_UNIT_OF_TIME}"
    rf"|\baged?\s+(?:between\s+)?[\d.,]{{1,20}}(?:\s*(?:to|and|-|–)\s*[\d.,]{{1,20}})*\s*{_AGE_UNIT}"
    rf"|\b[\w.,]{{1,20}}[\s-]{_AGE_UNIT}(?:-old|\s+old|\s+of\s+age|\s+post[-\s]\w+)",
    re.I,
)
_AFTER = re.compile(
    rf"\b[\w.,]{{1,20}}[\s-]{_UNIT_OF_TIME}\s+(?:after|before|following|since|prior\s+to)\s+(?:the\s+)?(?P<thing>[\w\-]+)",
    re.I,
)
_INTERVAL = re.compile(r"\binterval|\bhow often\b|\bfrequen", re.I)  # "every 6 months" answers these
_PHRASE_BREAK = frozenset(
    "of in on at for with from to by and or but nor the a an that which who was were is are be been as after before "
    "during until than per each every into onto over under between while when where".split()
)
_SPANS = frozenset(  # nouns whose own duration a time before them may be: any "how long" question's
    "period time duration span course phase interval window run latency delay runtime lifetime life program "
    "programme regimen schedule study trial follow-up followup session campaign mission protocol treatment "
    "therapy intervention training process procedure cycle stay pilot observation workshop".split()
)


def states_a_time(asked: str, sentence: str) -> bool:
    """Whether a sentence states a span of time that a "how long" question may ask: not only spans of other things,
    written before a noun phrase the question does not name and whose head is no span of its own ("a five-minute
    warm-up" for how long each session was, "a two-week washout" for the treatment period; "a 52-week open-label
    study" may answer)."""
    asked_words = terms(asked)
    if not _INTERVAL.search(asked):
        sentence = _NOT_A_SPAN.sub(" ", sentence)
    # a span after the asked thing is no span of it: "discharged 3 days after surgery" for the surgery's duration
    sentence = _AFTER.sub(lambda m: " " if terms(m.group("thing")) & asked_words else m.group(0), sentence)
    if not has_time(sentence):
        return False
    for m in _TIME_OF.finditer(sentence):
        words = []  # the noun phrase after the span: "simulation training session", up to a small word
        for word in m.group(1).lower().split():
            if word in _PHRASE_BREAK:
                break
            words.append(word)
        if not words or words[0].endswith(("ing", "ed", "ly", "er")) or singular_of(words[-1]) in _SPANS:
            return True  # "for 3 days using 8 GPUs", "5 minutes faster", "a 52-week open-label study"
        if any(terms(w) & asked_words for w in words):
            return True  # "a two-hour simulation training session" for how long the training sessions were
    return has_time(_TIME_OF.sub(" ", sentence))  # another figure of time, not before a noun


def states_how_long(asked: str, sentence: str) -> bool:
    """Whether a sentence answers a "how long" question: a span of time (`states_a_time`) or, for a thing, a length
    (`states_a_length`)."""
    return states_a_time(asked, sentence) or states_a_length(asked, sentence)
