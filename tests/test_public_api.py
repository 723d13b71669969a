"""The public API: `rag` exports what users receive, and the README's Python example runs as written."""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

import pytest

import rag
from rag import errors, types

README = Path(__file__).parents[1] / "README.md"


def readme_python() -> str:
    """The README's example of the Python API (the Python block that builds the index)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    examples = [b for b in blocks if "a.ingest()" in b]
    assert len(examples) == 1, "the README should hold one Python API example"
    return examples[0]


def test_every_public_name_is_exported() -> None:
    for name in rag.__all__:
        assert getattr(rag, name) is not None, name
    # every error the API raises, and every type it returns
    error_types = {n for n, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.RagError)}
    assert error_types <= set(rag.__all__), error_types - set(rag.__all__)
    returned = {"Answer", "Citation", "Hit", "Paper", "SentenceCheck", "IndexStats", "IngestReport", "FileError"}
    assert returned <= set(rag.__all__) and all(getattr(rag, n) is getattr(types, n) for n in returned)
    assert {"Assistant", "Settings", "NO_ANSWER"} <= set(rag.__all__)
    signature = inspect.signature(rag.Assistant.ask)
    assert signature.return_annotation in ("Answer", rag.Answer)


def test_the_readme_python_example_runs(
    hash_bundled_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "index"
    shutil.copytree(hash_bundled_dir, data)  # already indexed: the example's ingest() finds nothing new
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    monkeypatch.setenv("RAG_EMBED", "hash")  # the fast stand-in for the bundled model
    monkeypatch.setenv("RAG_ABSTAIN_THRESHOLD", "0.1")  # bag-of-words cosines run lower than MiniLM's
    namespace: dict[str, object] = {}
    exec(compile(readme_python(), str(README), "exec"), namespace)  # our own README
    hits, answer, item = namespace["hits"], namespace["answer"], namespace["item"]
    assert hits and all(2021 <= h.paper.year <= 2024 for h in hits)
    assert isinstance(answer, rag.Answer) and answer.citations and not answer.abstained
    assert all(isinstance(c, rag.Citation) for c in answer.citations)
    assert isinstance(item, rag.Answer)  # the stream ends with the final Answer
    follow_up = namespace["a"].ask("What are they called for short?", history=namespace["history"])
    assert follow_up.standalone_question and "rational functions" in follow_up.standalone_question
