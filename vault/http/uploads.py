"""Streaming multipart uploads: from the socket into the store, never whole in memory.

The event loop reads the body (`request.stream()`) and feeds python-multipart's incremental
parser. Its callbacks give each part's headers (to learn `name` and `filename`) and its data,
which is coalesced into ~1 MiB blocks. The blocks go through a short queue (QUEUE_DEPTH) to
one writer thread per request, which owns the `core_uploads.Upload`s: it opens them, writes the
blocks (hash + write, both release the GIL), and commits or aborts them. So memory stays
bounded (about QUEUE_DEPTH blocks per upload), the loop never waits on the disk, and the body
is never spooled to a second temp file. Every way out except a full success aborts every
Upload of the request: nothing half-stored remains, no entry and no temp file. A full success
needs the final boundary: a body that ends without it (cut off by the client, a proxy or the
network, chunked or not) is refused, since its last part may be any prefix of the file.
"""

from __future__ import annotations

import asyncio
import queue
import re
import threading
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from vault.core import uploads as core_uploads
from vault.core.errors import VaultError
from vault.core.models import FileEntry, User
from vault.core.names import client_path
from vault.core.vault import Vault
from vault.http import contract

BLOCK = 1 << 20
"""Bytes handed to the writer thread at a time."""
QUEUE_DEPTH = 8
"""Blocks in flight between the loop and the writer thread: bounds memory per upload."""
MAX_FILES = 100
"""`file` parts accepted in one request (each holds an open temp file until the end)."""
DRAIN_LIMIT = 8 << 20
"""After a refusal mid-body, read (and drop) at most this much more so the client sees the
answer; beyond it the connection is closed."""

