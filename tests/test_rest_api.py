"""The REST API: a real `rag serve --ui` (uvicorn in a subprocess on 127.0.0.1) over a hashed-embedding index of
the bundled corpus, checked endpoint by endpoint with a real HTTP client; a few server states that are awkward to
reach from outside (an embedding service down, ingest without a token) in-process."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from rag import Assistant, ConfigError, Settings
from rag.api import create_app, server_app
from rag.api.app import answer_events
from rag.errors import BackendUnavailableError, IndexBusyError
from rag.index.embedders import HashEmbedder
from rag.types import Answer
from tests.conftest import free_port, running

TOKEN = "test-token-0123456789"
QUESTION = "How much faster is Transformer TTS than Tacotron2?"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LOCAL = "http://127.0.0.1:8000"  # in-process clients too: the API answers only to its own names (test_hosts.py)
# hashed bag-of-words cosines are not calibrated like MiniLM's, so the abstention threshold is off for these tests
HASH_ENV = {"RAG_EMBED": "hash", "RAG_LLM": "extractive", "RAG_ABSTAIN_THRESHOLD": "0"}


def hash_settings(data_dir: Path, **extra: object) -> Settings:
    return Settings(data_dir=data_dir, embed="hash", llm="extractive", abstain_threshold=0.0, **extra)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("api-index")
    assistant = Assistant(hash_settings(data))
    assert assistant.ingest(progress=False).papers_added > 400
    assistant.close()
    return data


@pytest.fixture(scope="module")
def server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag serve --ui` with a token, a login for the UI and a 1 MB upload cap; started once for the module."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env |= HASH_ENV | {
        "RAG_DATA_DIR": str(index_dir),
        "RAG_API_TOKEN": TOKEN,
        "RAG_UI_AUTH": "reader:pass-word",
        "RAG_API_MAX_UPLOAD_MB": "1",
    }
    cwd = tmp_path_factory.mktemp("api-cwd")  # no stray .env
    cmd = [sys.executable, "-m", "rag.cli", "serve", "--port", str(port), "--ui"]
    url = f"http://127.0.0.1:{port}"
    with running(cmd, f"{url}/openapi.json", "rag serve", timeout=90, stop_timeout=15, env=env, cwd=cwd):
        yield url


@pytest.fixture()
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, headers=AUTH, timeout=60) as client:
        yield client


def markers(text: str) -> set[int]:
    return {int(n) for group in re.findall(r"\[(\d+(?:,\s*\d+)*)\]", text) for n in group.split(",")}


def uploads(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "uploads").glob("*")) if (data_dir / "uploads").exists() else []


def assert_cited(answer: Answer) -> None:
    """Every [n] in the text is a listed citation and every citation is used; quotes come from the paper."""
    assert answer.citations and not answer.abstained
    assert markers(answer.text) == {c.number for c in answer.citations}
    for c in answer.citations:
        assert c.quote and c.quote.rstrip(".") in c.paper.abstract


# --- the real server ---------------------------------------------------------------------------


@pytest.mark.slow
def test_health_and_stats_describe_the_index(api: httpx.Client) -> None:
    health, stats = api.get("/health"), api.get("/stats")
    assert health.status_code == stats.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["papers"] == stats.json()["papers"] >= 400
    assert stats.json()["embedding_model"] == HashEmbedder.name
    assert len(stats.json()["sources"]) >= 4


@pytest.mark.slow
def test_search_ranks_and_filters(api: httpx.Client) -> None:
    hits = api.get("/search", params={"q": "transformer text to speech", "k": 4}).json()
    assert len(hits) == 4
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert any("speech" in h["paper"]["title"].lower() for h in hits)

    lexical = api.get("/search", params={"q": "quantization", "k": 3, "mode": "bm25"}).json()
    assert lexical and all("quantization" in (h["paper"]["title"] + h["passage"]).lower() for h in lexical)

    source = hits[0]["paper"]["source"]
    only = api.get("/search", params={"q": "neural networks", "k": 5, "source": Path(source).name}).json()
    assert only and all(h["paper"]["source"] == source for h in only)

    dated = api.get("/search", params={"q": "neural networks", "k": 5, "year": "2020-2022"}).json()
    assert dated and all(2020 <= int(h["paper"]["date"][:4]) <= 2022 for h in dated)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"q": "x", "k": 0}, "k"),
        ({"q": "x", "mode": "fuzzy"}, "mode"),
        ({"q": "x", "year": "20"}, "year"),
        ({"q": "x", "year": "2023-2020"}, "backwards"),
        ({"k": 3}, "q"),
    ],
)
def test_search_refuses_bad_input_with_400(api: httpx.Client, params: dict, complaint: str) -> None:
    response = api.get("/search", params=params)
    assert response.status_code == 400
    assert complaint in response.json()["error"]


@pytest.mark.slow
def test_paper_by_id_and_404(api: httpx.Client) -> None:
    hit = api.get("/search", params={"q": "speech synthesis", "k": 1}).json()[0]
    paper = api.get(f"/papers/{hit['paper']['id']}")
    assert paper.status_code == 200 and paper.json() == hit["paper"]
    missing = api.get("/papers/no-such-paper")
    assert missing.status_code == 404 and "no-such-paper" in missing.json()["error"]


@pytest.mark.slow
def test_ask_returns_the_whole_checked_answer(api: httpx.Client) -> None:
    response = api.post("/ask", json={"question": QUESTION, "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert {"text", "status", "citations", "sources", "timings", "usage", "notice", "backend"} <= body.keys()
    answer = Answer.model_validate(body)
    assert_cited(answer)
    assert answer.status == "answered" and "4.25" in answer.text and len(answer.sources) <= 3
    assert answer.timings["retrieve_s"] > 0 and answer.backend == "extractive"


@pytest.mark.slow
def test_ask_passes_history_and_filters_through(api: httpx.Client) -> None:
    source = api.get("/search", params={"q": "speech synthesis", "k": 1}).json()[0]["paper"]["source"]
    body = {
        "question": "What do they propose?",
        "history": [{"role": "user", "content": "papers on speech synthesis"}, {"role": "assistant", "content": "..."}],
        "sources": [Path(source).name],
        "k": 3,
    }
    answer = Answer.model_validate(api.post("/ask", json=body).json())
    assert answer.question == body["question"] and answer.standalone_question  # the follow-up was condensed
    assert answer.sources and all(h.paper.source == source for h in answer.sources)
    dated = Answer.model_validate(api.post("/ask", json={"question": "neural networks", "year": "2021-2022"}).json())
    assert dated.sources and all(2021 <= (h.paper.year or 0) <= 2022 for h in dated.sources)


def sse_events(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        events.append((fields.get("event", "message"), fields["data"]))
    return events


@pytest.mark.slow
def test_ask_streams_deltas_then_the_checked_answer(api: httpx.Client) -> None:
    with api.stream("POST", "/ask", json={"question": QUESTION, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1
    assert kinds[:-1] and set(kinds[:-1]) == {"delta"}
    draft = "".join(json.loads(data)["text"] for kind, data in events[:-1])
    answer = Answer.model_validate_json(events[-1][1])
    assert_cited(answer)
    assert "4.25" in draft and answer.question == QUESTION


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"question": ""}, "question"),
        ({"question": "hi", "k": 0}, "k"),
        ({"question": "hi", "backend": "gpt-5"}, "backend"),
        ({"question": "hi", "year": "last year"}, "year"),
        ({"question": "hi", "history": [{"role": "system", "content": "x"}]}, "role"),
        ({"question": "hi", "temperature": 2}, "temperature"),
        ({"question": "why " * 600}, "RAG_MAX_QUESTION_CHARS"),
        ({"question": "hi", "backend": "openai"}, "OPENAI_API_KEY"),  # a backend this server cannot use
        ({"question": "hi", "stream": True, "backend": "openai"}, "OPENAI_API_KEY"),  # refused before streaming
    ],
)
def test_ask_refuses_bad_input_with_400(api: httpx.Client, body: dict, complaint: str) -> None:
    response = api.post("/ask", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert complaint in response.json()["error"]


@pytest.mark.slow
def test_ask_refuses_a_body_that_is_not_json(api: httpx.Client) -> None:
    response = api.post("/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}],
)
def test_every_endpoint_wants_the_token(server: str, headers: dict) -> None:
    with httpx.Client(base_url=server, headers=headers, timeout=30) as client:
        responses = [
            client.get("/health"),
            client.get("/stats"),
            client.get("/search", params={"q": "speech"}),
            client.get("/papers/anything"),
            client.post("/ask", json={"question": QUESTION}),
            client.post("/ingest", files={"files": ("a.jsonl", b'{"title": "t", "abstract": "a"}\n')}),
            client.post("/ingest", files={"files": ("big.jsonl", b"x" * 1_100_000)}),  # refused before it is read
        ]
    for response in responses:
        assert response.status_code == 401, response.request.url
        assert "bearer token" in response.json()["error"]
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.slow
def test_docs_and_ui_are_served_without_the_token(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30, follow_redirects=True) as client:
        schema = client.get("/openapi.json").json()
        assert {"/health", "/stats", "/search", "/papers/{paper_id}", "/ask", "/ingest"} <= schema["paths"].keys()
        assert "HTTPBearer" in schema["components"]["securitySchemes"]
        assert client.get("/docs").status_code == 200
        ui = client.get("/ui/")
        assert ui.status_code == 200 and "gradio" in ui.text.lower()
        assert client.get("/ui/config").status_code in (401, 403)  # the UI's own login guards its data


NEW_PAPERS = (
    '{"id": "api-1", "title": "Zyxglobin folding in tardigrades", "abstract": "We find that zyxglobin folds '
    'twice as fast in desiccated tardigrades.", "date": "2024-03-01"}\n'
    '{"id": "api-2", "title": "Qwertase kinetics", "abstract": "Qwertase turns over 40 substrates per second."}\n'
)


@pytest.mark.slow
def test_ingest_stores_uploads_by_content_hash_and_indexes_them(api: httpx.Client, index_dir: Path) -> None:
    files = {"files": ("../../escape.jsonl", NEW_PAPERS.encode())}
    response = api.post("/ingest", files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    stored = body["files"][0]
    assert re.fullmatch(r"uploads/[0-9a-f]{64}\.jsonl", stored["stored_as"])
    assert (index_dir / stored["stored_as"]).read_text() == NEW_PAPERS
    assert not (index_dir.parent / "escape.jsonl").exists()
    assert body["report"]["papers_added"] == 2 and not body["report"]["errors"]
    hit = api.get("/search", params={"q": "zyxglobin tardigrades", "k": 1}).json()[0]
    assert hit["paper"]["title"] == "Zyxglobin folding in tardigrades"

    again = api.post("/ingest", files={"files": ("other-name.jsonl", NEW_PAPERS.encode())}).json()
    assert again["files"][0]["stored_as"] == stored["stored_as"]
    assert again["report"]["files_skipped_unchanged"] == 1 and again["report"]["papers_added"] == 0


@pytest.mark.slow
def test_ingest_refuses_bad_uploads(api: httpx.Client, index_dir: Path) -> None:
    before = uploads(index_dir)
    wrong_type = api.post("/ingest", files={"files": ("paper.pdf", b"%PDF-1.7")})
    assert wrong_type.status_code == 400 and "unsupported file type" in wrong_type.json()["error"]
    empty = api.post("/ingest", files={"files": ("empty.jsonl", b"")})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    too_big = api.post("/ingest", files={"files": ("big.jsonl", b"x" * 1_100_000)})
    assert too_big.status_code == 413
    nothing = api.post("/ingest", data={"note": "no files"})
    assert nothing.status_code == 400 and "files" in nothing.json()["error"]
    assert uploads(index_dir) == before  # nothing kept, not even a partial file


# --- in-process: server states that are hard to reach from outside -------------------------------


class UnreachableEmbedder(HashEmbedder):
    """The index's embedder, but its service is down."""

    def _embed_batch(self, texts: list[str]):  # type: ignore[override]
        raise BackendUnavailableError("the embedding service cannot be reached")


