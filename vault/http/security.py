"""Browser-facing defences that sit in front of every route (a plain ASGI middleware).

- DNS rebinding: a page on evil.example can make its own name resolve to 127.0.0.1 and then
  talk to this server as "same origin". Its requests still carry `Host: evil.example`, so only
  loopback names (and names the operator configured) are served.
- Cross-site requests: a page elsewhere can POST to 127.0.0.1 (a "simple" form post needs no
  CORS preflight). The SameSite=Strict cookie already stays home, but a Bearer-less endpoint such
  as /register or /login would still run, so state-changing requests whose `Origin` (or
  `Sec-Fetch-Site`) says another site are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from vault.http import contract

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


_HOST = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?")


def split_host(host: str) -> str:
    """The name part of a Host header value (`[::1]:8000` -> `[::1]`), lower case.

    Strict: a name (or a bracketed IPv6 address) and an optional port, nothing else, so
    `localhost:80@evil.com` or `[::1].evil.com` give "" and are refused.
    """
    m = _HOST.fullmatch(host.strip().lower())
    return m.group("name").rstrip(".") if m else ""


class GuardMiddleware:
    """Refuse (403) foreign `Host` headers and cross-site state-changing requests."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = LOOPBACK_NAMES | {split_host(h) for h in allowed_hosts if h}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        hosts = [v for k, v in scope["headers"] if k.lower() == b"host"]
        host = headers.get("host", "") if len(hosts) == 1 else ""  # two Host headers: refuse
        if split_host(host) not in self.allowed:
            address, port = (scope.get("server") or ("127.0.0.1", 8000))[:2]
            shown = f"[{address}]" if ":" in str(address) else address
            url = f"http://{shown}:{port}/"
            body = contract.FORBIDDEN_HOST.format(host=host, url=url)
            await PlainTextResponse(body, 403)(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin")
            cross = headers.get("sec-fetch-site") == "cross-site"
            if cross or (origin is not None and not self._same_origin(origin, host)):
                body = contract.FORBIDDEN_ORIGIN.format(origin=origin or "cross-site")
                await PlainTextResponse(body, 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _same_origin(self, origin: str, host: str) -> bool:
        """An Origin is ours when it names exactly the host:port the request was sent to."""
        scheme, sep, netloc = origin.strip().lower().partition("://")
        if not sep or scheme not in ("http", "https"):
            return False  # "null" (sandboxed frames, file://) and garbage
        return netloc.rstrip("/") == host.strip().lower()
