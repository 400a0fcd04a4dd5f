"""`vault serve` as a process: start-up line, clean stops (exit 0) even mid-upload."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.http.helpers import Server, start_raw_upload, tmp_files, wait_for
from tests.support import ALICE_PW
from vault.core import files, sessions
from vault.core.models import User
from vault.core.vault import Vault


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly(make_server, sig: int) -> None:
    server: Server = make_server()
    assert server.stdout.startswith("Serving the vault at http://127.0.0.1:")
    assert server.port > 0
    assert server.stop(sig) == 0
    assert server.stdout.splitlines()[-1] == "Stopped serving; goodbye"
    assert "Traceback" not in server.stderr()


def test_sigterm_during_an_upload_keeps_nothing(
    make_server, alice: User, v: Vault, vault_dir
) -> None:
    server: Server = make_server()
    _, token = sessions.login(v, "alice", ALICE_PW, client="test")
    sock = start_raw_upload(server, token, "inflight.bin", host="localhost")
    wait_for(lambda: tmp_files(vault_dir) != [], what="the upload to reach the store")
    assert server.stop(signal.SIGTERM) == 0
    reply = sock.recv(4096)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 503")
    assert reply.endswith(b"\r\n\r\nServer is shutting down; nothing was stored, retry later")
    assert server.stdout.splitlines()[-1] == "Stopped serving; goodbye"
    assert "Traceback" not in server.stderr()
    assert tmp_files(vault_dir) == []
    assert files.list_files(v, alice).own == []


def test_port_in_use_is_one_line(make_server, isolated_env) -> None:
    server: Server = make_server()
    r = subprocess.run(
        [sys.executable, "-m", "vault", "serve", "--port", str(server.port)],
        capture_output=True,
        text=True,
        timeout=30,
        env=server.env,
    )
    assert r.returncode == 1
    assert r.stderr.startswith(f"vault: cannot listen on 127.0.0.1:{server.port}: ")
    assert len(r.stderr.splitlines()) == 1


def test_is_loopback() -> None:
    from vault.http.server import is_loopback

    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "8.8.8.8"):
        assert not is_loopback(host), host
