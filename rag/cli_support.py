"""What every `rag` command shares: the terminal consoles, one-line errors instead of tracebacks, the year-range
option, and reading an answer stream (the draft shown as it is written, then the checked answer)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import wraps
from typing import Any

import typer
from rich.console import Console

from rag.errors import RagError
from rag.types import Answer

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def friendly(fn: Any) -> Any:
    """Turn expected failures into a one-line message and exit code 1, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        try:
            return fn(*args, **kwargs)
        except RagError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper


def parse_years(value: str | None) -> tuple[int, int] | None:
    """'2020-2023' or '2021' -> (from, to)."""
    if not value:
        return None
    parts = value.replace("..", "-").split("-")
    try:
        years = [int(p) for p in parts if p.strip()]
    except ValueError:
        raise typer.BadParameter("use YEAR or FROM-TO, e.g. 2020-2023") from None
    if not years or len(years) > 2:
        raise typer.BadParameter("use YEAR or FROM-TO, e.g. 2020-2023")
    return (years[0], years[-1])


def share(value: float, questions: int, kind: str) -> str:
    """A metric over `questions` questions of one kind, or n/a saying there were none in the sample."""
    return f"{value:.3f}" if questions else f"n/a (no {kind} question in the sample)"


def final_answer(stream: Iterator[str | Answer]) -> Answer:
    """The checked answer at the end of a stream (the draft deltas are dropped)."""
    answer = None
    for item in stream:
        if isinstance(item, Answer):
            answer = item
    assert answer is not None
    return answer


def show_draft(stream: Iterator[str | Answer]) -> Answer:
    """Stream the draft into the terminal as it is written, then clear it: the caller prints the checked text
    in its place, so the answer shows once."""
    from rich.live import Live
    from rich.text import Text

    answer, draft = None, ""
    with Live(Text(""), console=out, auto_refresh=False, transient=True) as live:
        for item in stream:
            if isinstance(item, Answer):
                answer = item
            else:
                draft += item
                live.update(Text(draft, style="dim"), refresh=True)
    assert answer is not None
    return answer