def test_a_model_that_is_down_without_fallback_gives_503(index_dir: Path) -> None:
    assistant = Assistant(hash_settings(index_dir), embedder=UnreachableEmbedder())
    client = TestClient(create_app(assistant), base_url=LOCAL, raise_server_exceptions=False)
    for response in (
        client.get("/search", params={"q": "speech", "mode": "dense"}),
        client.post("/ask", json={"question": QUESTION}),
        client.post("/ask", json={"question": QUESTION, "stream": True}),
    ):
        assert response.status_code == 503
        assert response.json() == {"error": "the embedding service cannot be reached"}


def test_a_failure_mid_stream_ends_with_one_error_event() -> None:
    def items() -> Iterator[str | Answer]:
        yield "Partial answer"
        raise IndexBusyError("the index is being rebuilt")

    stream = items()
    events = sse_events(b"".join(answer_events(next(stream), stream)).decode())
    assert events[0] == ("delta", json.dumps({"text": "Partial answer"}))
    assert [kind for kind, _ in events] == ["delta", "error"]
    assert json.loads(events[-1][1]) == {"error": "the index is being rebuilt", "status": 503}


def test_ingest_is_disabled_without_a_token(index_dir: Path) -> None:
    client = TestClient(create_app(Assistant(hash_settings(index_dir))), base_url=LOCAL)
    before = uploads(index_dir)
    assert client.get("/health").status_code == 200  # no token: the API is open (and binds 127.0.0.1)
    response = client.post("/ingest", files={"files": ("a.jsonl", NEW_PAPERS.encode())})
    assert response.status_code == 403 and "RAG_API_TOKEN" in response.json()["error"]
    assert uploads(index_dir) == before


def test_the_ui_is_not_mounted_open_beside_a_locked_api(index_dir: Path) -> None:
    assistant = Assistant(hash_settings(index_dir, api_token="secret"))
    with pytest.raises(ConfigError, match="RAG_UI_AUTH"):
        server_app(assistant, ui=True)
