"""The daemon: one process owns the vault, clients reach it through a Unix socket.

One thread per connection, each with its own SQLite connection (`Vault.db` is per thread),
answering one request after another. Each connection's peer is what the kernel says
(SO_PEERCRED at connect time), looked up once. SIGTERM (or SIGINT) stops accepting, makes
transfers in flight stop where the core discards them, lets short requests finish, and exits 0.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault.core.errors import VaultError, VaultUnavailable
from vault.core.peers import ADMIN_GROUP, Peer
from vault.core.vault import Vault
from vault.daemon import handlers, system, wire
from vault.daemon.wire import Channel, Closed, ProtocolError

if TYPE_CHECKING:
    from vault.daemon.web import Web

MAX_CONNECTIONS = 512
MAX_PER_UID = 64
"""One local user cannot take every connection (each is a thread)."""
GRACE = 10.0
"""Seconds a stopping daemon waits for requests in flight."""
HARD_STOP_AFTER = 2.0
"""…of which, after this many, connections still open are cut both ways (a stuck send)."""


class Daemon:
    def __init__(
        self,
        v: Vault,
        listener: socket.socket,
        accounts: str,
        owned_path: Path | None,
        stopping: threading.Event,
        web: Web | None = None,
        admin_group: str | None = ADMIN_GROUP,
    ) -> None:
        self.v = v
        self.admin_group = admin_group
        """Members of this OS group are admins (`--admin-group`)."""
        self.listener = listener
        self.accounts = accounts
        self.owned_path = owned_path
        """The socket file we made (removed on stop); None when systemd owns it."""
        self.stopping = stopping
        """Set by SIGTERM or SIGINT (handlers installed by `run`, before the socket exists)."""
        self.web = web
        """`--http`: the HTTP API on the same vault, stopped with the socket."""
        self.gate = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        self._lock = threading.Condition()
        self._open: dict[socket.socket, int] = {}
        """Live connections and their peers' uids."""

    # -- accepting ------------------------------------------------------------------------------

    def serve(self) -> int:
        """Serve until SIGTERM or SIGINT; returns the exit code (0)."""
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        self.listener.setblocking(False)
        poller = select.poll()
        poller.register(self.listener, select.POLLIN)
        poller.register(wake_r, select.POLLIN)
        try:
            while not self.stopping.is_set():
                for fd, _ in poller.poll():
                    if fd == wake_r:
                        os.read(wake_r, 512)
                    else:
                        self._accept()
        finally:
            signal.set_wakeup_fd(-1)
            os.close(wake_r)
            os.close(wake_w)
        self._stop()
        return 0

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        sock.setblocking(True)
        uid = system.peer_uid(sock)
        with self._lock:
            mine = sum(1 for u in self._open.values() if u == uid)
            busy = len(self._open) >= MAX_CONNECTIONS or mine >= MAX_PER_UID
            if not busy:
                self._open[sock] = uid
        if busy:
            self._refuse(sock)
            return
        threading.Thread(
            target=self._serve, args=(sock, uid), name=f"vault-conn-{uid}", daemon=True
        ).start()

    def _refuse(self, sock: socket.socket) -> None:
        busy = VaultUnavailable("The vault daemon has too many connections; try again soon")
        try:
            Channel(sock, wire.MAX_REQUEST).send({"error": wire.error(busy)})
        except OSError:
            pass
        sock.close()

    # -- one connection -------------------------------------------------------------------------

    def _serve(self, sock: socket.socket, uid: int) -> None:
        channel = Channel(sock, wire.MAX_REQUEST)
        try:
            peer = Peer.from_uid(uid, self.admin_group)
            while True:
                try:
                    kind, message, fds = channel.recv()
                except Closed:
                    return
                except ProtocolError as e:
                    channel.send({"error": wire.error(e)})
                    return
                reply, keep = self._answer(peer, channel, kind, message, fds)
                if reply is not None:
                    channel.send(reply)
                if not keep:
                    return
        except (Closed, ConnectionError):
            return  # the client went away; the core already discarded anything half-done
        finally:
            self.v.close()
            sock.close()
            with self._lock:
                del self._open[sock]
                self._lock.notify_all()

    def _answer(
        self, peer: Peer, channel: Channel, kind: bytes, message: Any, fds: list[int]
    ) -> tuple[dict[str, Any] | None, bool]:
        """(the reply, whether the connection goes on). Descriptors are closed here."""
        try:
            if kind != wire.MESSAGE:
                raise ProtocolError("Expected a request")
            if message == {"cancel": True}:
                return None, True  # it came after its transfer had ended: nothing to stop
            op, args, token = handlers.parse(message, fds)
            request = handlers.Request(
                self.v, peer, self.accounts, token, channel, fds, self.stopping, self.gate
            )
            try:
                return {"ok": handlers.OPS[op][0](request, **args)}, True
            finally:
                if op not in handlers.READS:
                    handlers.CHANGES.bump()  # wake waiters: they look for themselves
        except ProtocolError as e:
            return {"error": wire.error(e)}, False
        except VaultError as e:
            # after a failed stream the client may still be sending: end the connection
            streaming = isinstance(message, dict) and message.get("op") == "upload_stream"
            return {"error": wire.error(e)}, not streaming
        finally:
            wire.close_all(fds)

    # -- stopping -------------------------------------------------------------------------------

    def _stop(self) -> None:
        """Stop accepting; wake every connection; wait a little for requests in flight."""
        self.stopping.set()
        if self.web is not None:
            self.web.stop()
        handlers.CHANGES.bump()  # waiters see `stopping` and answer
        self.listener.close()
        if self.owned_path is not None:
            try:
                self.owned_path.unlink(missing_ok=True)
            except OSError:
                pass  # a folder only root may write: the next start replaces the stale socket
        self._shutdown(socket.SHUT_RD)  # idle readers see the end; transfers see `stopping`
        start = time.monotonic()
        hard = False
        with self._lock:
            while self._open and time.monotonic() - start < GRACE:
                if not hard and time.monotonic() - start > HARD_STOP_AFTER:
                    hard = True
                    self._shutdown(socket.SHUT_RDWR, locked=True)
                self._lock.wait(0.1)
            left = len(self._open)
        if self.web is not None:
            self.web.join()
        if left:
            sys.stderr.write(f"vault daemon: stopped with {left} connections still busy\n")

    def _shutdown(self, how: int, locked: bool = False) -> None:
        if not locked:
            with self._lock:
                socks = list(self._open)
        else:
            socks = list(self._open)
        for sock in socks:
            try:
                sock.shutdown(how)
            except OSError:
                pass


