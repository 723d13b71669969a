"""DNS rebinding and cross-site requests against the web doors: the REST API, the chat UI (`rag chat`) and the UI
mounted at /ui (`rag serve --ui`) answer only to loopback names, the name they bind to and RAG_ALLOWED_HOSTS, and
refuse cross-origin state changes (and cross-origin reads). In-process through Starlette's TestClient; the slow
tests attack real servers over HTTP."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from rag import Assistant, Settings
from rag.api import create_app, server_app
from rag.web_guard import allowed_hosts, parse_host, same_origin
from tests.conftest import free_port, running
from tests.fakes import fake_assistant

BASE = "http://127.0.0.1:8000"
REBOUND = ["attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example:8000", "localhost.evil:8000"]
FOREIGN_ORIGINS = [
    "http://attacker.example:8000",
    "http://127.0.0.1:9999",
    "http://127.0.0.1.attacker.example:8000",
    "null",
]


@pytest.fixture()
def assistant(tmp_path: Path) -> Iterator[Assistant]:
    a = fake_assistant(tmp_path / "data", llm="extractive")
    yield a
    a.close()


def rest(assistant: Assistant, host: str = "127.0.0.1") -> TestClient:
    return TestClient(create_app(assistant, host=host), base_url=BASE, raise_server_exceptions=False)


# --- the rules ------------------------------------------------------------------------------------
def test_host_names_are_parsed_strictly() -> None:
    assert parse_host("LocalHost:8000") == ("localhost", 8000)
    assert parse_host("[::1]:7860") == ("::1", 7860) and parse_host("[::1]") == ("::1", None)
    for bad in ("", "::1", "[::1", "[evil]:80", "a b", "x:", "x:80:80", "x:８０", "evil.example/@127.0.0.1"):
        assert parse_host(bad) is None, bad


def test_same_origin_needs_the_same_name_and_port() -> None:
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert same_origin("http://localhost", "localhost:80") and same_origin("https://x.org", "x.org")
    assert same_origin("http://[::1]:8000/page?x", "[::1]:8000")
    for origin in [*FOREIGN_ORIGINS, "javascript:alert(1)", "http://127.0.0.1:8000@evil.example"]:
        assert not same_origin(origin, "127.0.0.1:8000"), origin


def test_allowed_names_are_loopback_the_bind_address_and_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_ALLOWED_HOSTS", "Papers.Example.org, [fe80::1] ,")
    extra = Settings().allowed_hosts
    assert extra == ["Papers.Example.org", "[fe80::1]"]
    assert allowed_hosts("192.168.1.5", extra) == {
        "127.0.0.1", "localhost", "::1", "192.168.1.5", "papers.example.org", "fe80::1"
    }  # fmt: skip


# --- REST ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", REBOUND)
def test_rest_refuses_a_rebound_host_before_anything_runs(assistant: Assistant, host: str) -> None:
    asked: list[str] = []
    assistant.ask = lambda *a, **k: asked.append("ask")  # type: ignore[method-assign]
    api = rest(assistant)
    for response in (
        api.get("/health", headers={"Host": host}),
        api.get("/search", params={"q": "squid"}, headers={"Host": host}),
        api.post("/ask", json={"question": "q"}, headers={"Host": host}),
        api.get("/docs", headers={"Host": host}),
    ):
        assert response.status_code == 400
        assert "RAG_ALLOWED_HOSTS" in response.json()["error"] and "\n" not in response.json()["error"]
    assert asked == []


def test_rest_refuses_a_rebound_host_before_the_token_check(tmp_path: Path) -> None:
    a = fake_assistant(tmp_path / "data", api_token="t0k3n")
    response = rest(a).post("/ingest", files={"files": ("a.jsonl", b"{}")}, headers={"Host": "attacker.example"})
    assert response.status_code == 400 and not (tmp_path / "data" / "uploads").exists()


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:1234", "[::1]:8000", "LOCALHOST", "10.0.0.7:8000"])
def test_rest_answers_loopback_names_and_its_own_address_on_any_port(assistant: Assistant, host: str) -> None:
    assert rest(assistant, host="10.0.0.7").get("/health", headers={"Host": host}).status_code == 200


def test_rest_answers_names_from_the_setting(tmp_path: Path) -> None:
    a = fake_assistant(tmp_path / "data", allowed_hosts=["papers.example.org"])
    assert rest(a).get("/health", headers={"Host": "papers.example.org:8000"}).status_code == 200
    assert rest(a).get("/health", headers={"Host": "other.example.org:8000"}).status_code == 400


@pytest.mark.parametrize(
    "headers",
    [{"Origin": o} for o in FOREIGN_ORIGINS]
    + [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Referer": "http://attacker.example/x"}],
)
def test_rest_refuses_cross_origin_state_changes(assistant: Assistant, headers: dict[str, str]) -> None:
    asked: list[str] = []
    assistant.ask = lambda *a, **k: asked.append("ask")  # type: ignore[method-assign]
    response = rest(assistant).post("/ask", json={"question": "q"}, headers=headers)
    assert response.status_code == 403 and "cross-" in response.json()["error"]
    assert asked == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": BASE}, {"Sec-Fetch-Site": "same-origin"}, {"Referer": f"{BASE}/docs"}, {"Sec-Fetch-Site": "none"}],
)
def test_rest_serves_same_origin_and_non_browser_clients(assistant: Assistant, headers: dict[str, str]) -> None:
    response = rest(assistant).post("/ask", json={"question": "What do squids do?"}, headers=headers)
    assert response.status_code != 403, response.text


def test_rest_refuses_cross_origin_reads(assistant: Assistant) -> None:
    """A foreign page's fetch carries Origin; a plain navigation (no Origin) still works."""
    api = rest(assistant)
    assert api.get("/stats", headers={"Origin": "http://attacker.example"}).status_code == 403
    assert api.get("/stats", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}).status_code == 200


