"""`DaemonClient`: the same operations, answered by `vault daemon` over its Unix socket.

Bytes never travel by path. To upload, this process opens the file and passes the open
descriptor (SCM_RIGHTS); the daemon copies from it in the kernel. A pipe is streamed over the
connection instead, so the daemon sees at once when its writer goes away. To download, this
process makes the part file in the destination folder and passes its descriptor; the daemon
fills and checks it; this process makes it durable and names it (`downloads.PartFile`).
A person therefore cannot upload what they cannot read, nor download where they cannot write.

Without a session token the daemon acts as the peer account of the OS user the kernel names;
`login` keeps a token per OS user and per socket, as direct mode does per vault.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from vault.client.protocol import FileRef, UserRef
from vault.client.transfer import write_chunks
from vault.core import downloads, sessions, uploads
from vault.core.admin import Account, Usage
from vault.core.errors import Cancelled, SessionFileError, VaultUnavailable
from vault.core.models import Event, FileEntry, Listing, Session, User, Version
from vault.core.names import printable
from vault.core.store import BUFFER, Progress, no_progress
from vault.core.upkeep import GcReport, VerifyReport
from vault.daemon import wire
from vault.daemon.wire import Channel, Closed, ProtocolError

_SESSION = object()
"""Send the session's token (the default for every call but register and login)."""


def unreachable(place: Path, e: OSError) -> VaultUnavailable:
    """The one-line message for a daemon that is down: the socket tried, and how to start it."""
    where = printable(place)
    return VaultUnavailable(
        f"Cannot reach the vault daemon at {where} ({e.strerror}); start it with "
        f"`vault daemon --vault DIR --socket {where}`, or use your own vault with --vault DIR"
    )


