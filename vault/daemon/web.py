"""The daemon's `--http HOST:PORT`: the HTTP API served from the daemon's process and `Vault`.

The same app and uvicorn server `vault serve` runs (vault.http.server.HttpServer), in a thread
of its own. The TCP socket is bound before the daemon drops root (so a port below 1024 works);
SIGTERM stops both front ends: HTTP uploads in flight are aborted like the socket's.
Imported only when `--http` is given, so the plain daemon loads no web stack.
"""

from __future__ import annotations

import os
import threading

from vault.core import peers
from vault.core.errors import VaultUnavailable
from vault.core.vault import Vault
from vault.http.app import make_app
from vault.http.limits import Limits, fit_to_open_files
from vault.http.server import HttpServer, allowed_hosts, bind, url_of


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:PORT` for IPv6) as (host, port); ValueError says what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"{text!r} is not HOST:PORT (for example 127.0.0.1:8000)")
    return host, int(port)


class Web:
    """The HTTP side: bound at once, served from `start` until `stop`."""

    def __init__(self, host: str, port: int) -> None:
        try:
            self.limits = fit_to_open_files(Limits.from_env(os.environ))
        except ValueError as e:
            raise VaultUnavailable(str(e)) from None
        try:
            self.sock = bind(host, port)
        except OSError as e:
            raise VaultUnavailable(f"Cannot listen on {host}:{port}: {e.strerror or e}") from None
        self.url = url_of(self.sock)
        self.allowed = allowed_hosts(host)
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, v: Vault, accounts: str) -> None:
        """Serve `v`; HTTP registrations follow the daemon's rule for OS users' names."""
        app = make_app(
            v,
            allowed_hosts=self.allowed,
            register_check=lambda name: peers.check_register_unidentified(name, accounts),
        )
        self._server = HttpServer(app, self.limits)
        self._thread = threading.Thread(
            target=self._server.serve_on, args=(self.sock,), name="vault-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask the server to stop (uploads abort at once); `join` waits for it."""
        if self._server is None:
            self.sock.close()  # never started
        else:
            self._server.stop()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
