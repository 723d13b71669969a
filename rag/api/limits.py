"""Request body caps per route: a body over its route's cap is refused (413, one line naming the setting) before it
is parsed: at once when its Content-Length says so, else as soon as the bytes received pass the cap."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.config import Settings


def body_caps(settings: Settings) -> dict[str, tuple[int, str]]:
    """Path -> (bytes, the one-line refusal) for every route that reads a body."""
    return {
        "/ask": (
            settings.api_max_body_kb * 1024,
            f"the request body is larger than {settings.api_max_body_kb:,} KB (RAG_API_MAX_BODY_KB)",
        ),
        "/ingest": (
            settings.api_max_upload_mb * 1_000_000,
            f"uploads are limited to {settings.api_max_upload_mb} MB (RAG_API_MAX_UPLOAD_MB)",
        ),
    }


class BodyCapMiddleware:
    """Wraps `receive` on capped paths: reading past the cap raises HTTP 413, which the app's error handler turns
    into `{"error": ...}` (FastAPI re-raises HTTP errors met while reading a body)."""

    def __init__(self, app: ASGIApp, *, caps: dict[str, tuple[int, str]]) -> None:
        self.app = app
        self.caps = caps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap = self.caps.get(scope["path"]) if scope["type"] == "http" else None
        if cap is None:
            await self.app(scope, receive, send)
            return
        limit, message = cap
        declared = Headers(scope=scope).get("content-length", "")
        received = 0

        async def capped() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > limit:  # not a byte of it is read
                raise HTTPException(413, message)
            item = await receive()
            if item["type"] == "http.request":
                received += len(item.get("body", b""))
                if received > limit:
                    raise HTTPException(413, message)
            return item

        await self.app(scope, capped, send)
