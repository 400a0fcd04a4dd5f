"""Starting a real daemon for tests, and acting as several OS users from one test process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEADLINE = 60.0
"""Seconds any awaited condition may take before the test fails (never hangs)."""


def wait_until(condition: Callable[[], object], what: str, deadline: float = DEADLINE) -> None:
    """Poll `condition` until it is true; fail saying `what` after `deadline` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def connectable(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


@dataclass
class Daemon:
    """A `python -m vault.daemon` subprocess and where it serves."""

    proc: subprocess.Popen[bytes]
    socket: Path
    vault_dir: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=DEADLINE)


def daemon_argv(vault_dir: Path, sock: Path, *args: str, python: str = sys.executable) -> list[str]:
    return [python, "-m", "vault.daemon", "--vault", str(vault_dir), "--socket", str(sock), *args]


def start_daemon(
    vault_dir: Path,
    sock: Path,
    log: Path,
    *args: str,
    argv: Sequence[str] | None = None,
    ready: Path | None = None,
    **popen: Any,
) -> Daemon:
    """Start the daemon and wait until it serves: it says so, and `ready` (or `sock`) accepts."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            list(argv) if argv is not None else daemon_argv(vault_dir, sock, *args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            **popen,
        )
    daemon = Daemon(proc, sock, vault_dir, log)
    target = ready or sock
    wait_until(
        lambda: (
            proc.poll() is not None
            or ("vault daemon: serving" in daemon.log_text() and connectable(target))
        ),
        "the daemon to serve",
    )
    assert proc.poll() is None, daemon.log_text()
    return daemon


class AsOsUser:
    """A client whose calls run with this OS user's XDG_STATE_HOME (so its own token file).

    Tests run as one OS user; this is how one test holds clients of several "OS users" at
    once, as `tests/cli`'s `Cli.as_os_user` does for subprocesses.
    """

    def __init__(self, client: Any, state: Path) -> None:
        self._client = client
        self._state = str(state)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kw: Any) -> Any:
            old = os.environ.get("XDG_STATE_HOME")
            os.environ["XDG_STATE_HOME"] = self._state
            try:
                return attr(*args, **kw)
            finally:
                if old is None:
                    del os.environ["XDG_STATE_HOME"]
                else:
                    os.environ["XDG_STATE_HOME"] = old

        return call


def rows(vault_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read the vault's database directly (a check from outside the daemon)."""
    import sqlite3

    conn = sqlite3.connect(vault_dir / "vault.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def temps(vault_dir: Path) -> list[Path]:
    root = vault_dir / "tmp"
    return sorted(root.iterdir()) if root.is_dir() else []


def objects(vault_dir: Path) -> list[Path]:
    return sorted(p for p in (vault_dir / "objects").glob("*/*") if p.is_file())
