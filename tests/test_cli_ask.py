"""`rag ask` shows its answer once: piped, only the checked text; in a terminal, the streamed draft is replaced
by the checked text. The real CLI in a subprocess, over a hash-embedded bundled index (no model)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag import Assistant, Settings

QUESTION = "How much faster does the Transformer-based text-to-speech model train than Tacotron2?"
ERASE_LINE = "\x1b[2K"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def cli_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM")}
    return {**env, "RAG_DATA_DIR": str(data), "RAG_EMBED": "hash", "COLUMNS": "2000", "TERM": "xterm"}


def expected(data: Path) -> tuple[str, str]:
    """The checked answer text and the raw draft the extractive answerer streams, from the Python API."""
    items = list(Assistant(Settings(data_dir=data, embed="hash")).stream(QUESTION))
    return items[-1].text, "".join(items[:-1])


def run_in_pty(args: list[str], env: dict[str, str]) -> str:
    """Everything a command writes to a terminal (stdout and stderr both on the pty)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the pty
        os.execve(args[0], args, env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode("utf-8", errors="replace")


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_piped_ask_prints_the_checked_answer_exactly_once(hash_bundled_dir: Path) -> None:
    text, _ = expected(hash_bundled_dir)
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", QUESTION],
        env=cli_env(hash_bundled_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "4.25" in text and result.stdout.count(text) == 1
    assert text not in result.stderr and "4.25" not in result.stderr  # no draft on stderr either
    assert "\x1b[" not in result.stdout  # no terminal control codes in a pipe
    assert "References:" in result.stdout and "Neural Speech Synthesis with Transformer Network" in result.stdout


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_terminal_ask_streams_the_draft_then_replaces_it_with_the_checked_answer(hash_bundled_dir: Path) -> None:
    text, draft = expected(hash_bundled_dir)
    screen = run_in_pty([sys.executable, "-m", "rag.cli", "ask", QUESTION], cli_env(hash_bundled_dir))
    cleared = screen.rfind(ERASE_LINE)
    assert cleared > 0, "the draft was never erased"
    before, after = screen[:cleared], _ANSI.sub("", screen[cleared:]).replace("\r", "")
    first_draft_words = " ".join(draft.split()[:6])
    assert first_draft_words in " ".join(_ANSI.sub("", before).split())  # the draft was streamed first
    assert " ".join(after.split()).count(" ".join(text.split())) == 1  # then the checked text, once
    assert after.count("4.25") == text.count("4.25")  # and nothing of the draft is left on screen
    assert "References:" in after
