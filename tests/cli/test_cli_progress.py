"""Progress bars of `vault upload` and `vault download`, on a terminal, in both modes."""

from __future__ import annotations

import os
import re
import select
import subprocess
from pathlib import Path

from tests.cli.helpers import TIMEOUT, Cli, vault_argv

SIZE = (9 << 20) + 5
"""Above the CLI's PROGRESS_MIN_BYTES (8 MiB): a bar is drawn."""


def stderr_on_a_pty(cli: Cli, *args: object) -> tuple[int, bytes, str]:
    """Run `vault ARGS` with only stderr on a new pseudo-terminal: exit code, stdout, terminal.

    stdout goes to a file (a pipe nobody reads would fill up and stall a large download)."""
    master, slave = os.openpty()
    out_file = cli.tmp / "stdout.bin"
    with open(out_file, "wb") as stdout:
        proc = subprocess.Popen(
            vault_argv(*args),
            env=cli.environ(),
            cwd=cli.cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=slave,
            start_new_session=True,  # never reach the terminal pytest may run in
        )
    os.close(slave)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], TIMEOUT)
            assert ready, f"no end of output from {args}: {seen!r}"
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        code = proc.wait(timeout=TIMEOUT)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, out_file.read_bytes(), seen.decode("utf-8", "replace")


def full_bar(terminal: str, name: str) -> None:
    """The bar reached 100% of the whole size, then was erased."""
    assert re.search(rf"\r{re.escape(name)}  100% 9\.0 MiB ", terminal), repr(terminal)
    assert terminal.endswith("\r\x1b[K"), repr(terminal)


def test_upload_shows_a_bar_that_ends_full(alice_cli: Cli, src) -> None:
    code, out, terminal = stderr_on_a_pty(alice_cli, "upload", src("big.bin", os.urandom(SIZE)))
    assert code == 0, terminal
    full_bar(terminal, "big.bin")
    assert out.startswith(b"Uploaded big.bin: id ")
    assert alice_cli.own()["big.bin"]["size"] == SIZE


def test_download_shows_a_bar_that_ends_full(alice_cli: Cli, src, out_dir: Path) -> None:
    data = os.urandom(SIZE)
    alice_cli.upload(src("big.bin", data))
    code, out, terminal = stderr_on_a_pty(alice_cli, "download", "big.bin", "-o", out_dir)
    assert code == 0, terminal
    full_bar(terminal, "big.bin")
    assert (out_dir / "big.bin").read_bytes() == data
    code, out, terminal = stderr_on_a_pty(alice_cli, "download", "big.bin", "-o", "-")
    assert code == 0, terminal
    full_bar(terminal, "big.bin")
    assert out == data
