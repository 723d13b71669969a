"""Prompt files: placeholders checked at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.generation.prompts import EXPECTED, NO_ANSWER, load_prompt, placeholders, prompts_dir


def test_shipped_prompts_load_and_use_the_shared_no_answer_sentence() -> None:
    for name in ("system", "answer", "condense"):
        prompt = load_prompt(name)
        assert placeholders(prompt.template) == EXPECTED[name]
    assert NO_ANSWER in load_prompt("system").format(no_answer=NO_ANSWER)


def test_unknown_or_missing_placeholders_fail_loudly(tmp_path: Path) -> None:
    (tmp_path / "answer.md").write_text("Sources: {sources}\nQ: {qestion}\n")
    with pytest.raises(ConfigError, match=r"unknown placeholders \['qestion'\], missing placeholders \['question'\]"):
        load_prompt("answer", tmp_path)


def test_literal_braces_are_allowed_when_doubled(tmp_path: Path) -> None:
    (tmp_path / "condense.md").write_text('{history}\n{question}\nReply as {{"q": "..."}}\n')
    assert "{" in load_prompt("condense", tmp_path).format(history="h", question="q")


def test_prompts_dir_is_the_checkout_folder() -> None:
    assert (prompts_dir() / "system.md").exists()
