"""What each request does: a table from operation names to core calls.

Thin on purpose: check the shape of the arguments, find who is asking (a session token, or
the peer the kernel named), call vault.core, encode the result. Every rule (who may see,
share, rename) stays in the core. No operation takes a path the daemon would open: bytes
come and go through descriptors the client opened, or through the connection itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vault.core import (
    admin,
    downloads,
    events,
    files,
    peers,
    sessions,
    shares,
    upkeep,
    uploads,
    users,
)
from vault.core.errors import Cancelled, DestinationError, SourceError, VaultUnavailable
from vault.core.models import User
from vault.core.vault import Vault
from vault.daemon import wire
from vault.daemon.wire import Channel, Closed, ProtocolError

PROGRESS_EVERY = 0.1
"""Seconds between progress messages during a transfer."""
LISTING_PART = 10_000
"""Files per `part` message of a listing."""


class Stopping(VaultUnavailable):
    """The daemon got SIGTERM during this transfer; nothing half-done was kept."""

    def __init__(self) -> None:
        super().__init__(
            "The vault daemon is stopping; this transfer was dropped and nothing half-stored "
            "was kept. Try again once it runs"
        )


@dataclass
class Request:
    """One request and everything a handler may use to answer it."""

    v: Vault
    peer: peers.Peer
    """Who connected, as the kernel says (SO_PEERCRED); never anything the client sent."""
    accounts: str
    token: str | None
    channel: Channel
    fds: list[int]
    """Descriptors that came with the request; closed by the caller after the handler."""
    stopping: threading.Event
    gate: threading.BoundedSemaphore
    """Limits argon2 runs at once (64 MiB each), so many logins cannot balloon the daemon."""

    def user(self) -> User:
        """The session's user if a token came, else the peer account of the OS user."""
        if self.token is not None:
            return sessions.resolve(self.v, self.token)
        return peers.account(self.v, self.peer, self.accounts)

    def fd(self, writable: bool) -> int:
        """The one descriptor sent with the request, checked to be usable for this transfer."""
        if len(self.fds) != 1:
            raise ProtocolError("This operation needs exactly one descriptor")
        fd = self.fds[0]
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        mode = flags & os.O_ACCMODE
        # Only regular files: a read from a pipe or socket could block where neither the
        # client's end nor a SIGTERM reaches it (pipes come through upload_stream instead).
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        if writable:
            if mode == os.O_RDONLY or flags & (os.O_APPEND | os.O_PATH):
                raise DestinationError("The download target is not open for writing")
            if not regular:
                raise DestinationError("The download target is not a regular file")
        elif mode == os.O_WRONLY or flags & os.O_PATH:
            raise SourceError("The file to upload is not open for reading")
        elif not regular and not stat.S_ISDIR(os.fstat(fd).st_mode):
            raise SourceError("The file to upload is not a regular file; stream it instead")
        return fd

    def progress(self) -> Callable[[int], None]:
        return Watch(self.channel, self.stopping)


class Watch:
    """The core's progress callback during a transfer through a descriptor.

    Reports progress to the client, and stops the transfer (the core then keeps nothing)
    when the daemon is stopping, or when the client sent anything (a cancel) or went away.
    """

    def __init__(self, channel: Channel, stopping: threading.Event) -> None:
        self.channel = channel
        self.stopping = stopping
        self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        if self.stopping.is_set():
            raise Stopping()
        if self.channel.readable():
            raise Cancelled()
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            try:
                self.channel.send({"progress": done})
            except OSError:
                raise Cancelled() from None


# -- accounts and sessions ----------------------------------------------------------------------


def register(r: Request, username: str, password: str) -> Any:
    peers.check_register(r.peer, username, r.accounts)
    with r.gate:
        return wire.row(users.register(r.v, username, password))


def login(r: Request, username: str, password: str, kind: str) -> Any:
    client = f"{kind if kind in ('cli', 'tui') else 'socket'} uid {r.peer.uid}"
    with r.gate:
        user, token = sessions.login(r.v, username, password, client=client)
    return {"user": wire.row(user), "token": token}


def logout(r: Request) -> Any:
    user = sessions.logout(r.v, r.token) if r.token is not None else None
    return wire.row(user) if user else None


def whoami(r: Request) -> Any:
    return wire.row(r.user())


def list_sessions(r: Request) -> Any:
    found = sessions.list_sessions(r.v, r.user(), current_token=r.token)
    return wire.rows(found)


def revoke_session(r: Request, session_id: int | None) -> Any:
    return sessions.revoke(r.v, r.user(), session_id)


def usernames(r: Request, prefix: str, limit: int) -> Any:
    r.user()
    return users.usernames(r.v, prefix, limit)


# -- files --------------------------------------------------------------------------------------


def list_files(r: Request) -> Any:
    """`part` messages of LISTING_PART entries: the client decodes one while we encode the next."""
    listing = files.list_files(r.v, r.user())
    for key, entries in (("own", listing.own), ("shared", listing.shared)):
        for start in range(0, len(entries), LISTING_PART):
            part = entries[start : start + LISTING_PART]
            r.channel.send({"part": [key, wire.rows(part)]})
    return None


