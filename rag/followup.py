"""Follow-up questions in a conversation, decided rather than guessed.

A question is rewritten only when it depends on the conversation: a pronoun or a bare reference ("it", "they",
"the authors", "the second one") with nothing in the question it could refer to, or an elliptical question ("what
about X?", "and compared to Y?", "On which datasets?"). The rewrite puts what the reference points to (the name or
title the previous answer gave, else the previous question's topic) in place of the reference; a self-contained
question is returned unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.acronyms import harvest
from rag.support import content_words
from rag.topicless import greeting, topicless
from rag.types import Answer
from rag.words import spelled_out

_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
_WH = {"what", "which", "who", "whom", "whose", "how", "why", "when", "where"}
_AUX = {
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should", "has", "have", "had",
    "may", "might", "must", "shall",
}  # fmt: skip
_SUBJECT = {"it", "they", "this", "that", "these", "those", "he", "she"}
_PRONOUN = {"it", "its", "they", "them", "their", "theirs", "itself", "themselves"}
_DEMONSTRATIVE = {"this", "that", "these", "those"}
_GENERIC = {
    "paper", "papers", "method", "methods", "model", "models", "approach", "approaches", "work", "works", "study",
    "studies", "technique", "architecture", "network", "system", "algorithm", "framework", "one", "ones", "result",
    "results", "authors", "author", "idea", "trick", "scheme", "benchmark", "dataset",
}  # fmt: skip
_WHOLE_INDEX = {"corpus", "collection", "index", "library", "database", "archive"}
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1, "former": 1, "latter": -1}
# "it" that refers to nothing: "is it possible to ...", "is it true that ..."
_EXPLETIVE = re.compile(r"\bit\s+(?:is\s+|was\s+)?(?:\w+\s+)?(?:to|that)\b", re.I)
_ELLIPSIS = re.compile(
    r"^\s*(?:and|but|so|then|also|ok(?:ay)?|hmm+)?[\s,]*"
    r"(?:(?:what|how)\s+about|what\s+else|and\s+(?:for|on|in|with|without|versus|vs\.?|compared)|"
    r"(?:compared|relative)\s+(?:to|with)|versus|vs\.?|any\s+(?:other|more)|same\s+(?:for|with|on))\b",
    re.I,
)
_PREPOSITION_OPENER = re.compile(
    r"^\s*(?:and\s+)?(?:on|in|for|with|at|by|from|over|against|under)\s+(?:which|what)\b", re.I
)
_CONTINUATION = re.compile(r"^\s*(?:and|but|so|then|also)\b", re.I)
_CITED = re.compile(r"\[(\d+)\]")
_REFERENCE_LINE = re.compile(r"^\s*\[?(\d+)[\].]\s+(.+?)\s*$")
_QUOTED = re.compile(r"(?:^|[\s(])['‘\"“]([A-Z][^'’\"”]{12,200})['’\"”]")
_TOKEN = re.compile(r"\b[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]\b")


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def needs_context(question: str) -> bool:
    """Whether `question` can only be understood from the conversation before it."""
    question = spelled_out(question)  # "wat about u-net?" is "what about u-net?"
    if greeting(question):
        return False  # "thanks!", "ok": nothing asked, so nothing to resolve
    if _ELLIPSIS.search(question) or (topicless(question) and not _names_in(question)):
        return True  # "what about X?"; "What's the main contribution?", "Any limitations?": of what was discussed
    asked = len(content_words(question) - content_words("many much"))  # "how many" frames a question
    if _PREPOSITION_OPENER.search(question) and asked <= 3:
        return True  # "On which datasets?", not "With what confidence do networks label fooling images ...?"
    if (asked <= 1 or (asked <= 3 and _CONTINUATION.match(question))) and not _names_in(question):
        return True  # "Why?", "How many bits?", "And the accuracy?"; not "What is SoundStream?"
    words = _words(question)
    for i, word in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word in _DEMONSTRATIVE:
            if nxt in _WHOLE_INDEX:
                continue  # "this corpus", "these abstracts' collection": the index itself
            if nxt in _GENERIC or nxt == "" or nxt in _AUX or i == 0 or words[i - 1] in _AUX:
                return True  # "this method", "how much faster is that?", "does that hold ...?"
            continue
        if word == "the" and nxt in _ORDINAL:
            return True  # "the second one", "the latter"
        if word == "the" and nxt in _GENERIC:
            after = words[i + 2] if i + 2 < len(words) else ""
            if after not in {
                "that",
                "which",
                "who",
                "where",
                "whose",
                "from",
                "of",
                "on",
                "in",
                "for",
                "with",
                "by",
                "called",
                "named",
                "introduced",
                "proposed",
                "behind",
            } and not _names_in(question):
                return True  # "what do the authors propose?" but not "the model that learns ..."
            continue
        if word not in _PRONOUN or (word == "it" and _EXPLETIVE.search(" ".join(words[i:]))):
            continue
        if not _antecedent(words, i):
            return True
    return False


def _antecedent(words: list[str], at: int) -> bool:
    """Whether a content word before the pronoun at `at` could be what it refers to: outside the pronoun's own
    question clause when it is that clause's subject ("what dataset did they use?"), and not the verb that
    governs it ("what keeps it from collapsing?")."""
    before = words[:at]
    if before and before[-1] in _AUX and words[at] in _SUBJECT | {"its", "their"}:
        wh = max((j for j, w in enumerate(before) if w in _WH), default=None)
        before = before[:wh] if wh is not None else before[:-1]
    else:
        before = before[:-1]
    return bool(content_words(" ".join(w for w in before if w not in _WH and w not in _AUX)))


def _is_name(token: str) -> bool:
    """Written as a name: two capitals (VMFormer, BM25, SN-Net), a letter beside a digit (Vid2speech), or a
    capital after a lower-case letter (espaloma-0.3 aside, GeoCalib)."""
    upper = sum(c.isupper() for c in token)
    return (
        upper >= 2
        or (any(c.isdigit() for c in token) and any(c.isalpha() for c in token))
        or bool(re.search(r"[a-z][A-Z]", token))
    )


def _names_in(text: str) -> list[str]:
    return [m.group(0) for m in _TOKEN.finditer(text) if _is_name(m.group(0))]


def referent(history: Sequence[dict[str, str]], question: str = "") -> str:
    """What a follow-up refers to. With "the second one": the name beside the answer's second citation. Else, most
    specific first: a reference-list or quoted title in the answers since the conversation's last self-contained
    question, the name the last answer leads with, that question's topic."""
    head, topic = _resolved(history, question)
    return head or topic


