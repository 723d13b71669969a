"""Caps on the text a client sends (a question, a search query, a chat history) and the options it sets: checked
before any work is done, so an oversized input costs nothing; each refusal is one line naming the setting that sets
the cap."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

from rag.config import Settings
from rag.errors import ConfigError, InputError
from rag.types import QueryOptions

ROLES = ("user", "assistant")


def check_length(text: str, limit: int, what: str, setting: str) -> None:
    """Refuse `text` longer than `limit` characters (`what` names it in the message, `setting` names the cap)."""
    if len(text) > limit:
        raise InputError(f"{what} is {len(text):,} characters long; the limit is {limit:,} ({setting})")


def check_question(question: str, settings: Settings, k: object = None) -> None:
    """A question (every door's): at most `max_question_chars`; and the papers it may be answered from (`check_k`)."""
    check_length(question, settings.max_question_chars, "the question", "RAG_MAX_QUESTION_CHARS")
    check_k(k, "ask")


def check_query(query: str, settings: Settings, k: object = None) -> None:
    """A search query (and the standalone question a follow-up is condensed into): at most `max_question_chars`;
    and the papers asked for (`check_k`)."""
    check_length(query, settings.max_question_chars, "the search query", "RAG_MAX_QUESTION_CHARS")
    check_k(k, "search")


def check_history(history: Sequence[Any] | None, settings: Settings) -> None:
    """A chat history: at most `max_history_turns` turns, each {"role": "user"|"assistant", "content": str}; a user
    turn is a question (`max_question_chars`), an assistant turn at most `max_turn_chars`."""
    if not history:
        return
    if len(history) > settings.max_history_turns:
        raise InputError(
            f"the history has {len(history):,} turns; the limit is {settings.max_history_turns:,} "
            "(RAG_MAX_HISTORY_TURNS): send only the latest turns"
        )
    for i, turn in enumerate(history, 1):
        role = turn.get("role") if isinstance(turn, Mapping) else None
        content = turn.get("content") if isinstance(turn, Mapping) else None
        if role not in ROLES or not isinstance(content, str):
            raise InputError(f'history turn {i} must be {{"role": "user" or "assistant", "content": "<text>"}}')
        if role == "user":
            check_length(content, settings.max_question_chars, f"history turn {i} (user)", "RAG_MAX_QUESTION_CHARS")
        else:
            check_length(content, settings.max_turn_chars, f"history turn {i} (assistant)", "RAG_MAX_TURN_CHARS")


def check_k(k: object, door: str) -> None:
    """A requested number of papers (`door`: "search" or "ask", for the message): None (the setting's default) or a
    whole number of 1 or more; 0, negative and fractional counts are refused, not read as the default or as "all".
    No upper cap here: REST caps its own (100 and 50), local callers may ask for more."""
    if k is None:
        return
    try:
        whole = operator.index(k)  # type: ignore[arg-type]  # an int or numpy integer, no float
    except TypeError:
        whole = 0
    if isinstance(k, bool) or whole < 1:
        raise InputError(f"k (papers to {door}) must be a whole number of 1 or more, not {k!r}")


def query_options(options: QueryOptions | None = None, **keywords: Any) -> QueryOptions:
    """One `QueryOptions` from either an object or keywords (None keywords are unset); both at once is refused."""
    if options is not None and not isinstance(options, QueryOptions):  # e.g. a history passed positionally
        raise ConfigError(f"options must be a QueryOptions, not {type(options).__name__}: pass the others by keyword")
    given = {name: value for name, value in keywords.items() if value is not None}
    if options is not None and given:
        raise ConfigError(f"pass the options either as QueryOptions or as keywords, not both ({', '.join(given)})")
    if options is not None:
        return options
    return QueryOptions(**given)
