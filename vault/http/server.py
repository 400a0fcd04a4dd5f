"""`vault serve`: run the HTTP API under uvicorn (uvloop + httptools) until Ctrl-C or SIGTERM.

Slow and idle clients get deadlines and the connections a cap (limits.py).

The socket is bound here rather than by uvicorn so that `--port 0` can print the port it got,
and so that a port in use is one line on stderr rather than a log record. Stopping is always
clean: uploads in flight are aborted (nothing half-stored), the rest get a short grace period,
and the process exits 0 with one goodbye line instead of re-raising the signal (which is what
uvicorn does by default, giving exit code 130/143 and, for SIGINT, a traceback).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from vault.core import upkeep
from vault.core.vault import Vault
from vault.http.app import cancel_uploads, make_app
from vault.http.limits import Limits, fit_to_open_files, protocol_for

GRACE_S = 5.0
"""How long running downloads may take to finish once asked to stop."""
ALLOWED_HOSTS_ENV = "VAULT_ALLOWED_HOSTS"
"""Comma-separated Host names accepted besides the loopback ones (when serving beyond it)."""


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback one."""
    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port)."""
    infos = socket.getaddrinfo(
        host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(addr)
        sock.listen(2048)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """The http:// address a listening TCP socket answers at."""
    address, port = sock.getsockname()[:2]
    shown = f"[{address}]" if ":" in address else address
    return f"http://{shown}:{port}/"


class HttpServer(uvicorn.Server):
    """uvicorn's server for one vault app, stopping the vault's way (see the module doc).

    `vault serve` runs it in the main thread; the daemon (`--http`) in a thread of its own,
    next to its Unix socket, on the same `Vault`, and stops it with `stop()`.
    """

    def __init__(self, app: Starlette, limits: Limits) -> None:
        try:
            import uvloop  # noqa: F401

            loop = "uvloop"
        except ImportError:  # pragma: no cover - Windows
            loop = "asyncio"
        config = uvicorn.Config(
            app,
            loop=loop,
            http=protocol_for(limits),
            timeout_keep_alive=limits.idle_timeout,  # type: ignore[arg-type]  # a float works
            lifespan="off",
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # X-Forwarded-For from a local client would dodge the throttle
            timeout_graceful_shutdown=GRACE_S,
        )
        super().__init__(config)
        self.vault_app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Not recorded in _captured_signals, so uvicorn does not re-raise it after shutdown.
        if self.should_exit:
            self.force_exit = True  # a second Ctrl-C: stop waiting for downloads
        self.should_exit = True

    def stop(self) -> None:
        """Stop as SIGTERM would (from any thread): uploads abort, downloads get GRACE_S."""
        self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        cancel_uploads(self.vault_app)
        await super().shutdown(sockets)

    def serve_on(self, sock: socket.socket) -> None:
        """Serve on the listening `sock` until stopped, then close it."""
        try:
            self.run(sockets=[sock])
        except KeyboardInterrupt:  # pragma: no cover - only before our handlers are in place
            pass
        finally:
            sock.close()


def allowed_hosts(host: str) -> list[str]:
    """The Host names accepted besides loopback ones; warns when `host` is beyond this machine."""
    allowed = [h.strip() for h in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip()]
    if not is_loopback(host):
        unspecified = host.strip("[]") in ("0.0.0.0", "::", "")
        if not unspecified:
            allowed.append(host)
        sys.stderr.write(
            f"WARNING: serving the vault on {host}, beyond this machine: anyone who can reach "
            "it can try passwords, and passwords, session cookies and files cross the network "
            "unencrypted (no TLS). Prefer the default 127.0.0.1 and an SSH tunnel. Only "
            f"loopback names{' and ' + host if not unspecified else ''} are accepted in the "
            f"Host header; add others with {ALLOWED_HOSTS_ENV}=name1,name2.\n"
        )
        sys.stderr.flush()
    return allowed


def _install(handler: Any) -> Any:
    """Set `handler` for SIGINT and SIGTERM (main thread only); returns the previous ones."""
    if threading.current_thread() is not threading.main_thread():
        return handler
    if isinstance(handler, dict):
        for sig, old in handler.items():
            signal.signal(sig, old)
        return None
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def serve(
    open_vault: Callable[[], Vault],
    host: str = "127.0.0.1",
    port: int = 8000,
    max_upload: int | None = None,
) -> int:
    """Serve the vault `open_vault()` opens until interrupted; returns the exit code (0 on a
    clean stop).

    Timeouts and the connection cap come from VAULT_HTTP_* variables (limits.py); they are
    checked before the vault is opened, so a mistyped setting creates nothing.
    """
    try:
        limits = fit_to_open_files(Limits.from_env(os.environ))
    except ValueError as e:
        sys.stderr.write(f"vault: {e}\n")
        return 1
    vault = open_vault()
    try:
        sock = bind(host, port)
    except OSError as e:
        sys.stderr.write(f"vault: cannot listen on {host}:{port}: {e.strerror or e}\n")
        return 1
    url = url_of(sock)
    allowed = allowed_hosts(host)
    upkeep.remove_stale_temps(vault)  # uploads killed with an earlier server leave these
    server = HttpServer(make_app(vault, max_upload=max_upload, allowed_hosts=allowed), limits)
    # From here on a signal stops the server cleanly, even before uvicorn installs its own
    # handlers (they call the same handle_exit, and restore these when done).
    previous = _install(server.handle_exit)
    print(f"Serving the vault at {url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_on(sock)
    finally:
        _install(previous)
    print("Stopped serving; goodbye", flush=True)
    return 0
