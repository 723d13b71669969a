"""Uploads through REST `/ingest` and the UI's Library tab: a gzipped file keeps its two-part type (`.jsonl.gz`)
and is indexed; a file from which no paper can be indexed is not kept on disk, and the reply says so."""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Assistant
from rag.api import create_app
from rag.api.uploads import upload_suffix
from rag.errors import InputError
from rag.index.lock import WriterLock
from tests.fakes import fake_assistant

TOKEN = "t0k3n-for-uploads"
PAPERS = "".join(
    json.dumps({"id": f"gz-{i}", "title": f"Zyxglobin folding {i}", "abstract": f"Zyxglobin folds {i} times."}) + "\n"
    for i in range(2)
).encode()
JUNK = b"not json at all\n{broken\n"


@pytest.fixture()
def assistant(tmp_path: Path) -> Iterator[Assistant]:
    a = fake_assistant(tmp_path / "data", llm="extractive", api_token=TOKEN)
    yield a
    a.close()


@pytest.fixture()
def api(assistant: Assistant) -> TestClient:
    return TestClient(
        create_app(assistant), base_url="http://127.0.0.1:8000", headers={"Authorization": f"Bearer {TOKEN}"}
    )


def stored(assistant: Assistant) -> list[str]:
    folder = assistant.settings.data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


@pytest.mark.parametrize(
    ("name", "suffix"),
    [("papers.jsonl.gz", ".jsonl.gz"), ("A.JSON.GZ", ".json.gz"), ("t.csv.gz", ".csv.gz"), ("x.y.jsonl", ".jsonl")],
)
def test_upload_suffix_keeps_two_part_types(name: str, suffix: str) -> None:
    assert upload_suffix(name) == suffix


@pytest.mark.parametrize("name", ["papers.gz", "papers.tar.gz", "paper.pdf", "noext", "", "../x.pdf.gz"])
def test_upload_suffix_refuses_what_the_loader_cannot_read(name: str) -> None:
    with pytest.raises(InputError, match="unsupported file type"):
        upload_suffix(name)


def test_a_gzipped_jsonl_is_stored_as_such_and_indexed(api: TestClient, assistant: Assistant) -> None:
    response = api.post("/ingest", files={"files": ("papers.jsonl.gz", gzip.compress(PAPERS))})
    assert response.status_code == 200, response.text
    body = response.json()
    assert re.fullmatch(r"uploads/[0-9a-f]{64}\.jsonl\.gz", body["files"][0]["stored_as"])
    assert body["files"][0]["papers"] == 2 and body["report"]["papers_added"] == 2 and not body["report"]["errors"]
    assert {h.paper.id for h in assistant.search("zyxglobin folding", k=2, mode="bm25")} == {"gz-0", "gz-1"}


def test_a_bare_gz_is_refused_before_it_is_stored(api: TestClient, assistant: Assistant) -> None:
    response = api.post("/ingest", files={"files": ("papers.gz", gzip.compress(PAPERS))})
    assert response.status_code == 400 and "unsupported file type .gz" in response.json()["error"]
    assert stored(assistant) == []


def test_an_upload_that_yields_only_errors_is_not_kept(api: TestClient, assistant: Assistant) -> None:
    response = api.post("/ingest", files={"files": ("junk.jsonl", JUNK)})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("nothing in the upload could be indexed: junk.jsonl:1:") and "\n" not in error
    assert "uploads/" not in error  # the client's name, not the server's path
    assert stored(assistant) == []


def test_a_bad_file_beside_a_good_one_is_dropped_alone(api: TestClient, assistant: Assistant) -> None:
    files = [("files", ("good.jsonl.gz", gzip.compress(PAPERS))), ("files", ("junk.jsonl", JUNK))]
    response = api.post("/ingest", files=files)
    assert response.status_code == 200, response.text
    good, junk = response.json()["files"]
    assert good["papers"] == 2 and good["stored_as"].endswith(".jsonl.gz")
    assert junk == {"filename": "junk.jsonl", "stored_as": None, "bytes": len(JUNK), "papers": 0}
    assert {e["path"] for e in response.json()["report"]["errors"]} == {"junk.jsonl"}
    assert stored(assistant) == [Path(good["stored_as"]).name]


def test_a_re_upload_of_an_indexed_file_is_kept(api: TestClient, assistant: Assistant) -> None:
    first = api.post("/ingest", files={"files": ("a.jsonl", PAPERS)}).json()
    again = api.post("/ingest", files={"files": ("b.jsonl", PAPERS)})
    assert again.status_code == 200 and again.json()["files"][0]["stored_as"] == first["files"][0]["stored_as"]
    assert again.json()["files"][0]["papers"] == 2 and len(stored(assistant)) == 1


def test_the_ui_keeps_gzipped_uploads_and_drops_ones_with_nothing_to_index(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.ui.app import build_app

    cache = tmp_path / "gradio-cache"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))  # where gradio's components take uploads from
    uploads = []
    for name, data in (("papers.jsonl.gz", gzip.compress(PAPERS)), ("junk.jsonl", JUNK), ("x.gz", b"\x1f\x8b")):
        (cache / name.split(".")[0]).mkdir(parents=True)
        path = cache / name.split(".")[0] / name
        path.write_bytes(data)
        uploads.append(str(path))
    demo = build_app(assistant)
    ingest = next(f.fn for f in demo.fns.values() if f.name == "ingest_files")
    report = ingest(uploads)
    assert "**2** papers added" in report
    assert "junk.jsonl: not kept" in report and "x.gz: unsupported file type .gz" in report
    kept = [p.name for p in (assistant.settings.data_dir / "uploads").rglob("*") if p.is_file()]
    assert kept == ["papers.jsonl.gz"]


def test_an_upload_while_another_writer_holds_the_index_is_refused_at_once(
    api: TestClient, assistant: Assistant
) -> None:
    # helper-50: fifty uploads waiting for a CLI ingest's lock held every worker thread; /health took 17 s
    with WriterLock(assistant.settings.data_dir):  # `rag ingest` in another process, as far as the lock tells
        response = api.post("/ingest", files={"files": ("a.jsonl", PAPERS)})
        assert response.status_code == 503 and "being updated by process" in response.json()["error"]
        assert api.get("/health").status_code == 200
    assert not list((assistant.settings.data_dir / "uploads").glob("*"))  # nothing stored for the refused one
    assert api.post("/ingest", files={"files": ("a.jsonl", PAPERS)}).status_code == 200


def test_a_library_upload_while_another_writer_holds_the_index_is_refused_at_once(
    assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # the UI's upload waited for the writer lock in its handler (up to RAG_WRITE_LOCK_TIMEOUT): now it says so at once
    from rag.ui.app import build_app

    caplog.set_level(logging.WARNING, logger="rag.index.lock")

    cache = tmp_path / "gradio-cache"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    (cache / "a").mkdir(parents=True)
    (cache / "a" / "a.jsonl").write_bytes(PAPERS)
    ingest = next(f.fn for f in build_app(assistant).fns.values() if f.name == "ingest_files")
    with WriterLock(assistant.settings.data_dir, timeout=600):  # a `rag ingest` elsewhere, for as long as it takes
        report = ingest([str(cache / "a" / "a.jsonl")])
    assert report.startswith("**Not ingested:**") and "being updated by process" in report
    assert "waiting:" not in caplog.text  # the handler did not wait for the other writer
    assert not list((assistant.settings.data_dir / "uploads").rglob("*.jsonl"))
    assert "papers added" in ingest([str(cache / "a" / "a.jsonl")])
