"""Which web requests a door serves: Host names it answers to and same-origin state changes.

One ASGI middleware for the REST API (`rag serve`) and the chat UI (`rag chat`, and /ui under `rag serve --ui`).

- **Host allow-list** (against DNS rebinding: a web page whose name the attacker re-points at 127.0.0.1 talks to
  the server as a same-origin page, with its own name in `Host`): loopback names, the name the server binds to,
  and the names in `RAG_ALLOWED_HOSTS`, any port. Anything else is refused (400) before any route runs.
- **Origin check** (against cross-site requests from a page in the user's browser: forms and uploads need no CORS
  preflight, and gradio allows any origin to read when the Host is not a loopback name): a request whose `Origin`
  is another origin is refused (403), whatever its method. A state-changing one (POST, PUT, PATCH, DELETE, and a
  WebSocket handshake) without `Origin` is judged by `Sec-Fetch-Site`, then `Referer`. A request with none of them
  is not from a browser page (curl, scripts, gradio_client) and passes on to the door's own checks (token, login).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SHARE_SUFFIX = ".gradio.live"  # the names of gradio's share links (`rag chat --share`)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_NAME = re.compile(r"[a-z0-9._-]+")  # a DNS name or an IPv4 address


def parse_host(value: str) -> tuple[str, int | None] | None:
    """(name, port) of a Host header value, the name lower-cased ('[::1]:8000' -> ('::1', 8000)); None if
    malformed."""
    value = value.strip().lower()
    if value.startswith("["):  # an IPv6 address: [::1] or [::1]:8000
        name, closed, rest = value[1:].partition("]")
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
        if not closed or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    else:
        name, colon, after = value.partition(":")
        if not _NAME.fullmatch(name):
            return None
        port = after if colon else None
    if port is None:
        return name, None
    return (name, int(port)) if port.isascii() and port.isdigit() and len(port) <= 5 else None


def _bare(name: str) -> str:
    name = name.strip().lower()
    return name[1:-1] if name.startswith("[") and name.endswith("]") else name


def allowed_hosts(bind_host: str, extra: Iterable[str] = (), *, share: bool = False) -> frozenset[str]:
    """The names a server bound to `bind_host` answers to: loopback names, `bind_host`, `extra`; with `share`, the
    names of gradio share links too (as the pattern `*.gradio.live`)."""
    names = set(LOOPBACK_NAMES) | {_bare(bind_host)} | {_bare(e) for e in extra if e.strip()}
    if share:
        names.add("*" + SHARE_SUFFIX)
    return frozenset(names)


def _name_allowed(name: str, allowed: frozenset[str]) -> bool:
    return name in allowed or any(a.startswith("*.") and name.endswith(a[1:]) for a in allowed)


def _origin_of(url: str) -> tuple[str, int] | None:
    """(host name, port) of an absolute http(s)/ws(s) URL; None for `null`, other schemes or garbage."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def same_origin(url: str, host: str) -> bool:
    """Whether `url` (an Origin or Referer value) names the server that `host` (the Host header) names: the same
    name and port (a port left out is the default of the URL's scheme)."""
    origin, server = _origin_of(url), parse_host(host)
    if origin is None or server is None:
        return False
    scheme = urlsplit(url.strip()).scheme.lower()
    return origin == (server[0], server[1] or _DEFAULT_PORTS[scheme])


def refusal(scope: Scope, allowed: frozenset[str]) -> tuple[int, str] | None:
    """(status, one-line message) when a request must be refused, else None."""
    headers = Headers(scope=scope)
    host = headers.get("host", "")
    server = parse_host(host)
    if server is None:
        return 400, "missing or malformed Host header"
    name = server[0]
    if not _name_allowed(name, allowed):
        return 400, (
            f"this server does not answer to the name {name!r} in the Host header "
            "(add it to RAG_ALLOWED_HOSTS if it is this server's name)"
        )
    if (origin := headers.get("origin")) is not None:  # any method: a foreign page's fetch or form
        if same_origin(origin, host):
            return None
        return 403, f"cross-origin request refused: Origin {origin[:100]!r} is not this server"
    if scope["type"] == "http" and scope.get("method", "GET").upper() not in STATE_CHANGING:
        return None  # a navigation, an <img>: nothing changes and the page cannot read the answer
    if (site := headers.get("sec-fetch-site")) is not None:
        if site.lower() in ("same-origin", "none"):
            return None
        return 403, f"cross-site request refused (Sec-Fetch-Site: {site[:30]})"
    if (referer := headers.get("referer")) is not None and not same_origin(referer, host):
        return 403, "cross-origin request refused: the Referer is not this server"
    return None


class WebGuard:
    """ASGI middleware: refuses requests for other Host names (400) and cross-origin requests (403) with a one-line
    JSON error `{"error": ...}`, before anything else runs."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(_bare(h) for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or (problem := refusal(scope, self.hosts)) is None:
            await self.app(scope, receive, send)
            return
        status, message = problem
        log.warning("refused %s %s: %s", scope.get("method", "WEBSOCKET"), scope.get("path", ""), message)
        if scope["type"] == "websocket":  # closing before accepting answers the handshake with 403
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
