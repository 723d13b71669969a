"""Shared fixtures: every test gets its own data dir; the bundled index is built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Assistant, Settings
from rag.corpus.load import bundled_corpus_dir

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = bundled_corpus_dir()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the user's index or an API key from the environment."""
    data = tmp_path / "data"
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM", "RAG_EMBED", "RAG_CHROMA_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return data


@pytest.fixture(scope="session")
def bundled_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the bundled corpus, indexed once for the whole session."""
    data = tmp_path_factory.mktemp("bundled-index")
    assistant = Assistant(Settings(data_dir=data))
    report = assistant.ingest(progress=False)
    assistant.close()
    assert not report.errors, report.errors
    return data


@pytest.fixture()
def bundled(bundled_dir: Path) -> Iterator[Assistant]:
    """An Assistant over the session's bundled index (read-only use)."""
    assistant = Assistant(Settings(data_dir=bundled_dir))
    yield assistant
    assistant.close()


def copy_corpus(dest: Path) -> Path:
    """A writable copy of the bundled corpus."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in CORPUS.glob("*.txt"):
        (dest / f.name).write_bytes(f.read_bytes())
    return dest