_PARAM = re.compile(rb';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


class BadRequest(Exception):
    """A request the HTTP layer refuses before the core sees it (400 unless told otherwise)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def disposition(value: bytes) -> tuple[str | None, str | None]:
    """`name` and `filename` of a part's Content-Disposition, as sent (no path stripping).

    In a quoted value only `\\"` and `\\\\` are escapes: browsers and curl send a backslash
    as itself (`C:\\Users\\x.png`, HTML's form encoding), so any other one is a character
    of the name. Bytes that are not UTF-8 survive as surrogates, which the core's naming
    rule rejects.
    """
    params: dict[str, bytes] = {}
    for key, val in _PARAM.findall(value):
        if val[:1] == b'"':
            val = re.sub(rb'\\(["\\])', rb"\1", val[1:-1])
        else:
            val = val.strip()
        params[key.decode("latin-1").lower()] = val
    name = params.get("name")
    filename = params.get("filename")
    if filename is None and "filename*" in params:  # RFC 5987, which RFC 7578 forbids; be kind
        _charset, _, rest = params["filename*"].partition(b"'")
        _lang, _, encoded = rest.partition(b"'")
        filename = unquote_to_bytes(encoded)

    def text(b: bytes | None) -> str | None:
        return None if b is None else b.decode("utf-8", "surrogateescape")

    return text(name), text(filename)


class _Writer(threading.Thread):
    """The one thread that touches the disk for an upload request."""

    def __init__(self, v: Vault, user: User, max_size: int | None) -> None:
        super().__init__(name="vault-upload", daemon=True)
        self.v = v
        self.user = user
        self.max_size = max_size
        self.loop = asyncio.get_running_loop()
        self.slots = asyncio.Semaphore(QUEUE_DEPTH)
        self.items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.entries: list[FileEntry] = []
        self.finished: asyncio.Future[None] = self.loop.create_future()

    def _notify(self, fn: Any, *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is gone (the process is exiting)
            pass

    def run(self) -> None:
        uploads: list[core_uploads.Upload] = []
        try:
            while True:
                op, arg = self.items.get()
                try:
                    if self.error is not None or op == "abort":
                        pass
                    elif op == "open":
                        uploads.append(core_uploads.Upload(self.v, self.user, arg, self.max_size))
                    elif op == "data":
                        uploads[-1].write(arg)
                    elif op == "commit":  # all parts, or none of them
                        self.entries.extend(core_uploads.commit_all(self.v, uploads))
                except BaseException as e:  # handed to the loop, which answers the client
                    self.error = e
                finally:
                    if op in ("open", "data"):
                        self._notify(self.slots.release)
                if op in ("commit", "abort"):
                    return
        finally:
            for upload in uploads:
                upload.abort()  # no-op for committed ones
            self.v.close()
            self._notify(self._done)

    def _done(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)

    async def put(self, op: str, arg: Any) -> bool:
        """Queue one item; False once the thread has failed (stop feeding it)."""
        await self.slots.acquire()
        if self.error is not None:
            self.slots.release()
            return False
        self.items.put((op, arg))
        return True

    async def end(self, op: str) -> None:
        """Commit or abort, and wait until the thread is done (even if we are cancelled)."""
        self.items.put((op, None))
        with anyio.CancelScope(shield=True):
            await self.finished


class _Parts:
    """python-multipart callbacks: turn the body into `open` / `data` items for the writer."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, Any]] = []
        self.files = 0
        self._headers: dict[bytes, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._receiving = False
        self._buf = bytearray()
        self.complete = False
        """True once the final boundary arrived: only then is every part whole."""

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._receiving = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._field).lower()] = bytes(self._value)
        self._field = bytearray()
        self._value = bytearray()

    def _headers_finished(self) -> None:
        name, filename = disposition(self._headers.get(b"content-disposition", b""))
        # A part without a filename is a plain form field; an empty filename is what browsers
        # send for a file input left empty. Neither is a file (as for the original service).
        if name == "file" and filename:
            self.files += 1
            if self.files > MAX_FILES:
                raise BadRequest(contract.TOO_MANY_FILES.format(limit=MAX_FILES))
            # a path's last component is the name (RFC 7578 4.2); the core's rule judges it
            self.pending.append(("open", client_path(filename)[-1]))
            self._receiving = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._receiving:
            return
        self._buf += memoryview(data)[start:end]
        if len(self._buf) >= BLOCK:
            self.pending.append(("data", self._buf))
            self._buf = bytearray()

    def _part_end(self) -> None:
        if self._receiving and self._buf:
            self.pending.append(("data", self._buf))
            self._buf = bytearray()
        self._receiving = False

    def _end(self) -> None:
        self.complete = True

    def take(self) -> list[tuple[str, Any]]:
        items, self.pending = self.pending, []
        return items


def _boundary(request: Request) -> bytes:
    mime, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise BadRequest(contract.NOT_MULTIPART)
    return boundary


async def _drain(request: Request, stream: Any) -> None:
    """Read what is left of the body (bounded), so the client gets to read our answer."""
    budget = DRAIN_LIMIT
    try:
        async for chunk in stream:
            budget -= len(chunk)
            if budget < 0:
                request.state.close_connection = True
                return
    except Exception:
        request.state.close_connection = True


async def receive_files(
    request: Request, v: Vault, user: User, max_size: int | None
) -> list[FileEntry]:
    """Store every `file` part of a multipart body; all or nothing (see the module doc).

    Raises the core's errors (InvalidName, TooLarge, StorageFull…), BadRequest for a body that
    is not what the contract asks, and ClientDisconnect if the client goes away.
    """
    boundary = _boundary(request)
    parts = _Parts()
    try:
        parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
    except Exception as e:
        raise BadRequest(contract.BAD_MULTIPART.format(reason=e)) from None
    writer = _Writer(v, user, max_size)
    writer.start()
    committed = False
    stream = request.stream()
    try:
        await _feed(stream, parser, parts, writer)
        if writer.error is None and parts.files == 0:
            raise BadRequest(contract.NO_FILE)
        if writer.error is None:
            await writer.end("commit")
        if writer.error is None:
            committed = True
            return writer.entries
        raise writer.error
    except (BadRequest, VaultError):
        await writer.end("abort")
        await _drain(request, stream)
        raise
    finally:
        if not committed:
            await writer.end("abort")


async def _feed(stream: Any, parser: MultipartParser, parts: _Parts, writer: _Writer) -> None:
    """Parse the body into the writer until it ends or the writer fails."""
    try:
        async for chunk in stream:
            parser.write(chunk)
            for op, arg in parts.take():
                if not await writer.put(op, arg):
                    return
        parser.finalize()
    except MultipartParseError as e:
        raise BadRequest(contract.BAD_MULTIPART.format(reason=e)) from None
    if not parts.complete:  # the body ended early: its last part may be any prefix of a file
        raise BadRequest(contract.BODY_CUT_OFF)
    for op, arg in parts.take():
        if not await writer.put(op, arg):
            return