class DaemonClient:
    """Thread-safe: each call takes an idle connection (or opens one) and gives it back."""

    def __init__(self, socket_path: str | os.PathLike[str], kind: str = "cli") -> None:
        self.place = Path(socket_path)
        self.kind = kind
        """What opens sessions: `cli` or `tui` (shown in `vault sessions`)."""
        self._token: str | None = None
        self._idle: list[Channel] = []
        self._lock = threading.Lock()

    # -- the connection ---------------------------------------------------------------------------

    def _lost(self, e: BaseException) -> VaultUnavailable:
        why = e.strerror if isinstance(e, OSError) and e.strerror else "it closed the connection"
        return VaultUnavailable(
            f"Lost the connection to the vault daemon at {printable(self.place)} ({why}); "
            "nothing half-stored was kept. See its log, or start it again with `vault daemon`"
        )

    def _connect(self) -> Channel:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            sock.connect(str(self.place))
        except OSError as e:
            sock.close()
            raise unreachable(self.place, e) from None
        return Channel(sock, wire.MAX_REPLY)

    def _send(self, request: dict[str, Any], fds: Sequence[int] = ()) -> Channel:
        """Send a request on an idle connection, or a new one if that one was closed."""
        with self._lock:
            channel = self._idle.pop() if self._idle else None
        if channel is not None:
            try:
                channel.send(request, fds)
                return channel
            except OSError:  # the daemon ended it (restarted, or idle at its stop)
                channel.close()
        channel = self._connect()
        try:
            channel.send(request, fds)
        except OSError as e:
            channel.close()
            raise self._lost(e) from None
        return channel

    def _recv(self, channel: Channel) -> tuple[bytes, Any]:
        try:
            kind, body, fds = channel.recv()
        except (OSError, Closed, ProtocolError) as e:
            channel.close()
            raise self._lost(e) from None
        wire.close_all(fds)
        return kind, body

    def _done(self, channel: Channel, reply: dict[str, Any], keep: bool = True) -> Any:
        """Give the connection back and return the result, or raise the daemon's typed error."""
        if keep:
            with self._lock:
                self._idle.append(channel)
        else:
            channel.close()
        if "error" in reply:
            raise wire.from_error(reply["error"])
        return reply.get("ok")

    def _request(self, op: str, args: dict[str, Any], token: object) -> dict[str, Any]:
        if token is _SESSION:
            if self._token is None:
                self._token = sessions.load_token(self.place)
            token = self._token
        return {"op": op, "args": args, "token": token}

    def _call(
        self,
        op: str,
        args: dict[str, Any],
        *,
        fds: Sequence[int] = (),
        progress: Progress = no_progress,
        token: object = _SESSION,
        on_part: Callable[[Any], None] | None = None,
    ) -> Any:
        """One request and its answer; `progress` sees the daemon's progress messages.

        `on_part` receives the `part` messages that come before some answers (listings).

        If `progress` raises Cancelled, the daemon is told and its final answer awaited:
        Cancelled if it stopped in time, else the result (the transfer had ended).
        """
        channel = self._send(self._request(op, args, token), fds)
        cancelled = False
        while True:
            kind, body = self._recv(channel)
            if kind != wire.MESSAGE:
                channel.close()
                raise self._lost(ProtocolError("data where a message was due"))
            if "part" in body and on_part is not None:
                on_part(body["part"])
                continue
            if "progress" not in body:
                break
            if cancelled:
                continue
            try:
                progress(body["progress"])
            except Cancelled:
                cancelled = True
                try:
                    channel.send({"cancel": True})
                except OSError as e:
                    channel.close()
                    raise self._lost(e) from None
        return self._done(channel, body)

    # -- accounts and sessions ------------------------------------------------------------------

    def register(self, username: str, password: str) -> User:
        answer = self._call("register", {"username": username, "password": password}, token=None)
        return wire.from_row(User, answer)

    def login(self, username: str, password: str) -> User:
        """As `sessions.login_local`: the new token is saved before the old session ends."""
        args = {"username": username, "password": password, "kind": self.kind}
        answer = self._call("login", args, token=None)
        user, token = wire.from_row(User, answer["user"]), answer["token"]
        old = sessions.load_token(self.place)
        try:
            sessions.save_token(self.place, token, user.username)
        except SessionFileError:
            self._call("logout", {}, token=token)
            raise
        if old and old != token:
            self._call("logout", {}, token=old)
        self._token = token
        return user

    def logout(self) -> User | None:
        token = sessions.load_token(self.place)
        answer = self._call("logout", {}, token=token) if token else None
        sessions.clear_token(self.place)
        self._token = None
        return wire.from_row(User, answer) if answer else None

    def whoami(self) -> User:
        return wire.from_row(User, self._call("whoami", {}))

    def sessions(self) -> list[Session]:
        return wire.from_rows(Session, self._call("sessions", {}))

    def revoke_session(self, session_id: int | None) -> int:
        return int(self._call("revoke_session", {"session_id": session_id}))

    def usernames(self, prefix: str = "", limit: int = 20) -> list[str]:
        return list(self._call("usernames", {"prefix": prefix, "limit": limit}))

    # -- files ----------------------------------------------------------------------------------

    def list_files(self) -> Listing:
        found: dict[str, list[FileEntry]] = {"own": [], "shared": []}

        def part(body: Any) -> None:
            key, items = body
            found[key].extend(wire.from_rows(FileEntry, items))

        self._call("list_files", {}, on_part=part)
        return Listing(found["own"], found["shared"])

    def find_file(self, ref: FileRef, *, own: bool = False) -> FileEntry:
        return wire.from_row(FileEntry, self._call("find_file", {"ref": ref, "own": own}))

    def upload(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        progress: Progress = no_progress,
    ) -> FileEntry:
        fd, st = uploads.open_source(path)  # as this OS user: what they cannot read fails here
        try:
            target = name if name is not None else uploads.base_name(path)
            if stat.S_ISREG(st.st_mode):
                args = {"name": target, "label": printable(path)}
                answer = self._call("upload_fd", args, fds=[fd], progress=progress)
            else:
                answer = self._upload_stream(fd, target, progress)
        finally:
            os.close(fd)
        return wire.from_row(FileEntry, answer)

    def _upload_stream(self, fd: int, name: str, progress: Progress) -> Any:
        """`ready`, data frames, then `end` (or `cancel`); an early answer is an error."""
        channel = self._send(self._request("upload_stream", {"name": name}, _SESSION))
        kind, body = self._recv(channel)
        if "ready" not in body:
            return self._done(channel, body, keep=False)
        buf = bytearray(BUFFER)
        done = 0
        end: dict[str, bool] = {"end": True}
        try:
            with memoryview(buf) as view:
                while k := os.readv(fd, [buf]):
                    if channel.readable():  # the daemon gave up (disk full…): read why
                        break
                    channel.send_data(view[:k])
                    done += k
                    try:
                        progress(done)
                    except Cancelled:
                        end = {"cancel": True}
                        break
            channel.send(end)
        except OSError:
            pass  # the daemon closed the connection: its answer is waiting to be read
        kind, body = self._recv(channel)
        return self._done(channel, body, keep="error" not in body)

    def download(
        self,
        ref: FileRef,
        folder: str | os.PathLike[str],
        version: int | None = None,
        progress: Progress = no_progress,
    ) -> Path:
        cancelled = False

        def watch(done: int) -> None:
            nonlocal cancelled
            try:
                progress(done)
            except Cancelled:
                cancelled = True
                raise

        with downloads.PartFile(folder) as part:  # as this OS user: where they cannot write fails
            args = {"ref": ref, "version": version, "where": part.label}
            answer = self._call("download_fd", args, fds=[part.fd], progress=watch)
            if cancelled:  # the daemon had finished: the part file is dropped all the same
                raise Cancelled()
            return part.keep(wire.from_row(FileEntry, answer).name)

    def download_stream(
        self,
        ref: FileRef,
        out_fd: int,
        version: int | None = None,
        progress: Progress = no_progress,
    ) -> FileEntry:
        args = {"ref": ref, "version": version}
        channel = self._send(self._request("download_stream", args, _SESSION))
        final: list[dict[str, Any]] = []

        def chunks() -> Iterator[bytes]:
            while True:
                kind, body = self._recv(channel)
                if kind != wire.DATA:
                    final.append(body)
                    return
                yield body

        try:
            write_chunks(chunks(), out_fd, progress)
        except BaseException:  # a cancel, or the reader went away: the stream is cut here
            channel.close()
            raise
        return wire.from_row(FileEntry, self._done(channel, final[0]))

    def rename(self, ref: FileRef, new_name: str) -> FileEntry:
        return wire.from_row(FileEntry, self._call("rename", {"ref": ref, "new_name": new_name}))

    def delete(self, ref: FileRef) -> FileEntry:
        return wire.from_row(FileEntry, self._call("delete", {"ref": ref}))

    def versions(self, ref: FileRef) -> list[Version]:
        return wire.from_rows(Version, self._call("versions", {"ref": ref}))

    # -- sharing --------------------------------------------------------------------------------

    def _pair(self, op: str, ref: FileRef, target: UserRef) -> tuple[FileEntry, User]:
        entry, other = self._call(op, {"ref": ref, "target": target})
        return wire.from_row(FileEntry, entry), wire.from_row(User, other)

    def share(self, ref: FileRef, target: UserRef) -> tuple[FileEntry, User]:
        return self._pair("share", ref, target)

    def unshare(self, ref: FileRef, target: UserRef) -> tuple[FileEntry, User]:
        return self._pair("unshare", ref, target)

    def recipients(self, ref: FileRef) -> list[User]:
        return wire.from_rows(User, self._call("recipients", {"ref": ref}))

    # -- activity and upkeep --------------------------------------------------------------------

    def recent_events(self, limit: int = 50) -> list[Event]:
        return wire.from_rows(Event, self._call("recent_events", {"limit": limit}))

    def latest_event_id(self) -> int:
        return int(self._call("latest_event_id", {}))

    def wait_for_change(self, after: int, timeout: float) -> int:
        return int(self._call("wait_for_change", {"after": after, "timeout": float(timeout)}))

    def verify(self) -> VerifyReport:
        return wire.from_verify_report(self._call("verify", {}))

    def gc(self, dry_run: bool = False) -> GcReport:
        return wire.from_gc_report(self._call("gc", {"dry_run": dry_run}))

    # -- accounts -------------------------------------------------------------------------------

    def admin_users(self) -> list[Account]:
        return wire.from_rows(Account, self._call("admin_users", {}))

    def admin_disable(self, user: UserRef) -> User:
        return wire.from_row(User, self._call("admin_disable", {"user": user}))

    def admin_enable(self, user: UserRef) -> User:
        return wire.from_row(User, self._call("admin_enable", {"user": user}))

    def admin_quota(self, user: UserRef, quota: int | None) -> User:
        return wire.from_row(User, self._call("admin_quota", {"user": user, "quota": quota}))

    def admin_reset_password(self, user: UserRef) -> tuple[User, str]:
        answer = self._call("admin_reset_password", {"user": user})
        return wire.from_row(User, answer["user"]), answer["password"]

    def usage(self) -> Usage:
        return wire.from_row(Usage, self._call("usage", {}))

    def passwd(self, new: str, current: str | None = None) -> None:
        self._call("passwd", {"new": new, "current": current})

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for channel in idle:
            channel.close()
