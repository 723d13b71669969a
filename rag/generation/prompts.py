"""Prompt files in `prompts/` with named placeholders, checked when loaded.

A prompt whose placeholders differ from the ones its caller fills fails loudly at load time,
not halfway through an answer.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from rag.errors import ConfigError
from rag.question import Question

NO_ANSWER = "The indexed abstracts don't answer this question."
"""The exact sentence for 'the sources don't answer': shared by the prompt, the checker and tests."""
NAMES_NOTHING = "Your question does not say what to look for: name a topic, method, data set or result."
"""The answer to a question that names nothing ("Which paper?"): any paper would do, so none is chosen."""
GREETED = "Ask about the indexed papers by naming a topic, method, data set or result."
"""The answer to a greeting or thanks alone ("hi", "thanks!"): nothing was asked, so nothing is searched."""

# each prompt file and the placeholders it must use, no more, no fewer
EXPECTED: dict[str, frozenset[str]] = {
    "system": frozenset({"no_answer"}),
    "answer": frozenset({"sources", "question"}),
    "condense": frozenset({"history", "question"}),
    "parts": frozenset({"count", "parts"}),
    "judge_faithfulness": frozenset({"claim", "sources"}),
    "judge_correctness": frozenset({"question", "answer", "reference"}),
}


def prompts_dir() -> Path:
    """Where the prompt files live: the top-level `prompts/` (`rag/prompts` links to it and wheels copy it)."""
    return Path(str(resources.files("rag") / "prompts"))


def placeholders(template: str) -> set[str]:
    """The named `{placeholders}` of a template (doubled braces are literal)."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            if not field.isidentifier():
                raise ConfigError(f"prompt placeholder {{{field}}} is not a plain name")
            names.add(field)
    return names


@dataclass(frozen=True)
class Prompt:
    """A loaded, checked prompt template."""

    name: str
    template: str

    def format(self, **values: str) -> str:
        """Fill every placeholder."""
        return self.template.format(**values)


@cache
def load_prompt(name: str, folder: Path | None = None) -> Prompt:
    """Load `prompts/<name>.md` and check its placeholders against what the code fills."""
    path = (folder or prompts_dir()) / f"{name}.md"
    try:
        template = path.read_text(encoding="utf-8").strip() + "\n"
    except OSError as exc:
        raise ConfigError(f"prompt file {path} cannot be read: {exc.strerror}") from None
    found = placeholders(template)
    expected = EXPECTED.get(name)
    if expected is not None and found != expected:
        unknown, missing = sorted(found - expected), sorted(expected - found)
        raise ConfigError(
            f"prompt {path}: unknown placeholders {unknown or 'none'}, missing placeholders {missing or 'none'}"
        )
    return Prompt(name, template)


def parts_prompt(asked: Question) -> str:
    """For a multi-part question, the prompt's list of its parts (prompts/parts.md), to follow the question; ""
    for a question that asks one thing."""
    if not asked.parts:
        return ""
    listed = "\n".join(f"{i}. {p.text}" for i, p in enumerate(asked.parts, start=1))
    return "\n" + load_prompt("parts").format(count=str(len(asked.parts)), parts=listed).rstrip("\n")
