"""A reverse proxy on 127.0.0.1 in front of a real server (Chroma, llama.cpp): it forwards every request unchanged,
records what came in, and on demand requires a bearer token (as an auth proxy in front of Chroma would) or starts
failing (a server that dies mid-ingest)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Seen:
    """One request as the gateway received it."""

    method: str
    path: str
    authorization: str | None
    body: bytes


class BackgroundServer(ThreadingHTTPServer):
    """A loopback HTTP server that serves in a background thread for the duration of a `with` block."""

    daemon_threads = True

    @contextmanager
    def running(self) -> Iterator[Self]:
        """Serve in a background thread for the duration of the block."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.shutdown()
            self.server_close()


class Gateway(BackgroundServer):
    """Forwards to `upstream`; `token` set = requests without `Authorization: Bearer <token>` get 401;
    `fail_after` set = that many more POSTs go through, every later one gets 503."""

    def __init__(self, upstream: str, *, token: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.token = token
        self.fail_after: int | None = None
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.url = f"http://127.0.0.1:{self.server_address[1]}{parts.path.rstrip('/')}"

    def posts(self, path_end: str) -> list[dict]:
        """The JSON bodies of the POSTs whose path ends with `path_end`."""
        return [json.loads(s.body) for s in self.seen if s.method == "POST" and s.path.endswith(path_end)]

    def _verdict(self, method: str, authorization: str | None) -> int | None:
        """The status to answer instead of forwarding, if any."""
        with self.lock:
            if self.token is not None and authorization != f"Bearer {self.token}":
                return 401
            if self.fail_after is not None and method == "POST":
                if self.fail_after <= 0:
                    return 503
                self.fail_after -= 1
        return None


class _Handler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization")
        gw = self.server
        with gw.lock:
            gw.seen.append(Seen(self.command, self.path, auth, body))
            gw.in_flight += 1
            gw.max_in_flight = max(gw.max_in_flight, gw.in_flight)
        try:
            status = gw._verdict(self.command, auth)
            if status is not None:
                self._reply(status, {"error": http.client.responses[status]})
            else:
                self._forward(body)
        finally:
            with gw.lock:
                gw.in_flight -= 1

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _forward(self, body: bytes) -> None:
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=600)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True
