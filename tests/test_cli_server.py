"""`rag search`, `ask` and `stats` ask a `rag serve` / `rag chat` on the same data dir over its Unix socket
(`rag.remote`, `rag.api.unix_socket`), with the output of in-process work, and work in-process when the socket is
stale, not safe to use, or `--local` says so."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Settings
from rag.cli import app
from rag.remote import SETTINGS_HEADER, settings_digest, socket_path, unix_address
from tests.conftest import free_port, running

runner = CliRunner()
QUERY = "wide residual networks"
QUESTION = "Which papers propose post-training quantization methods?"


@pytest.fixture()
def data(hash_bundled_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the session's hash-embedded bundled index, as the data dir of this test's commands."""
    dest = tmp_path / "data"
    shutil.copytree(hash_bundled_dir, dest)
    monkeypatch.setenv("RAG_DATA_DIR", str(dest))
    monkeypatch.setenv("RAG_EMBED", "hash")
    monkeypatch.setenv("RAG_LLM", "extractive")
    return dest


REFUSAL = (
    b"HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    b'{"error": "this server runs with other settings"}'
)


def sse(*events: tuple[str, str]) -> bytes:
    """A server-sent events answer (not chunked: it ends when the connection closes)."""
    body = b"".join(f"event: {event}\r\ndata: {data}\r\n\r\n".encode() for event, data in events)
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + body


class FakeServer:
    """A listener on the data dir's socket path that records every request head and sends `response` (by default a
    409: other settings)."""

    def __init__(self, path: Path, mode: int, response: bytes = REFUSAL) -> None:
        self.response = response
        self.requests: list[bytes] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with unix_address(path) as address:
            self.sock.bind(address)
        os.chmod(path, mode)
        self.sock.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request and (chunk := conn.recv(4096)):
                    request += chunk
                head, _, body = request.partition(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                while length and len(body) < int(length.group(1)) and (chunk := conn.recv(4096)):
                    body += chunk  # the whole request is read before answering: the client's send never fails
                self.requests.append(head)
                conn.sendall(self.response)

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(timeout=10)


@contextmanager
def fake_server(data: Path, mode: int = 0o600, response: bytes = REFUSAL) -> Iterator[FakeServer]:
    server = FakeServer(socket_path(data), mode, response)
    try:
        yield server
    finally:
        server.close()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


LOCAL_COMMANDS = [
    ("search", QUERY, "-k", "3", "--json"),
    ("stats", "--json"),
    ("ask", QUESTION, "--json"),
]


def comparable(output: str) -> object:
    """JSON output without an answer's timings, scores to 6 decimals: in-process search itself is not bit-for-bit
    the same in two processes (a near-zero dense score comes back as 0.0 or -1.9e-09); text output as it is."""

    def walk(value: object) -> object:
        if isinstance(value, float):
            return round(value, 6)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items() if k != "timings"}
        return value

    try:
        return walk(json.loads(output))
    except ValueError:
        return output