# --- the chat UI, in-process ----------------------------------------------------------------------
def chat_app(assistant: Assistant) -> TestClient:
    """gradio's app for `rag chat`, built with the `app_kwargs` that `launch` passes (mounted under /chat of a bare
    FastAPI app, which has no guard of its own, since gradio's app is complete only once launched or mounted)."""
    import gradio as gr
    from fastapi import FastAPI

    from rag.ui.app import guarded_app_kwargs, prepare

    served = prepare(assistant)
    app = gr.mount_gradio_app(
        FastAPI(), served.demo, path="/chat", app_kwargs=guarded_app_kwargs("127.0.0.1"), **served.options
    )
    return TestClient(app, base_url="http://127.0.0.1:7860", raise_server_exceptions=False)


def ui_requests(client: TestClient, prefix: str, headers: dict[str, str]) -> list[httpx.Response]:
    upload = {"files": ("papers.jsonl", b'{"title": "t", "abstract": "a"}\n')}
    join = {"data": [[]], "fn_index": 0, "session_hash": "abc", "event_data": None, "trigger_id": 1}
    return [
        client.post(f"{prefix}/gradio_api/upload", files=upload, headers=headers),
        client.post(f"{prefix}/gradio_api/queue/join", json=join, headers=headers),
        client.post(f"{prefix}/gradio_api/call/ingest_files", json={"data": [[]]}, headers=headers),
        client.post(f"{prefix}/login", data={"username": "a", "password": "b"}, headers=headers),
    ]


@pytest.mark.parametrize("door", ["rag chat", "rag serve --ui"])
def test_chat_ui_refuses_rebound_hosts_and_cross_origin_requests(assistant: Assistant, door: str) -> None:
    if door == "rag chat":
        client, prefix, origin = chat_app(assistant), "/chat", "http://127.0.0.1:7860"
    else:
        client, prefix, origin = TestClient(server_app(assistant, ui=True), base_url=BASE), "/ui", BASE
    with client:
        assert client.get(f"{prefix}/config").status_code == 200
        for path in ("/", "/config", "/gradio_api/info"):
            assert client.get(f"{prefix}{path}", headers={"Host": "attacker.example:7860"}).status_code == 400
        for response in ui_requests(client, prefix, {"Host": "attacker.example:7860"}):
            assert response.status_code == 400
        for response in ui_requests(client, prefix, {"Origin": "http://attacker.example"}):
            assert response.status_code == 403 and "cross-origin" in response.json()["error"]
        assert client.get(f"{prefix}/config", headers={"Origin": "http://attacker.example"}).status_code == 403
        upload = {"files": ("p.jsonl", b"{}\n")}
        own = client.post(f"{prefix}/gradio_api/upload", files=upload, headers={"Origin": origin})
        assert own.status_code == 200, own.text  # the UI's own page uploads