def run(
    vault_dir: Path,
    socket_path: Path,
    user: str | None,
    accounts: str,
    http: tuple[str, int] | None = None,
    admin_group: str | None = ADMIN_GROUP,
) -> int:
    """Start the daemon the way the issue describes; returns the exit code.

    `http` (host, port) also serves the HTTP API from this process and vault; members of
    `admin_group` are admins besides root.
    """
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # before anyone can connect
        signal.signal(sig, lambda *_: stopping.set())
    system.limit_malloc_arenas()  # before any thread allocates
    owner = system.account(user)
    listener = system.systemd_listener()
    owned_path = None
    if listener is None:
        listener = system.bind(socket_path, owner)
        owned_path = socket_path
    web = None
    try:
        if http is not None:
            from vault.daemon.web import Web  # only then: the plain daemon loads no web stack

            web = Web(*http)
        system.prepare_vault_dir(vault_dir, owner)
        if owner is not None and os.getuid() == 0:
            system.drop_privileges(owner)
        os.umask(0o077)
        v = Vault(vault_dir)
    except BaseException:
        if web is not None:
            web.stop()
        listener.close()
        if owned_path is not None:
            owned_path.unlink(missing_ok=True)
        raise
    name = listener.getsockname() or str(socket_path)
    if web is not None:
        web.start(v, accounts)
        name = f"{name} and {web.url}"
    sys.stderr.write(
        f"vault daemon: serving {vault_dir} on {name} as uid {os.getuid()} (pid {os.getpid()})\n"
    )
    sys.stderr.flush()
    return Daemon(v, listener, accounts, owned_path, stopping, web, admin_group).serve()
