"""Real OpenAI-compatible servers for tests: `llama_cpp.server` serving the bundled SmolLM2 on 127.0.0.1,
and a recording proxy that keeps every request body it forwards (what the server really received)."""

from __future__ import annotations

import http.client
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from rag.generation.local import smollm2_path
from tests.conftest import free_port, running
from tests.gateway import BackgroundServer


@contextmanager
def llama_server(n_ctx: int = 4096) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; yields its /v1 base URL."""
    port = free_port()
    launch = (  # llama_cpp.server as `python -m` runs it, without the weight repacking that crashes some VMs
        "import runpy; from rag.generation.local import disable_weight_repacking; disable_weight_repacking(); "
        "runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)"
    )
    cmd = [sys.executable, "-c", launch, "--model", smollm2_path()]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx)]
    cmd += ["--interrupt_requests", "False"]  # by default a new request cuts the stream in progress off
    url = f"http://127.0.0.1:{port}/v1"
    with running(cmd, f"{url}/models", "llama_cpp.server"):
        yield url


class RecordingProxy(BackgroundServer):
    """Forwards every request to `upstream` unchanged, streams the response back, and keeps each POST body."""

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.bodies: list[dict] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}{self.prefix}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: RecordingProxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._forward(None)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.bodies.append(json.loads(body))
        self._forward(body)

    def _forward(self, body: bytes | None) -> None:
        conn = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port, timeout=300)
        headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Connection", "close")  # the body ends when the connection does
        self.end_headers()
        while chunk := response.read1(65536):
            self.wfile.write(chunk)
            self.wfile.flush()
        conn.close()
        self.close_connection = True
