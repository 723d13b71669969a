"""Bearer-token protection: checked before a request body is read, compared in constant time."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

UNAUTHORIZED = "missing or wrong bearer token (send Authorization: Bearer $RAG_API_TOKEN)"
bearer = HTTPBearer(auto_error=False, description="The server's RAG_API_TOKEN, when it has one.")


def token_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token` as a bearer token (constant-time comparison)."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode())


class BearerAuthMiddleware:
    """Refuses (401) every HTTP request without the token before its body is read (an unauthenticated upload is
    never received), except under `open_prefixes` (the API docs; the mounted UI, which has its own login)."""

    def __init__(self, app: ASGIApp, *, token: str, open_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.token = token
        self.open_prefixes = open_prefixes

    def _is_open(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.open_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        if token_matches(Headers(scope=scope).get("authorization"), self.token):
            await self.app(scope, receive, send)
            return
        response = JSONResponse({"error": UNAUTHORIZED}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


def require_token(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> None:  # noqa: B008
    """The same check as a route dependency: documents the scheme in OpenAPI and guards each route on its own."""
    token: str | None = request.app.state.api_token
    if token is None:
        return
    given = f"Bearer {credentials.credentials}" if credentials else None
    if not token_matches(given, token):
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
