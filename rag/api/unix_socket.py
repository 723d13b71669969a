"""The REST routes on a Unix socket in the data dir, for the CLI (`rag.remote`): `rag serve` and `rag chat` serve it
beside their port, so `rag search`, `ask` and `stats` in a fresh process use the index and the models already loaded.

The socket is created mode 0600 before it listens (only this user can connect; the CLI also checks the peer's user),
is removed on a clean exit, and belongs to one process per data dir: the one holding the flock on `serve.lock`. A
second server on the same data dir leaves it alone; a socket left by a killed server refuses connections, the CLI
then works on its own, and the next server replaces it. No TCP port is opened for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api.app import _install_error_handlers, build_router
from rag.api.limits import BodyCapMiddleware, body_caps
from rag.assistant import Assistant
from rag.remote import LOCK_NAME, SETTINGS_HEADER, settings_digest, socket_path, unix_address

START_TIMEOUT = 30.0


class SameSettings:
    """Refuses (409) a client whose settings differ from the server's (it would have answered otherwise), and says on
    stderr what it answered for the CLI."""

    def __init__(self, app: ASGIApp, *, digest: str) -> None:
        self.app = app
        self.digest = digest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        what = f"{scope['method']} {scope['path']}"
        if Headers(scope=scope).get(SETTINGS_HEADER) != self.digest:
            print(f"CLI request over the socket: {what} refused (other settings)", file=sys.stderr, flush=True)
            response = JSONResponse({"error": "this server runs with other settings"}, status_code=409)
            await response(scope, receive, send)
            return

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                print(f"CLI request over the socket: {what} {message['status']}", file=sys.stderr, flush=True)
            await send(message)

        await self.app(scope, receive, logged)


def socket_app(assistant: Assistant) -> FastAPI:
    """The API's routes over `assistant` for the socket: no bearer token (the socket's mode admits only this user),
    no host guard (no browser reaches a Unix socket), the same body caps and error shapes."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.api_token = None
    app.state.assistant = assistant
    _install_error_handlers(app)
    app.include_router(build_router(assistant))
    app.add_middleware(BodyCapMiddleware, caps=body_caps(assistant.settings))
    app.add_middleware(SameSettings, digest=settings_digest(assistant.settings))
    return app


def _bind(path: Path) -> socket.socket:
    """A socket bound at `path` with mode 0600, not yet listening (so no one connects before the mode is set)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with unix_address(path) as address:
            sock.bind(address)
        os.chmod(path, 0o600)
    except BaseException:
        sock.close()
        raise
    return sock


@contextlib.contextmanager
def serving_socket(assistant: Assistant, *, say: Any = None) -> Iterator[Path | None]:
    """Serve the API routes on the data dir's socket (in a thread) for the duration of the block; yields the path,
    or None when another process serves it or the socket cannot be made (the server then runs without it)."""
    import uvicorn

    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    data_dir = assistant.settings.data_dir
    path = socket_path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = (data_dir / LOCK_NAME).open("a")
    except OSError as exc:
        say(f"no CLI socket in {data_dir}: {exc.strerror or exc}")
        yield None
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            say(f"another server answers the CLI on {data_dir}: not taking its socket")
            yield None
            return
        try:
            path.unlink(missing_ok=True)  # left by a server that was killed (we hold the lock: it is not serving)
            sock = _bind(path)
        except OSError as exc:
            say(f"no CLI socket at {path}: {exc.strerror or exc}")
            yield None
            return
        inode = os.stat(path).st_ino
        # no log_config / log_level: uvicorn leaves the process's logging (the port's server's) as it is
        config = uvicorn.Config(socket_app(assistant), log_config=None, log_level=None, lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="rag-cli-socket", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            yield path
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == inode:
                    path.unlink()


@contextlib.contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the process through SystemExit (so `finally` blocks run and the socket is removed) instead of
    killing it where it stands; the handler in place before is restored after."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)
