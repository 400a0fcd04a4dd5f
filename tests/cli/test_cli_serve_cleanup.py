"""A starting `vault serve` removes the temp files of uploads that died with an earlier server
(they used to stay until someone ran `vault gc`), and leaves a live upload's alone."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.helpers import TIMEOUT, Cli, temps
from tests.http.helpers import Server, start_raw_upload

# Direct mode only: `vault serve` opens the vault folder itself.
pytestmark = pytest.mark.direct_only


def wait_for(predicate, what: str) -> None:
    """Poll (bounded); the short sleep only spaces the checks out."""
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_server_start_removes_dead_uploads_temp_files_only(alice_cli: Cli, tmp_path: Path) -> None:
    vault_dir = alice_cli.vault_dir
    env = alice_cli.environ({"PYTHONUNBUFFERED": "1"})

    # an upload in flight when its server is SIGKILLed leaves its temp file behind
    first = Server(vault_dir, env).start()
    sock = start_raw_upload(first, alice_cli.token(), "big.bin")
    wait_for(lambda: len(temps(vault_dir)) == 1, "the upload's temp file")
    (dead,) = temps(vault_dir)
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    sock.close()
    assert dead.exists()

    # a live upload from the CLI holds its temp file's flock
    live = alice_cli.popen("upload", "-", "--name", "live.bin", stdin=subprocess.PIPE)
    assert live.stdin is not None
    try:
        live.stdin.write(os.urandom(1 << 20))
        live.stdin.flush()
        wait_for(lambda: len(temps(vault_dir)) == 2, "the live upload's temp file")
        (alive,) = [p for p in temps(vault_dir) if p != dead]

        second = Server(vault_dir, env).start()  # returns once it printed its URL
        try:
            assert not dead.exists()
            assert alive.exists()
        finally:
            assert second.stop() == 0, second.stderr()
        assert live.poll() is None, "the live upload ended early"
        live.stdin.close()
        assert live.wait(timeout=TIMEOUT) == 0
    finally:
        if live.poll() is None:
            live.kill()
            live.wait()
        for stream in (live.stdin, live.stdout, live.stderr):
            if stream is not None:
                stream.close()
    assert "live.bin" in alice_cli.own()
    assert temps(vault_dir) == []
