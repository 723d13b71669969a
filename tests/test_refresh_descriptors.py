"""A process that follows another one's writes refreshes its embedded vector store once per committed batch (a
server beside `rag ingest`): each refresh must not leave the old Chroma client's files open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag import Assistant, Settings
from tests.test_crash_safety import write_files

FDS = Path("/proc/self/fd")


@pytest.mark.skipif(not FDS.is_dir(), reason="counts this process's open descriptors in /proc")
def test_refreshing_the_store_again_and_again_keeps_the_open_files_bounded(tmp_path: Path) -> None:
    assistant = Assistant(Settings(data_dir=tmp_path / "index", embed="hash", llm="extractive"))
    assistant.ingest(write_files(tmp_path / "files", files=1, per_file=20), progress=False)
    assert assistant.search("zq0x7", k=1, mode="dense")[0].paper.id == "p0-7"
    before = len(os.listdir(FDS))
    for _ in range(40):
        assistant.store.refresh()
        assert assistant.search("zq0x7", k=1, mode="dense")[0].paper.id == "p0-7"  # each new client reads it all
    assert len(os.listdir(FDS)) <= before + 10  # it was about five more per refresh: 200 more here
    assistant.close()