def find_file(r: Request, ref: str | int, own: bool) -> Any:
    return wire.row((files.owned if own else files.resolve)(r.v, r.user(), ref))


def upload_fd(r: Request, name: str, label: str) -> Any:
    user = r.user()
    fd = r.fd(writable=False)
    return wire.row(uploads.upload_fd(r.v, user, fd, name, r.progress(), label=label))


def upload_stream(r: Request, name: str) -> Any:
    """Bytes streamed over the connection (pipes): `ready`, then data frames, then `end`."""
    with uploads.Upload(r.v, r.user(), name) as upload:
        r.channel.send({"ready": True})
        while True:
            if r.stopping.is_set():
                raise Stopping()
            try:
                kind, body, fds = r.channel.recv()
            except Closed:
                if r.stopping.is_set():  # our own shutdown woke us: say why
                    raise Stopping() from None
                raise
            wire.close_all(fds)
            if kind == wire.DATA:
                upload.write(body)
            elif body == {"end": True}:
                return wire.row(upload.commit())
            elif body == {"cancel": True}:
                raise Cancelled()
            else:
                raise ProtocolError("Expected data, end or cancel")


def download_fd(r: Request, ref: str | int, version: int | None, where: str) -> Any:
    user = r.user()
    fd = r.fd(writable=True)
    entry = downloads.download_into(r.v, user, ref, fd, where, version, r.progress())
    return wire.row(entry)


def download_stream(r: Request, ref: str | int, version: int | None) -> Any:
    """Data frames, the last one held back until the hash is right (`downloads.verified_chunks`)."""
    content = downloads.open_content(r.v, r.user(), ref, version)
    with contextlib.closing(
        downloads.verified_chunks(r.v, content, chunk=wire.DATA_CHUNK)
    ) as chunks:
        for chunk in chunks:
            if r.stopping.is_set():
                raise Stopping()
            r.channel.send_data(chunk)
    return wire.row(content.entry)


def rename(r: Request, ref: str | int, new_name: str) -> Any:
    return wire.row(files.rename(r.v, r.user(), ref, new_name))


def delete(r: Request, ref: str | int) -> Any:
    return wire.row(files.delete(r.v, r.user(), ref))


def versions(r: Request, ref: str | int) -> Any:
    return wire.rows(files.versions(r.v, r.user(), ref))


# -- sharing and activity -----------------------------------------------------------------------


def share(r: Request, ref: str | int, target: str | int) -> Any:
    entry, other = shares.share(r.v, r.user(), ref, target)
    return [wire.row(entry), wire.row(other)]


def unshare(r: Request, ref: str | int, target: str | int) -> Any:
    entry, other = shares.unshare(r.v, r.user(), ref, target)
    return [wire.row(entry), wire.row(other)]


def recipients(r: Request, ref: str | int) -> Any:
    return wire.rows(shares.recipients(r.v, r.user(), ref))


def recent_events(r: Request, limit: int) -> Any:
    return wire.rows(events.recent(r.v.db, r.user(), limit))


def latest_event_id(r: Request) -> Any:
    r.user()
    return events.latest_id(r.v.db)


