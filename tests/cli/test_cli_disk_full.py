"""The real `vault` command on a full disk (a small tmpfs filled to the last byte).

Each command is a new process that opens the vault with no other connection open, as on a
real machine: reads must still work, writes must say "disk space" in one line (exit 1, no
traceback), `rm` must work and free space, and everything must work once space is back.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from small_disk import fill, free_bytes, small_disk

from tests.cli.helpers import Cli
from tests.support import ALICE_PW

# Direct mode only: each command must be the only process with the vault open.
pytestmark = pytest.mark.direct_only

BIG = os.urandom(1 << 20)


@pytest.fixture(autouse=True)
def vault_dir(isolated_env: dict[str, str]) -> Iterator[Path]:
    """VAULT_HOME on a tmpfs of its own, mounted before any `vault` command runs."""
    with small_disk(Path(isolated_env["VAULT_HOME"])) as folder:
        yield folder


def disk_full(line: str) -> None:
    assert "disk space" in line, line


def test_cli_on_a_full_disk(
    alice_cli: Cli, bob_cli: Cli, src, out_dir: Path, vault_dir: Path, tmp_path: Path
) -> None:
    alice_cli.upload(src("big.bin", BIG))
    alice_cli.upload(src("small.txt", b"hello"))
    alice_cli.ok("share", "small.txt", "bob")
    with closing(sqlite3.connect(vault_dir / "vault.db")) as db, db:
        db.execute("UPDATE sessions SET last_seen = last_seen - 3600")  # so reads want to touch
    new = src("new.txt", b"new")
    filler = fill(vault_dir)

    # reads and downloads
    assert set(alice_cli.own()) == {"big.bin", "small.txt"}
    assert "small.txt  from alice" in bob_cli.ok("ls").stdout
    alice_cli.ok("download", "big.bin", "-o", out_dir)
    assert (out_dir / "big.bin").read_bytes() == BIG
    bob_cli.ok("download", "small.txt", "-o", out_dir)
    assert (out_dir / "small.txt").read_bytes() == b"hello"
    alice_cli.ok("versions", "big.bin")
    alice_cli.ok("gc")

    # every other write: one line about disk space, exit 1, no traceback
    disk_full(alice_cli.fail("login", "alice", "--password-stdin", input=ALICE_PW + "\n"))
    carol = alice_cli.as_os_user("carol")
    disk_full(carol.fail("register", "carol", "--password-stdin", input="carol-pass\n"))
    disk_full(alice_cli.fail("upload", new))
    disk_full(alice_cli.fail("share", "big.bin", "bob"))
    disk_full(alice_cli.fail("rename", "small.txt", "other.txt"))
    disk_full(alice_cli.fail("verify"))
    assert set(alice_cli.own()) == {"big.bin", "small.txt"}

    # a delete works, and frees space
    alice_cli.ok("rm", "big.bin")
    assert set(alice_cli.own()) == {"small.txt"}
    assert free_bytes(vault_dir) > len(BIG) // 2

    # space back: everything works again
    filler.unlink()
    alice_cli.login("alice", ALICE_PW)
    carol.register("carol", "carol-pass")
    alice_cli.upload(new)
    alice_cli.ok("share", "small.txt", "carol")
    assert "small.txt  from alice" in carol.ok("ls").stdout
    alice_cli.ok("verify")
    assert set(alice_cli.own()) == {"new.txt", "small.txt"}
