"""A process that follows another one's writes refreshes its embedded vector store once per committed batch (a
server beside `rag ingest`): each refresh must not leave the old Chroma client's files open."""

from __future__ import annotations

import os
import threading
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


@pytest.mark.skipif(not FDS.is_dir(), reason="counts this process's open descriptors in /proc")
def test_closing_an_assistant_releases_its_vector_store_files(tmp_path: Path) -> None:
    data = tmp_path / "index"
    first = Assistant(Settings(data_dir=data, embed="hash", llm="extractive"))
    first.ingest(write_files(tmp_path / "files", files=1, per_file=20), progress=False)
    first.close()
    before = len(os.listdir(FDS))
    for _ in range(20):  # a script or a test opening the same index again and again
        assistant = Assistant(Settings(data_dir=data, embed="hash", llm="extractive"))
        assert assistant.search("zq0x7", k=1, mode="dense")[0].paper.id == "p0-7"
        assistant.close()
    assert len(os.listdir(FDS)) <= before + 10  # it was about four more per cycle (37 -> 122): the client left open


def test_a_closed_assistant_opens_its_files_again_when_used(tmp_path: Path) -> None:
    # helper-50: every read after close() raised sqlite3.ProgrammingError ("Cannot operate on a closed database")
    assistant = Assistant(Settings(data_dir=tmp_path / "index", embed="hash", llm="extractive"))
    assistant.ingest(write_files(tmp_path / "files", files=1, per_file=5), progress=False)
    assistant.close()
    assert assistant.search("zq0x3", k=1, mode="dense")[0].paper.id == "p0-3"
    assistant.close()
    assistant.close()  # twice is harmless
    assert assistant.stats().papers == 5 and not assistant.is_empty()
    assert assistant.paper("p0-3") is not None
    assert assistant.ask("What is reported for zq0x3?").citations
    assistant.close()


def test_a_search_in_another_thread_survives_the_assistant_being_closed(tmp_path: Path) -> None:
    # helper-51: a search that began its store call after another thread's close() raised a raw AttributeError
    assistant = Assistant(Settings(data_dir=tmp_path / "index", embed="hash", llm="extractive"))
    assistant.ingest(write_files(tmp_path / "files", files=1, per_file=5), progress=False)
    store = assistant.store
    failures: list[BaseException] = []
    closed = threading.Event()

    def search() -> None:
        try:
            for _ in range(30):
                assert store.count() == 5  # the old store object, as a search under way holds it
                closed.wait()
        except BaseException as exc:  # the test reports what the thread met
            failures.append(exc)

    worker = threading.Thread(target=search)
    worker.start()
    assistant.close()
    closed.set()
    worker.join()
    assert failures == []
    assert assistant.search("zq0x3", k=1, mode="dense")[0].paper.id == "p0-3"
    assert store.embedding_model == assistant.stats().embedding_model == "hash:bow-384"  # read guarded, reopened
    store.close()
    assistant.close()
