"""Downloads: send the core's verified stream of a stored object, with ranges.

The rules (check the hash while streaming, hold the last chunk back until the whole
object's hash is known, quarantine on a mismatch, vouch on success, skip the hash for an
object known intact) are the core's: `vault.core.downloads.verified_chunks`. This module
only moves its chunks: one thread per download drives that iterator and hands the chunks to
the event loop through a short queue, and the loop sends each as it comes. On a mismatch the
core raises instead of yielding the last chunk, the response is aborted, and the client sees
a transfer shorter than its Content-Length (curl: "transfer closed with N bytes remaining").

Ranges (206/416) are served the same way: the core still hashes the whole object and yields
only the range. A client that goes away stops the reading thread.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import threading
import unicodedata
from typing import Any
from urllib.parse import quote

import anyio
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from vault.core import downloads as core_downloads
from vault.core.errors import Cancelled
from vault.core.names import safe_component
from vault.core.vault import Vault
from vault.http import contract

CHUNK = core_downloads.CHUNK
"""Largest step read, hashed and sent."""
MIN_CHUNK = 256 << 10
QUEUE_DEPTH = 2
"""Chunks read ahead of the socket, per download."""
BUDGET = 32 << 20
"""Memory all downloads together may hold: with many at once, each takes smaller steps
(each holds about QUEUE_DEPTH + 2 chunks: queued, held back, in the socket buffer, being read)."""

_active = 0
"""Downloads being sent right now (changed on the event loop, read by the reader threads)."""


def chunk_size() -> int:
    share = BUDGET // (max(1, _active) * (QUEUE_DEPTH + 2))
    return max(MIN_CHUNK, min(CHUNK, share))


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII `filename=` fallback and, if needed, RFC 5987 `filename*=`.

    Clients save under either form, so each is one harmless path component, the fallback
    checked after its reduction to ASCII (NFKD turns `／` into `/` and `．．` into `..`).
    """
    full = safe_component(name)
    ascii_name = unicodedata.normalize("NFKD", full).encode("ascii", "ignore").decode()
    fallback = safe_component(
        "".join("_" if c in '"\\%;' or not c.isprintable() else c for c in ascii_name)
    )
    if fallback == full:
        return f'attachment; filename="{full}"'
    stem, dot, ext = fallback.rpartition(".")
    if not dot:
        stem, ext = fallback, ""
    if not any(c.isalnum() for c in stem):  # nothing left of the name but its extension
        fallback = "download" + (dot + ext if ext else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(full, safe='')}"


def etag(sha256: str) -> str:
    return f'"{sha256}"'


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """(start, end) for one satisfiable byte range; None to send it all; False if unsatisfiable.

    Only a single range is honoured; several ranges, or a header we cannot parse, are ignored
    (RFC 9110 allows answering them with the whole content).
    """
    if header is None:
        return None
    m = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if m is None or (not m[1] and not m[2]):
        return None
    if not m[1]:  # suffix: the last N bytes
        n = int(m[2])
        if n == 0 or size == 0:
            return False
        return max(0, size - n), size
    start = int(m[1])
    end = min(int(m[2]) + 1, size) if m[2] else size
    if m[2] and int(m[2]) < start:
        return None  # invalid range: ignore
    if start >= size:
        return False
    return start, end


def response(
    v: Vault, content: core_downloads.Content, headers: dict[str, str], method: str
) -> Response:
    """The answer to a download request: the bytes (200/206) or 416."""
    fd = content.fd
    size = os.fstat(fd).st_size
    sha = content.version.sha256
    base = {
        "accept-ranges": "bytes",
        "etag": etag(sha),
        "content-disposition": content_disposition(content.entry.name),
    }
    rng = parse_range(headers.get("range"), size)
    if_range = headers.get("if-range")
    if if_range is not None and if_range.strip() != etag(sha):
        rng = None
    if rng is False:
        os.close(fd)
        body = contract.RANGE_NOT_SATISFIABLE.format(size=size)
        return PlainTextResponse(body, 416, headers={**base, "content-range": f"bytes */{size}"})
    media = mimetypes.guess_type(content.entry.name)[0] or "application/octet-stream"
    if rng is None:
        return VerifiedFile(v, content, 0, size, 200, base, media)
    start, end = rng
    base["content-range"] = f"bytes {start}-{end - 1}/{size}"
    return VerifiedFile(v, content, start, end, 206, base, media)


class _Reader(threading.Thread):
    """Drives the core's verified stream of [start, end); queues its chunks for the loop."""

    def __init__(self, v: Vault, content: core_downloads.Content, start: int, end: int) -> None:
        super().__init__(name="vault-download", daemon=True)
        self.v, self.content, self.lo, self.hi = v, content, start, end
        self.loop = asyncio.get_running_loop()
        self.out: asyncio.Queue[Any] = asyncio.Queue()
        self.slots = threading.Semaphore(QUEUE_DEPTH)
        self.stopped = False

    def _put(self, item: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.out.put_nowait, item)
        except RuntimeError:
            self.stopped = True

    def _go_on(self, done: int) -> None:
        if self.stopped:  # the client left: stop reading (and hashing) the object
            raise Cancelled()

    def run(self) -> None:
        chunks = core_downloads.verified_chunks(
            self.v, self.content, self.lo, self.hi, chunk=chunk_size, progress=self._go_on
        )
        try:
            for data in chunks:
                self.slots.acquire()
                if self.stopped:
                    return
                self._put(data)
            self._put(("done", None))
        except Cancelled:
            pass
        except BaseException as e:
            self._put(("error", e))
        finally:
            chunks.close()  # closes the object's descriptor
            self.v.close()  # this thread's database connection, if vouching opened one

    def stop(self) -> None:
        self.stopped = True
        self.slots.release()


class VerifiedFile(Response):
    """Send [start, end) of an open object as the core's verified stream yields it."""

    def __init__(
        self,
        v: Vault,
        content: core_downloads.Content,
        start: int,
        end: int,
        status: int,
        headers: dict[str, str],
        media_type: str,
    ) -> None:
        self.v, self.content = v, content
        self.start, self.end = start, end
        self.status_code = status
        self.media_type = media_type
        self.background = None
        self.init_headers({**headers, "content-length": str(end - start)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope["method"] == "HEAD":
            os.close(self.content.fd)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        global _active
        _active += 1
        reader = _Reader(self.v, self.content, self.start, self.end)
        reader.start()
        try:
            async with anyio.create_task_group() as tg:

                async def watch() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tg.cancel_scope.cancel()

                tg.start_soon(watch)
                await self._send(reader, send)
                tg.cancel_scope.cancel()
        finally:
            _active -= 1
            reader.stop()

    async def _send(self, reader: _Reader, send: Send) -> None:
        while not isinstance(item := await reader.out.get(), tuple):
            await send({"type": "http.response.body", "body": item, "more_body": True})
            reader.slots.release()
        kind, value = item
        if kind == "error":
            # Raising after the response started makes the server drop the connection: the
            # client gets fewer bytes than Content-Length announced, never wrong complete bytes.
            raise value
        await send({"type": "http.response.body", "body": b"", "more_body": False})
