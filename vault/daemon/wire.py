"""The daemon's wire format: frames on a Unix stream socket (docs/ARCHITECTURE.md, "The daemon").

Every frame is a 5-byte header, a kind (1 byte) and a length (4 bytes, big-endian), then that
many bytes of body. Kind `M` is a message: one JSON object in UTF-8. Kind `D` is data: raw
bytes of a file streamed up or down. Descriptors (SCM_RIGHTS) ride on the header of the
request that uses them. A result dataclass is the JSON object of its fields: measured on a
100,000-file listing, that decodes several times faster in Python than one array per field,
because the C decoder builds the objects the client then uses as they are (`from_rows`).
Errors are the core's typed errors by class name, with their message and fields.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import socket
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from vault.core import errors
from vault.core.errors import VaultError
from vault.core.upkeep import BrokenFile, GcReport, Unreadable, VerifyReport

DEFAULT_SOCKET = Path("/run/vault/vault.sock")

HEADER = struct.Struct(">cI")
MESSAGE = b"M"
DATA = b"D"
MAX_REQUEST = 1 << 20
"""Largest message the daemon reads from a client; requests are small."""
DATA_CHUNK = MAX_REQUEST
"""Largest data frame either side sends (a streamed upload's or download's bytes)."""
MAX_REPLY = (1 << 32) - 1
"""Largest message a client reads from the daemon (a listing may be tens of MiB)."""
MAX_FDS = 1
"""Descriptors a frame may carry; more are refused (and closed)."""
_BIG = 1 << 16

T = TypeVar("T")


class Closed(Exception):
    """The other end closed the connection between two frames."""


class ProtocolError(VaultError):
    """A frame that breaks the wire format; the connection is closed after it is reported."""


class Channel:
    """One end of a connection: frames in and out, with descriptors beside them."""

    def __init__(self, sock: socket.socket, max_message: int) -> None:
        self.sock = sock
        self.max_message = max_message

    # -- sending ----------------------------------------------------------------------------------

    def send(self, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        header = HEADER.pack(MESSAGE, len(body))
        if fds:
            frame = header + body
            sent = socket.send_fds(self.sock, [frame], list(fds))
            if sent < len(frame):  # sendall(b"") still calls send(): EPIPE once the peer closed
                self.sock.sendall(frame[sent:])
        elif len(body) < _BIG:
            self.sock.sendall(header + body)
        else:
            self.sock.sendall(header)
            self.sock.sendall(body)

    def send_data(self, data: bytes | memoryview) -> None:
        self.sock.sendall(HEADER.pack(DATA, len(data)))
        self.sock.sendall(data)

    # -- receiving --------------------------------------------------------------------------------

    def recv(self) -> tuple[bytes, Any, list[int]]:
        """The next frame: (kind, a dict for M or bytes for D, descriptors that came with it).

        The caller owns the descriptors, also when it did not expect any: it must close them.
        """
        head = bytearray()
        fds: list[int] = []
        try:
            while len(head) < HEADER.size:
                data, got, flags, _ = socket.recv_fds(
                    self.sock, HEADER.size - len(head), MAX_FDS, socket.MSG_CMSG_CLOEXEC
                )
                fds += got
                if flags & socket.MSG_CTRUNC:
                    raise ProtocolError("Too many descriptors in one frame")
                if not data:
                    if head or fds:
                        raise ProtocolError("The connection ended inside a frame")
                    raise Closed()
                head += data
            kind, length = HEADER.unpack(head)
            limit = self.max_message if kind == MESSAGE else MAX_REQUEST
            if kind not in (MESSAGE, DATA) or length > limit:
                raise ProtocolError(f"A frame of kind {kind!r} and {length} bytes is not allowed")
            body = self._exactly(length)
            if kind == DATA:
                return kind, body, fds
            message = json.loads(body)
            if not isinstance(message, dict):
                raise ProtocolError("A message must be a JSON object")
            return kind, message, fds
        except (ValueError, RecursionError) as e:  # JSON that does not parse
            close_all(fds)
            raise ProtocolError(f"A message that is not JSON: {e}") from None
        except BaseException:
            close_all(fds)
            raise

    def _exactly(self, n: int) -> bytearray:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.sock.recv_into(view[got:])
            if k == 0:
                raise ProtocolError("The connection ended inside a frame")
            got += k
        return buf

    def recv_message(self) -> dict[str, Any]:
        """The next frame, which must be a message without descriptors."""
        kind, body, fds = self.recv()
        if kind != MESSAGE or fds:
            close_all(fds)
            raise ProtocolError("Expected a message")
        return body  # type: ignore[no-any-return]

    def readable(self) -> bool:
        """Whether something (a frame, or the end of the connection) is waiting to be read."""
        return bool(select.select([self.sock], [], [], 0)[0])

    def close(self) -> None:
        self.sock.close()


def close_all(fds: Sequence[int]) -> None:
    for fd in fds:
        os.close(fd)


# -- values -------------------------------------------------------------------------------------


def row(item: Any) -> dict[str, Any]:
    """A dataclass as the JSON object of its fields (a tuple becomes an array)."""
    return vars(item)  # type: ignore[no-any-return]


def rows(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [vars(i) for i in items]


def from_row(cls: type[T], values: dict[str, Any]) -> T:
    return from_rows(cls, [values])[0]


def from_rows(cls: type[T], items: list[dict[str, Any]]) -> list[T]:
    """The dataclasses back, equal to what the daemon's core returned.

    Each decoded object becomes the new instance's `__dict__` as it is: a frozen dataclass's
    `__init__` would set every field through `object.__setattr__` again, which costs ten
    times as much for a 100,000-file listing. The fields must be exactly the class's.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = {f.name for f in fields}
    tuples = [f.name for f in fields if str(f.type).startswith("tuple")]
    new, fill = object.__new__, object.__setattr__
    out = []
    for values in items:
        if not isinstance(values, dict) or values.keys() != names:
            raise ProtocolError(f"The vault daemon sent a {cls.__name__} this client cannot read")
        for name in tuples:
            values[name] = tuple(values[name])
        item = new(cls)
        fill(item, "__dict__", values)
        out.append(item)
    return out