def own_question(question: str) -> str:
    """A follow-up as asked when its words ask something ("what keeps it from collapsing?"), "" when they only point
    back ("And the second one?", "What about it?"): then its rewrite alone says what is asked."""
    return question if content_words(question) - _POINTING else ""


_POINTING = content_words(" ".join([*_ORDINAL, *_GENERIC]))


def _resolved(history: Sequence[dict[str, str]], question: str) -> tuple[str, str]:
    """`_referent`, with an acronym the conversation spells out put with its long form ("NAT" -> "Noise As Targets
    (NAT)"): the rewrite then finds an abstract that uses either. The latest turn that spells it out says what it
    means now (an acronym may stand for another thing earlier in the conversation)."""
    head, topic = _referent(history, question)
    for turn in reversed(history) if head else ():
        long_forms = sorted(long for short, long in harvest(turn.get("content", "")) if short == head)
        if long_forms:
            return f"{long_forms[0]} ({head})", topic
    return head, topic


def _referent(history: Sequence[dict[str, str]], question: str) -> tuple[str, str]:
    """(the name or title referred to, or ""; the topic of the conversation's last self-contained question)."""
    turns = list(history)
    asked = [i for i, t in enumerate(turns) if t.get("role") == "user"]
    named = [i for i in asked if not topicless(turns[i].get("content", ""))]  # not "hi", "thanks"
    anchor = next((i for i in reversed(named) if not needs_context(turns[i].get("content", ""))), None)
    if anchor is None:  # no self-contained question: the first that names something ("what about X?")
        anchor = named[0] if named else None
    answers = [t.get("content", "") for t in turns[anchor or 0 :] if t.get("role") == "assistant"][::-1]
    topic = _topic(turns[anchor].get("content", "")) if anchor is not None else ""
    last = answers[0] if answers else ""
    titles = {int(m.group(1)): m.group(2) for line in last.splitlines() if (m := _REFERENCE_LINE.match(line))}
    body = "\n".join(line for line in last.splitlines() if not _REFERENCE_LINE.match(line))
    ordinal = next((_ORDINAL[w] for w in _words(question) if w in _ORDINAL), None)
    if ordinal is not None and (cited := list(dict.fromkeys(int(n) for n in _CITED.findall(body)))):
        number = cited[ordinal - 1] if 0 < ordinal <= len(cited) else cited[-1]
        if number in titles:
            return titles[number], ""
        segment = re.split(r"\[\d+\]", body)[cited.index(number)]  # the words before that citation
        if names := _names_in(segment) or _title_case_run(segment):
            return names[0], ""
    if titles:
        return titles[min(titles)], ""
    for answer in answers:
        if quoted := _QUOTED.findall(answer):
            return quoted[0], ""
    opening = " ".join(body.split()[:8])
    lead = _names_in(opening) or _title_case_run(opening)
    if lead:
        return lead[0], topic if topic and lead[0].lower() not in topic.lower() else ""
    return "", topic