def test_a_stale_socket_is_ignored(data: Path) -> None:
    """A socket left by a killed server (nothing listens): the command works in this process, same output."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with unix_address(socket_path(data)) as address:
        sock.bind(address)
    os.chmod(socket_path(data), 0o600)
    sock.close()  # the file stays, no one listens
    assert socket_path(data).exists()
    served = cli("search", QUERY, "-k", "3", "--json")
    local = cli("search", QUERY, "-k", "3", "--json", "--local")
    assert served[0] == local[0] == 0 and served[2] == local[2], served
    assert comparable(served[1]) == comparable(local[1])
    assert json.loads(served[1])[0]["paper"]["title"] == "Wide Residual Networks"
    assert served[2] == ""  # a stale socket is not worth a notice


@pytest.mark.parametrize("mode", [0o666, 0o660, 0o604])
def test_a_socket_others_may_use_is_never_connected(data: Path, mode: int) -> None:
    with fake_server(data, mode) as server:
        code, out, _ = cli("search", QUERY, "-k", "3", "--json")
    assert code == 0 and json.loads(out)[0]["paper"]["title"] == "Wide Residual Networks"
    assert server.requests == []


def test_a_private_socket_is_asked_with_the_settings_digest_and_a_refusal_falls_back(data: Path) -> None:
    with fake_server(data) as server:
        code, out, err = cli("search", QUERY, "-k", "3", "--json")
    assert code == 0 and comparable(out) == comparable(cli("search", QUERY, "-k", "3", "--json", "--local")[1])
    assert len(server.requests) == 1
    head = server.requests[0].decode()
    assert head.startswith("GET /search?q=wide+residual+networks&k=3&mode=hybrid ")
    assert f"{SETTINGS_HEADER}: {settings_digest(Settings())}" in head
    assert "runs with other settings: working here" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", LOCAL_COMMANDS, ids=lambda c: c[0])
def test_local_never_connects(data: Path, command: tuple[str, ...]) -> None:
    with fake_server(data) as server:
        code, out, err = cli(*command, "--local")
    assert code == 0, err
    assert server.requests == [] and err == ""
    assert json.loads(out)


def test_requests_the_rest_routes_cannot_express_are_worked_out_here(data: Path) -> None:
    """k past GET /search's cap, a two-digit year: the server is not asked, the local command decides."""
    with fake_server(data) as server:
        assert cli("search", QUERY, "-k", "101", "--json")[0] == 0
        assert cli("search", QUERY, "--year", "99", "--json")[0] == 0
        assert cli("ask", QUESTION, "-k", "51", "--json")[0] == 0
    assert server.requests == []


def test_an_error_event_mid_answer_is_the_one_line_error(data: Path) -> None:
    events = sse(("delta", '{"text": "Post-training"}'), ("error", '{"error": "the LLM went away", "status": 503}'))
    with fake_server(data, response=events) as server:
        code, out, err = cli("ask", QUESTION)
    assert len(server.requests) == 1 and server.requests[0].startswith(b"POST /ask ")
    assert code == 1 and out == ""
    assert err == "error: the LLM went away\n"


def test_an_answer_cut_off_mid_stream_is_worked_out_here(data: Path) -> None:
    with fake_server(data, response=sse(("delta", '{"text": "Post-training"}'))) as server:
        code, out, err = cli("ask", QUESTION, "--json")
    assert len(server.requests) == 1
    assert code == 0 and comparable(out) == comparable(cli("ask", QUESTION, "--json", "--local")[1])
    assert "stopped answering: working here" in err


def test_the_settings_digest_ignores_door_settings_only() -> None:
    base = settings_digest(Settings())
    assert settings_digest(Settings(ui_auth="a:b", api_token="t", allowed_hosts=["x.example"], data_dir="/x")) == base
    assert settings_digest(Settings(top_k=7)) != base
    assert settings_digest(Settings(openai_api_key="sk-1")) != settings_digest(Settings(openai_api_key="sk-2"))


# --- end to end: a real `rag serve` ------------------------------------------------------------------------------

SERVED_IMPORTS = (
    "import sys\n"
    "from rag.cli import app\n"
    "try:\n"
    "    app(sys.argv[1:])\n"
    "finally:\n"
    "    heavy = [m for m in ('rag.assistant', 'chromadb', 'torch', 'fastapi') if m in sys.modules]\n"
    "    print('heavy modules:', heavy, file=sys.stderr)\n"
)


def rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `rag` command in a fresh process; it says on stderr which heavy modules it imported."""
    return subprocess.run(
        [sys.executable, "-c", SERVED_IMPORTS, *args], env=env, capture_output=True, text=True, timeout=600
    )


def socket_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, unix_address(path) as address:
        try:
            s.connect(address)
            return True
        except OSError:
            return False


@contextmanager
def rag_serve(data: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    port = free_port()
    cmd = [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)]
    with running(cmd, f"http://127.0.0.1:{port}/health", "rag serve", timeout=180, log=log, env=env) as proc:
        yield proc


def socket_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("CLI request over the socket")]


@pytest.mark.slow
def test_commands_ask_a_running_server_with_the_output_of_local_work(data: Path, tmp_path: Path) -> None:
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": "hash", "RAG_LLM": "extractive"}
    log = tmp_path / "serve.log"
    with rag_serve(data, env, log):
        assert socket_answers(socket_path(data))  # ready before the port is
        assert oct(os.stat(socket_path(data)).st_mode & 0o777) == "0o600"
        pairs = {
            "search text": ("search", "graph neural networks with many layers", "--year", "2018-2020"),
            "search json": ("search", QUERY, "-k", "5", "--mode", "bm25", "--json"),
            "stats": ("stats",),
            "stats json": ("stats", "--json"),
            "ask text": ("ask", QUESTION),
            "ask json": ("ask", QUESTION, "-k", "4", "--json"),
        }
        for name, args in pairs.items():
            served, local = rag(*args, env=env), rag(*args, "--local", env=env)
            assert served.returncode == local.returncode == 0, (name, served.stderr)
            assert comparable(served.stdout) == comparable(local.stdout), name
            assert served.stderr.strip() == "heavy modules: []", (name, served.stderr)
            assert "'rag.assistant'" in local.stderr
        long = "x " * 3000
        served, local = rag("search", long, env=env), rag("search", long, "--local", env=env)
        assert served.returncode == local.returncode == 1
        assert served.stdout == local.stdout == ""
        assert served.stderr.splitlines()[0] == local.stderr.splitlines()[0]
        assert "RAG_MAX_QUESTION_CHARS" in served.stderr.splitlines()[0]
        # other settings than the server's: refused there, worked out here with this process's settings
        other = {**env, "RAG_DENSE_WEIGHT": "0.5"}
        served, local = rag("search", QUERY, "--json", env=other), rag("search", QUERY, "--json", "--local", env=other)
        assert comparable(served.stdout) == comparable(local.stdout)
        assert comparable(served.stdout) != comparable(rag("search", QUERY, "--json", env=env).stdout)
        assert "runs with other settings" in served.stderr
        lines = socket_lines(log)
        assert [line.split(": ", 1)[1] for line in lines] == [
            "GET /search 200",
            "GET /search 200",
            "GET /stats 200",
            "GET /stats 200",
            "POST /ask 200",
            "POST /ask 200",
            "GET /search 400",
            "GET /search refused (other settings)",
            "GET /search 200",
        ], lines
    assert not socket_path(data).exists()  # removed on a clean exit (SIGTERM)


@pytest.mark.slow
def test_a_killed_server_leaves_a_socket_the_cli_ignores_and_the_next_server_replaces(
    data: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBED": "hash", "RAG_LLM": "extractive"}
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    with rag_serve(data, env, first) as proc:
        with rag_serve(data, env, second):  # the socket stays the first server's
            assert "another server answers the CLI" in second.read_text()
            assert rag("stats", env=env).returncode == 0
            assert len(socket_lines(first)) == 1 and socket_lines(second) == []
        assert socket_answers(socket_path(data))  # the second server's exit left it alone
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert socket_path(data).exists() and not socket_answers(socket_path(data))
    served, local = rag("search", QUERY, "--json", env=env), rag("search", QUERY, "--json", "--local", env=env)
    assert served.returncode == 0 and comparable(served.stdout) == comparable(local.stdout)
    assert "'rag.assistant'" in served.stderr  # worked out in its own process
    third = tmp_path / "third.log"
    with rag_serve(data, env, third):
        assert comparable(rag("search", QUERY, "--json", env=env).stdout) == comparable(local.stdout)
        assert len(socket_lines(third)) == 1
