"""How many papers a caller asks for: 0, negative or fractional counts are one-line refusals through the Python API
and the CLI as through REST (helper-50: `search(k=-1)` returned 99 hits, 30 of them scored zero;
`k=0` silently meant the default)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Assistant, Settings
from rag.cli import app
from rag.errors import InputError
from tests.test_crash_safety import write_files


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("k")
    a = Assistant(Settings(data_dir=root / "index", embed="hash", llm="extractive"))
    a.ingest(write_files(root / "files", files=1, per_file=30), progress=False)
    return a


@pytest.mark.parametrize("k", [0, -1, -250, 2.5, True, "5"])
def test_a_search_for_no_or_too_many_papers_is_refused_in_one_line(assistant: Assistant, k: object) -> None:
    with pytest.raises(InputError, match=r"k \(papers to search\) must be a whole number of 1 or more") as refused:
        assistant.search("study zq0x3", k=k)  # type: ignore[arg-type]
    assert "\n" not in str(refused.value)


def test_an_answer_from_no_or_too_many_papers_is_refused(assistant: Assistant) -> None:
    for k in (0, -1):
        with pytest.raises(InputError, match="of 1 or more"):
            assistant.ask("What is reported for zq0x3?", k=k)


def test_counts_in_range_still_work(assistant: Assistant) -> None:
    import numpy as np

    assert len(assistant.search("study zq0x3", k=1)) == 1
    assert len(assistant.search("study zq0x3", k=np.int64(3))) == 3  # an index from numpy is a whole number
    assert len(assistant.search("study zq0x3", k=500)) == 30  # all there are: no cap but REST's
    assert assistant.ask("What is reported for zq0x3?", k=60).status in ("answered", "partial", "abstained")


def test_the_cli_refuses_a_negative_count(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["search", "study", "-k", "-1"], env={"RAG_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "greater than or equal to 1" in result.output