def verify_report(r: VerifyReport) -> dict[str, Any]:
    return {
        "checked": r.checked,
        "corrupt": r.corrupt,
        "missing": r.missing,
        "unreadable": _unreadable(r.unreadable),
        "broken": rows(r.broken),
        "moved_to": [str(p) for p in r.moved_to],
    }


def from_verify_report(d: dict[str, Any]) -> VerifyReport:
    return VerifyReport(
        checked=d["checked"],
        corrupt=d["corrupt"],
        missing=d["missing"],
        unreadable=_from_unreadable(d["unreadable"]),
        broken=from_rows(BrokenFile, d["broken"]),
        moved_to=[Path(p) for p in d["moved_to"]],
    )


def gc_report(r: GcReport) -> dict[str, Any]:
    return {
        "objects": r.objects,
        "bytes": r.bytes,
        "temps": [str(p) for p in r.temps],
        "skipped": _unreadable(r.skipped),
    }


def from_gc_report(d: dict[str, Any]) -> GcReport:
    return GcReport(
        objects=d["objects"],
        bytes=d["bytes"],
        temps=[Path(p) for p in d["temps"]],
        skipped=_from_unreadable(d["skipped"]),
    )


def _unreadable(items: list[Unreadable]) -> list[list[str]]:
    """What upkeep could not read, as [path, reason] pairs (the CLI lists them either way)."""
    return [[str(u.path), u.reason] for u in items]


def _from_unreadable(items: list[list[str]]) -> list[Unreadable]:
    return [Unreadable(Path(path), reason) for path, reason in items]


# -- errors -------------------------------------------------------------------------------------

_PLAIN = (str, int, float, bool, list, tuple, type(None))


def error(e: VaultError) -> dict[str, Any]:
    """A typed error as a message body: class name, message, and its fields."""
    fields = {k: v for k, v in vars(e).items() if k != "message" and isinstance(v, _PLAIN)}
    return {"type": type(e).__name__, "message": e.message, "fields": fields}


def from_error(d: Any) -> VaultError:
    """The same typed error again: same class (if the core has it), message and fields."""
    if not isinstance(d, dict):
        return ProtocolError("The vault daemon sent an error this client cannot read")
    cls = getattr(errors, str(d.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, VaultError)):
        cls = VaultError
    e = cls.__new__(cls)
    VaultError.__init__(e, str(d.get("message")))
    fields = d.get("fields")
    for key, value in (fields if isinstance(fields, dict) else {}).items():
        if key not in ("message", "args") and isinstance(key, str):
            setattr(e, key, value)
    return e
