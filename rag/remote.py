"""The CLI's way to a running server: `rag serve` and `rag chat` answer the REST routes on a Unix socket in the data
dir too (`rag.api.unix_socket`), and `rag search`, `ask` and `stats` ask them there instead of loading the index and
the models themselves.

Only light modules are imported here (no index, no model, no web framework), so a command answered by the server
starts in a fraction of a second. Anything that stops the server from answering (no socket, a stale one, a socket of
another user or mode, another user's process, a server with other settings, a request the REST routes cannot
express, a server that dies mid-answer) raises `NotServed`, and the command does the work in its own process, with
the same output.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import socket
import stat
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr

from rag.config import Settings
from rag.errors import RagError
from rag.types import Answer, Hit, IndexStats

SOCKET_NAME = "serve.sock"
"""The socket a serving process listens on, in the data dir (mode 0600: only its user can connect)."""
LOCK_NAME = "serve.lock"
"""Held (flock) by the one serving process that owns the socket, for as long as it runs."""
SETTINGS_HEADER = "X-Rag-Settings"
"""The client's `settings_digest`: a server with other settings refuses (409), so the answer is the one the client
would have computed itself."""
DOOR_ONLY = ("data_dir", "ui_", "api_", "allowed_hosts")
"""Settings (names or prefixes) that only shape a door (the UI, the REST API on its port): they do not change a
search, an answer or the stats, so a CLI without them still uses the server. The data dir is the socket's place."""
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 600.0
_MAX_PATH = 100  # sun_path holds 108 bytes on Linux (104 on macOS)


class NotServed(Exception):
    """The server cannot answer this command; `notice` says why when the user should know (else it is silent:
    no server, or a stale socket)."""

    def __init__(self, notice: str = "") -> None:
        super().__init__(notice)
        self.notice = notice


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


def settings_digest(settings: Settings) -> str:
    """A digest of every setting that can change what the server answers (secrets included, hashed)."""
    values: dict[str, Any] = {}
    for name in sorted(type(settings).model_fields):
        if name.startswith(DOOR_ONLY):
            continue
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        values[name] = value
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


@contextlib.contextmanager
def unix_address(path: Path) -> Iterator[str]:
    """An address for bind or connect that names `path`: the path itself, or when it is too long for a socket
    address, the same file reached through an open descriptor of its folder (/proc/self/fd/N/NAME, Linux)."""
    if len(os.fsencode(path)) <= _MAX_PATH or not Path("/proc/self/fd").is_dir():
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def owned_socket(path: Path) -> bool:
    """Whether `path` is a socket of this user that no one else may use (mode 0600 or stricter)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISSOCK(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def _peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end (Linux), None where the platform cannot tell."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return uid


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the Unix socket at `path`, to a process of this user only."""

    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=CONNECT_TIMEOUT)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            with unix_address(self.socket_path) as address:
                sock.connect(address)
            uid = _peer_uid(sock)
            if uid is not None and uid != os.getuid():
                raise NotServed(f"{self.socket_path} is served by another user's process: not using it")
            sock.settimeout(READ_TIMEOUT)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class Server:
    """A serving process on this data dir, asked over its socket."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.settings = settings
        self.digest = settings_digest(settings)

    def _send(self, method: str, url: str, body: dict[str, Any] | None = None) -> http.client.HTTPResponse:
        """The response to one request (status 200), or `NotServed` / the server's one-line error as a RagError."""
        conn = _UnixConnection(self.path)
        headers = {SETTINGS_HEADER: self.digest, "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, url, body=payload, headers=headers)
            response = conn.getresponse()
        except NotServed:
            conn.close()
            raise
        except (OSError, http.client.HTTPException):
            conn.close()  # no server behind the socket (a stale one), or it went away
            raise NotServed() from None
        if response.status == 200:
            return response
        try:
            message = str(json.loads(response.read()).get("error") or "")
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            message = ""
        finally:
            conn.close()
        if response.status == 409:
            raise NotServed(f"the server on {self.settings.data_dir} runs with other settings: working here")
        if response.status in (400, 500, 503) and message:
            raise RagError(message)
        raise NotServed(f"the server on {self.settings.data_dir} answered {response.status}: working here")

    def _json(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        response = self._send(method, url, body)
        try:
            return json.loads(response.read())
        except (OSError, ValueError, http.client.HTTPException):
            raise NotServed(f"the server on {self.settings.data_dir} stopped answering: working here") from None
        finally:
            response.close()

    def stats(self) -> IndexStats:
        stats = IndexStats.model_validate(self._json("GET", "/stats"))
        return stats.model_copy(update={"data_dir": str(self.settings.data_dir)})  # named as this process names it

    def search(
        self, query: str, k: int, *, mode: str, year: tuple[int, int] | None, sources: Sequence[str] | None
    ) -> list[Hit]:
        if not query or not 1 <= k <= 100:
            raise NotServed()  # outside what GET /search takes: the local search decides
        params: list[tuple[str, str]] = [("q", query), ("k", str(k)), ("mode", mode)]
        params += [("year", _years(year))] if year else []
        params += [("source", s) for s in sources or ()]
        return [Hit.model_validate(h) for h in self._json("GET", f"/search?{urlencode(params)}")]

    def stream(
        self,
        question: str,
        *,
        k: int | None,
        year: tuple[int, int] | None,
        sources: Sequence[str] | None,
        backend: str | None,
    ) -> Iterator[str | Answer]:
        """The answer's draft deltas, then the checked `Answer` (server-sent events of POST /ask). The request is
        sent before this returns, so a server that cannot answer raises here, before anything is shown."""
        if not question or (k is not None and not 1 <= k <= 50):
            raise NotServed()
        body: dict[str, Any] = {"question": question, "k": k, "sources": sources, "backend": backend, "stream": True}
        if year:
            body["year"] = _years(year)
        return self._events(self._send("POST", "/ask", body))

    def _events(self, response: http.client.HTTPResponse) -> Iterator[str | Answer]:
        try:
            for event, data in _sse(response):
                if event == "delta":
                    yield json.loads(data)["text"]
                elif event == "answer":
                    yield Answer.model_validate_json(data)
                    return
                elif event == "error":
                    raise RagError(json.loads(data)["error"])
        except (OSError, ValueError, http.client.HTTPException):
            pass
        finally:
            response.close()
        raise NotServed(f"the server on {self.settings.data_dir} stopped answering: working here")


def _years(year: tuple[int, int]) -> str:
    first, last = year
    if not 1000 <= first <= last <= 9999:
        raise NotServed()  # GET /search and POST /ask take YEAR or FROM-TO only: the local parser decides the rest
    return f"{first}-{last}"


def _sse(response: http.client.HTTPResponse) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream."""
    event, data = "message", list[str]()
    for raw in response:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


def find_server(settings: Settings) -> Server | None:
    """The server on `settings.data_dir`, when its socket is there and safe to use; whether it is alive is known at
    the first request."""
    path = socket_path(settings.data_dir)
    return Server(path, settings) if owned_socket(path) else None