# --- real servers -------------------------------------------------------------------------------
def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    return env | {"RAG_DATA_DIR": str(data), "RAG_EMBED": "hash", "RAG_LLM": "extractive"} | extra


def _attacks(url: str, port: int) -> dict[str, Any]:
    """What a rebinding page and a cross-site page get (the requests a browser would send)."""
    rebound = {"Host": f"attacker.example:{port}"}
    foreign = {"Origin": "http://attacker.example"}
    upload = {"files": ("papers.jsonl", b'{"title": "Rebound", "abstract": "Planted by a web page."}\n')}
    with httpx.Client(base_url=url, timeout=30) as http:
        return {
            "rebound": [http.get(p, headers=rebound).status_code for p in ("/", "/config", "/gradio_api/info")],
            "rebound_upload": http.post("/gradio_api/upload", files=upload, headers=rebound).status_code,
            "foreign_upload": http.post("/gradio_api/upload", files=upload, headers=foreign).status_code,
            "foreign_call": http.post(
                "/gradio_api/call/ingest_files", json={"data": [[]]}, headers=foreign
            ).status_code,
            "same_origin_upload": http.post(
                "/gradio_api/upload",
                files={"files": ("own.jsonl", b"{}\n")},
                headers={"Origin": f"http://127.0.0.1:{port}"},
            ).status_code,
            "allowed": http.get("/", headers={"Host": f"papers.example.org:{port}"}).status_code,
            "own": http.get("/").status_code,
        }


@pytest.mark.slow
def test_rag_chat_refuses_rebinding_and_cross_site_requests(hash_bundled_dir: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(hash_bundled_dir, data)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(data, RAG_ALLOWED_HOSTS="papers.example.org", GRADIO_TEMP_DIR=str(tmp_path / "gradio"))
    cmd = [sys.executable, "-m", "rag.cli", "chat", "--port", str(port)]
    with running(cmd, f"{url}/", "rag chat", timeout=120, log=tmp_path / "chat.log", env=env, cwd=tmp_path):
        seen = _attacks(url, port)
        from gradio_client import Client

        assert Client(f"{url}/", verbose=False).predict(
            "speech synthesis", "bm25", 3, None, None, [], api_name="/search"
        )
    assert seen["rebound"] == [400, 400, 400] and seen["rebound_upload"] == 400
    assert seen["foreign_upload"] == 403 and seen["foreign_call"] == 403
    assert seen["allowed"] == 200 and seen["own"] == 200 and seen["same_origin_upload"] == 200
    assert not list((tmp_path / "gradio").rglob("papers.jsonl"))  # nothing of the attacks was stored
    assert list((tmp_path / "gradio").rglob("own.jsonl"))


@pytest.mark.slow
def test_rag_serve_refuses_rebinding_and_cross_site_requests(hash_bundled_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(hash_bundled_dir, RAG_API_TOKEN="t0k3n", RAG_UI_AUTH="u:p-w", RAG_ALLOWED_HOSTS="papers.example.org")
    cmd = [sys.executable, "-m", "rag.cli", "serve", "--port", str(port), "--ui"]
    auth = {"Authorization": "Bearer t0k3n"}
    with (
        running(
            cmd, f"{url}/openapi.json", "rag serve", timeout=120, log=tmp_path / "serve.log", env=env, cwd=tmp_path
        ),
        httpx.Client(base_url=url, timeout=30, headers=auth) as http,
    ):
        rebound = {"Host": f"attacker.example:{port}"}
        codes = [http.get(p, headers=rebound).status_code for p in ("/stats", "/search?q=x", "/papers/x", "/ui/")]
        ask = http.post("/ask", json={"question": "speech synthesis?"}, headers=rebound)
        foreign = http.post("/ask", json={"question": "speech?"}, headers={"Origin": "http://attacker.example"})
        ok = http.get("/stats", headers={"Host": f"papers.example.org:{port}"})
        ui = _attacks(f"{url}/ui", port)
    assert codes == [400, 400, 400, 400] and ask.status_code == 400 and "RAG_ALLOWED_HOSTS" in ask.json()["error"]
    assert foreign.status_code == 403 and ok.status_code == 200
    assert ui["rebound"] == [400, 400, 400] and ui["foreign_upload"] == 403 and ui["foreign_call"] == 403
