"""The bundled corpus goes only into a brand-new data dir (issue 17, LOW item).

`rag search` / `ask` / `mcp` / `chat` / `serve` on an empty index used to index the bundled corpus
whatever the reason the index was empty: during the user's own first ingest (and into it, once the
lock freed) or after an ingest of theirs that committed nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Assistant, Settings
from rag.cli import _ready_assistant, app
from rag.index.lock import WriterLock

runner = CliRunner()


@pytest.fixture(autouse=True)
def hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBED", "hash")


def papers_in(data: Path) -> int:
    assistant = Assistant(Settings(data_dir=data))
    try:
        return assistant.manifest.count_papers()
    finally:
        assistant.close()


def test_a_new_data_dir_gets_the_bundled_corpus(isolated_env: Path) -> None:
    result = runner.invoke(app, ["search", "speech synthesis", "-k", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert "indexing the bundled corpus first" in result.output and papers_in(isolated_env) == 410


def test_search_during_the_first_ingest_says_so_and_adds_nothing(isolated_env: Path) -> None:
    with WriterLock(isolated_env):  # another writer is building the index
        result = runner.invoke(app, ["search", "speech synthesis"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: the index in {isolated_env} is being built by process {os.getpid()}; try again when it finishes"
    )
    assert papers_in(isolated_env) == 0


def test_an_index_left_empty_by_the_users_own_ingest_stays_theirs(isolated_env: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    assert runner.invoke(app, ["ingest", str(tmp_path / "broken.jsonl")]).exit_code == 1
    result = runner.invoke(app, ["ask", "What is speech synthesis?"])
    assert f"the index in {isolated_env} is empty: add papers with `rag ingest PATH`" in result.output
    assert "bundled" not in result.output and papers_in(isolated_env) == 0


def test_a_server_starting_during_the_first_ingest_serves_what_is_committed(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with WriterLock(isolated_env):
        assistant = _ready_assistant(serving=True)
    assert assistant.is_empty() and papers_in(isolated_env) == 0
    assert f"the index in {isolated_env} is being built by process {os.getpid()}" in capsys.readouterr().err


def test_a_writer_starting_after_the_check_is_never_joined_by_the_bundled_corpus(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's ingest takes the lock just after the search looked: the search must not wait for it and then
    add the bundled corpus to the user's index."""
    monkeypatch.setattr(WriterLock, "writer", lambda self: None, raising=False)  # looked just before the writer
    waiting = threading.Event()

    class Waits(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("waiting: the index"):
                waiting.set()

    handler = Waits()
    logging.getLogger("rag.index.lock").addHandler(handler)
    users = WriterLock(isolated_env)
    users.__enter__()
    outcome: list = []
    search = threading.Thread(target=lambda: outcome.append(runner.invoke(app, ["search", "speech"])))
    try:
        search.start()
        while search.is_alive() and not waiting.is_set():
            search.join(timeout=0.05)  # until the search ends, or waits for the lock
    finally:
        users.__exit__(None, None, None)  # the user's ingest ends
        search.join(timeout=300)
        logging.getLogger("rag.index.lock").removeHandler(handler)
    assert not waiting.is_set()
    assert outcome[0].exit_code == 1 and "is being updated by process" in outcome[0].output
    assert papers_in(isolated_env) == 0