_TITLE_WORD = re.compile(r"[A-Z][\w'’-]*")
_OPENERS = {"yes", "no", "the", "a", "an", "it", "they", "this", "that", "these", "according", "in", "on", "both"}


MAX_REFERENT_CHARS = 200
"""Longest name, title or topic put into a rewritten follow-up (a history is the client's: it may hold anything)."""


def _shortened(text: str) -> str:
    """`text` cut at a word to at most MAX_REFERENT_CHARS."""
    if len(text) <= MAX_REFERENT_CHARS:
        return text
    head = text[:MAX_REFERENT_CHARS]
    return head.rsplit(" ", 1)[0] if " " in head else head


def _title_case_run(text: str) -> list[str]:
    """Runs of two or more capitalised words ("Padé Activation Units", "Conditional Automated Channel Pruning")."""
    runs: list[str] = []
    run: list[str] = []
    for word in re.findall(r"[\w'’-]+|[^\w\s]", text):
        if _TITLE_WORD.fullmatch(word) and (run or word.lower() not in _OPENERS):
            run.append(word)
            continue
        if len(run) >= 2:
            runs.append(" ".join(run))
        run = []
    if len(run) >= 2:
        runs.append(" ".join(run))
    return runs


def _topic(question: str) -> str:
    """A question stripped to its subject matter: "Which work tags music from raw waveforms?" -> "work tags
    music from raw waveforms"."""
    words = question.strip().rstrip("?.! ").split()
    skip = _WH | _AUX | {"and", "so", "then", "there", "a", "an", "any", "i", "we", "you", "one"}
    while words and words[0].lower().strip(",") in skip:
        words = words[1:]
    return " ".join(words)


def standalone(question: str, history: Sequence[dict[str, str]]) -> str:
    """`question` made self-contained: unchanged when it does not depend on `history`, else with its reference
    resolved to what it refers to."""
    if not history or not needs_context(question):
        return question
    head, topic = (_shortened(part) for part in _resolved(history, question))
    if not head and not topic:
        return question
    text = question.strip()
    replaced = _replace_reference(text, head) if head else text
    gloss = [topic] if topic else []
    if replaced == text and head:
        gloss.insert(0, head)  # nothing to replace ("what about uncertainty?"): said beside the question
    note = f" ({'; '.join(gloss)})" if gloss else ""
    body = replaced.rstrip("?.! ")
    return f"{body}{note}?" if replaced.endswith("?") else f"{body}{note}"


_REFERENCE = re.compile(
    r"\b(?:(?:this|that|these|those)\s+(?:" + "|".join(sorted(_GENERIC)) + r")|the\s+(?:first|second|third|fourth|"
    r"fifth|last|former|latter)(?:\s+(?:one|ones|paper|method|model))?)\b",
    re.I,
)
_POSSESSIVE = re.compile(r"\b(?:its|their)\b", re.I)
_SUBJECT_PRONOUN = re.compile(r"\b(?:it|they|them)\b", re.I)


def _replace_reference(text: str, target: str) -> str:
    """Put `target` in place of the first reference in `text` ("its code" -> "VMFormer's code")."""
    for pattern, repl in (
        (_REFERENCE, target),
        (_POSSESSIVE, f"{target}'s"),
        (_SUBJECT_PRONOUN, target),
    ):
        match = pattern.search(text)
        if match and not (pattern is _SUBJECT_PRONOUN and _EXPLETIVE.match(text[match.start() :])):
            return text[: match.start()] + repl + text[match.end() :]
    return text


def history_turn(answer: Answer, limit: int) -> str:
    """An answer as the assistant turn of a chat history, at most `limit` characters: its text, then its numbered
    references ("[1] Title", kept whole when the text is cut), so that a follow-up's "it" or "the second one"
    resolves to the paper it means."""
    refs = "\n".join(f"[{c.number}] {c.paper.title}" for c in answer.citations)
    block = f"\n\nReferences:\n{refs}" if refs else ""
    if len(block) > limit // 2:
        block = ""
    return answer.text[: limit - len(block)] + block