class Changes:
    """Wakes `wait_for_change` requests when a request that may have written has ended.

    A waiter reads `generation` before it looks at the newest event id, so a write that
    commits after the look bumps it and the wait returns at once: nothing is missed, and
    nobody polls.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.generation = 0

    def bump(self) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.generation != seen, timeout)


CHANGES = Changes()
"""One daemon per process: the server bumps it after every request not in `READS`."""
READS = frozenset(
    {"whoami", "sessions", "usernames", "list_files", "find_file", "versions", "recipients"}
    | {"recent_events", "latest_event_id", "wait_for_change"}
)
"""Operations that never write: they wake no waiter (any other may, so it does)."""
MAX_WAIT = 3600.0
"""Seconds one wait may last (a waiting request holds its connection's thread)."""


def wait_for_change(r: Request, after: int, timeout: float) -> Any:
    if not 0 <= timeout <= MAX_WAIT:
        raise ProtocolError(f"wait_for_change: timeout is 0 to {MAX_WAIT:g} seconds")
    r.user()
    deadline = time.monotonic() + timeout
    while True:
        seen = CHANGES.generation
        latest = events.latest_id(r.v.db)
        left = deadline - time.monotonic()
        if latest > after or left <= 0 or r.stopping.is_set():
            return latest
        CHANGES.wait(seen, left)


# -- upkeep -------------------------------------------------------------------------------------


def verify(r: Request) -> Any:
    peers.require_admin(r.peer, "verify")
    return wire.verify_report(upkeep.verify(r.v))


def gc(r: Request, dry_run: bool) -> Any:
    peers.require_admin(r.peer, "gc")
    return wire.gc_report(upkeep.gc(r.v, dry_run=dry_run))


# -- accounts: admins' upkeep, a user's own usage and password -----------------------------------


def _admin(r: Request, what: str) -> str:
    """NotPermitted unless the peer is an admin; else how the audit log names them."""
    peers.require_admin(r.peer, what)
    return f"admin {r.peer.name or r.peer.uid}"


def admin_users(r: Request) -> Any:
    _admin(r, "vault admin users")
    return wire.rows(admin.accounts(r.v))


def admin_disable(r: Request, user: str | int) -> Any:
    return wire.row(admin.disable(r.v, user, _admin(r, "vault admin disable")))


def admin_enable(r: Request, user: str | int) -> Any:
    return wire.row(admin.enable(r.v, user, _admin(r, "vault admin enable")))


def admin_quota(r: Request, user: str | int, quota: int | None) -> Any:
    return wire.row(admin.set_quota(r.v, user, quota, _admin(r, "vault admin quota")))


def admin_reset_password(r: Request, user: str | int) -> Any:
    actor = _admin(r, "vault admin reset-password")
    with r.gate:
        found, password = admin.reset_password(r.v, user, actor)
    return {"user": wire.row(found), "password": password}


def usage(r: Request) -> Any:
    return wire.row(admin.usage(r.v, r.user()))


def passwd(r: Request, new: str, current: str | None) -> Any:
    user = r.user()
    with r.gate:
        admin.set_password(r.v, user, new, current, client=f"socket uid {r.peer.uid}")
    return None


# -- the table ----------------------------------------------------------------------------------

REF = (str, int)
OPTIONAL_INT = (int, type(None))

OPS: dict[str, tuple[Callable[..., Any], dict[str, type | tuple[type, ...]]]] = {
    "register": (register, {"username": str, "password": str}),
    "login": (login, {"username": str, "password": str, "kind": str}),
    "logout": (logout, {}),
    "whoami": (whoami, {}),
    "sessions": (list_sessions, {}),
    "revoke_session": (revoke_session, {"session_id": OPTIONAL_INT}),
    "usernames": (usernames, {"prefix": str, "limit": int}),
    "list_files": (list_files, {}),
    "find_file": (find_file, {"ref": REF, "own": bool}),
    "upload_fd": (upload_fd, {"name": str, "label": str}),
    "upload_stream": (upload_stream, {"name": str}),
    "download_fd": (download_fd, {"ref": REF, "version": OPTIONAL_INT, "where": str}),
    "download_stream": (download_stream, {"ref": REF, "version": OPTIONAL_INT}),
    "rename": (rename, {"ref": REF, "new_name": str}),
    "delete": (delete, {"ref": REF}),
    "versions": (versions, {"ref": REF}),
    "share": (share, {"ref": REF, "target": REF}),
    "unshare": (unshare, {"ref": REF, "target": REF}),
    "recipients": (recipients, {"ref": REF}),
    "recent_events": (recent_events, {"limit": int}),
    "latest_event_id": (latest_event_id, {}),
    "wait_for_change": (wait_for_change, {"after": int, "timeout": float}),
    "verify": (verify, {}),
    "gc": (gc, {"dry_run": bool}),
    "admin_users": (admin_users, {}),
    "admin_disable": (admin_disable, {"user": REF}),
    "admin_enable": (admin_enable, {"user": REF}),
    "admin_quota": (admin_quota, {"user": REF, "quota": OPTIONAL_INT}),
    "admin_reset_password": (admin_reset_password, {"user": REF}),
    "usage": (usage, {}),
    "passwd": (passwd, {"new": str, "current": (str, type(None))}),
}
"""Operation → (handler, its arguments and their JSON types). Nothing else is accepted."""

FD_OPS = {"upload_fd", "download_fd"}


def parse(message: dict[str, Any], fds: list[int]) -> tuple[str, dict[str, Any], str | None]:
    """(operation, arguments, token) of a request, or ProtocolError if it is not one.

    A request has exactly `op`, `args` and `token`, and exactly the arguments its operation
    names: a frame that tries to say who is asking (a user, a uid) is refused, never read.
    """
    if set(message) != {"op", "args", "token"}:
        raise ProtocolError("A request has exactly: op, args, token")
    op, args, token = message["op"], message["args"], message["token"]
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError(f"The vault daemon has no operation {op!r} (an older daemon?)")
    if not isinstance(args, dict) or not (token is None or isinstance(token, str)):
        raise ProtocolError("args must be an object and token a string or null")
    spec = OPS[op][1]
    if set(args) != set(spec):
        raise ProtocolError(f"{op} takes exactly: {', '.join(spec) or 'nothing'}")
    for key, kind in spec.items():
        if not isinstance(args[key], kind) or (isinstance(args[key], bool) and kind is not bool):
            raise ProtocolError(f"{op}: {key} has the wrong type")
    if fds and op not in FD_OPS:
        raise ProtocolError(f"{op} takes no descriptor")
    return op, args, token
