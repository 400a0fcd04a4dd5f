"""Deadlines for slow and idle clients and a cap on connections, added to uvicorn's protocol.

Every open connection costs a file descriptor, and a process has a limited number (often
1024). uvicorn (0.54, httptools) closes a kept-alive connection after `timeout_keep_alive`,
but arms that timer only after a response: a connection that sends nothing, or sends its
head a byte at a time, or stalls in its body, stays open for ever. Its `limit_concurrency`
is checked only once a head is complete, and then answers 503 to the newcomer while the
stalled connections keep their slots. A few hundred such clients therefore kept everyone
else out. `_Protocol` adds what is missing, with as little of uvicorn's machinery touched as
possible (it overrides parser callbacks and keeps uvicorn's own keep-alive timer).
"""

from __future__ import annotations

import asyncio
import math
import resource
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vault.http import contract

FD_RESERVE = 256
"""File descriptors kept for the vault itself (SQLite, temp files, objects being sent)."""
MAX_HEAD = 64 * 1024
"""Bytes of request line and headers at most (httptools has no limit of its own)."""
MIN_BODY_RATE = 500
"""Bytes per second a request body must average, beyond its first `body_timeout` seconds."""


@dataclass(frozen=True)
class Limits:
    """How long a client may keep the server waiting, and how many may be connected at once.

    uvicorn has a keep-alive timeout but nothing for a connection that never finishes (or
    never starts) its request, and its `limit_concurrency` answers 503 to newcomers while
    such connections hold every slot. So: a deadline for each request head, a minimum rate
    for bodies, and at the cap a newcomer takes the place of the connection idle longest.
    Each value can be set with VAULT_HTTP_<NAME in capitals> (docs/API.md).
    """

    header_timeout: float = 10.0
    """Seconds from a connection's opening (or a request's first byte) to the end of the head."""
    idle_timeout: float = 5.0
    """Seconds a kept-alive connection may wait for its next request (uvicorn's keep-alive)."""
    body_timeout: float = 20.0
    """Seconds a request body may take, plus one per MIN_BODY_RATE bytes received."""
    max_connections: int = 1000
    """Open connections at most (lowered to what the open-file limit allows)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Limits:
        """The defaults, with any VAULT_HTTP_* override; ValueError names a bad one."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f"VAULT_HTTP_{f.name.upper()}"
            if key in environ:
                kind: Callable[[str], Any] = int if f.name == "max_connections" else float
                try:
                    values[f.name] = kind(environ[key])
                except ValueError:
                    values[f.name] = 0
                if not 0 < values[f.name] < math.inf:
                    what = "whole number" if kind is int else "number of seconds"
                    raise ValueError(f"{key} must be a positive {what}")
        return cls(**values)


def fit_to_open_files(limits: Limits) -> Limits:
    """`limits` with the cap lowered to what the open-file limit allows, once that limit
    is raised as far as it goes (its soft value to the hard one: connections are files)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard and hard != resource.RLIM_INFINITY:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # pragma: no cover - a platform that refuses
            pass
    cap = min(limits.max_connections, max(soft // 2, soft - FD_RESERVE))
    return replace(limits, max_connections=cap)


def _raw_answer(status: str, body: str) -> bytes:
    """A complete response written straight to the socket, before or instead of the app."""
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n{body}"
    ).encode()


_BUSY = _raw_answer("503 Service Unavailable", contract.SERVER_BUSY)
_HEAD_TOO_LARGE = _raw_answer(
    "431 Request Header Fields Too Large", contract.HEAD_TOO_LARGE.format(limit=MAX_HEAD)
)


class _Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the deadlines and the cap of `Limits`."""

    limits = Limits()
    idle_since: float | None = None
    """When the connection last had no request in progress (None while it has one)."""
    _timer: asyncio.TimerHandle | None = None
    _in_head = True
    """Between the end of the previous message (or the opening) and the end of a head."""
    _head_bytes = 0
    _body_start = 0.0
    _body_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.idle_since = self.loop.time()
        self._arm(self.limits.header_timeout, self._close)
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._arm(None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Counted before parsing: bytes after a message that ends inside `data` are not
        # counted as head bytes, so the count may miss part of one read, never more.
        if self._in_head:
            self._head_bytes += len(data)
        else:
            self._body_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > MAX_HEAD and not self.transport.is_closing():
            if self.cycle is None or self.cycle.response_complete:
                self.transport.write(_HEAD_TOO_LARGE)
            self._close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._timer is None:  # a kept-alive connection's next request: a fresh deadline
            self._arm(self.limits.header_timeout, self._close)

    def on_headers_complete(self) -> None:
        self._in_head, self.idle_since = False, None
        self._body_start, self._body_bytes = self.loop.time(), 0
        self._arm(self.limits.body_timeout, self._check_body)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._arm(None)
        self._in_head, self._head_bytes = True, 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # now idle (not starting a pipelined one)
            self.idle_since = self.loop.time()

    def _arm(self, delay: float | None, callback: Callable[[], None] = lambda: None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None if delay is None else self.loop.call_later(delay, callback)

    def _close(self) -> None:
        self._arm(None)
        self.transport.close()

    def _check_body(self) -> None:
        """Close a connection whose body arrives slower than the limits allow."""
        now = self.loop.time()
        if self.flow.read_paused or self.cycle.waiting_for_100_continue:
            self._body_start, self._body_bytes = now, 0  # the app is the slow one: start again
        allowed = self.limits.body_timeout + self._body_bytes / MIN_BODY_RATE
        left = self._body_start + allowed - now
        if left > 0:
            self._arm(left, self._check_body)
        else:
            self._close()

    def _make_room(self) -> None:
        """Over the cap: close the connection idle longest, or refuse this one if all work."""
        idle = [
            c
            for c in self.connections
            if c is not self
            and getattr(c, "idle_since", None) is not None
            and not c.transport.is_closing()
        ]
        if idle:
            min(idle, key=lambda c: c.idle_since).transport.close()  # type: ignore[attr-defined]
        else:
            self.transport.write(_BUSY)
            self.transport.close()


def protocol_for(limits: Limits) -> type[_Protocol]:
    """The protocol class uvicorn should use (uvicorn builds one instance per connection)."""
    return type("VaultProtocol", (_Protocol,), {"limits": limits})
