"""`vault admin`, `vault usage`, `vault passwd` on a personal vault (direct mode).

In direct mode whoever can open the vault folder is its admin (they can write its database
anyway); the daemon's admin rule is tested in tests/daemon.
"""

from __future__ import annotations

import re

from tests.cli.helpers import Cli
from tests.support import ALICE_PW


def test_admin_lists_accounts_and_sets_quotas(alice_cli: Cli, bob_cli: Cli, src) -> None:
    alice_cli.ok("upload", src("a.txt", b"a" * 2000))
    alice_cli.ok("admin", "quota", "alice", "3K")
    lines = alice_cli.ok("admin", "users").stdout.splitlines()
    assert lines[0].split() == ["NAME", "FILES", "BYTES", "LAST", "SEEN", "DISABLED", "QUOTA"]
    assert re.match(r"alice +1 +2\.0 KiB +\d{4}-\d\d-\d\d \d\d:\d\d +no +3\.0 KiB$", lines[1])
    assert re.match(r"bob +0 +0 B +.* +no +none$", lines[2])
    assert alice_cli.ok("usage").stdout == "1 file, 2.0 KiB of 3.0 KiB (65%)\n"
    line = alice_cli.fail("upload", src("b.txt", b"b" * 2000))
    assert "you use 2.0 KiB of 3.0 KiB" in line and "Delete files" in line
    assert bob_cli.ok("usage").stdout == "0 files, 0 B (no quota)\n"
    assert "not a size" in alice_cli.fail("admin", "quota", "alice", "lots")


def test_a_disabled_account_cannot_act_until_enabled(alice_cli: Cli, bob_cli: Cli) -> None:
    assert bob_cli.ok("admin", "disable", "alice").stdout.startswith("Disabled alice")
    assert "not logged in" in alice_cli.fail("ls").lower()  # its session was ended
    line = alice_cli.fail("login", "alice", "--password-stdin", input=ALICE_PW + "\n")
    assert "disabled" in line
    bob_cli.ok("admin", "enable", "alice")
    alice_cli.login("alice", ALICE_PW)
    alice_cli.ok("ls")


def test_reset_password_then_passwd(alice_cli: Cli, bob_cli: Cli) -> None:
    out = bob_cli.ok("admin", "reset-password", "alice").stdout
    new = re.fullmatch(r"New password for alice: (\S+)\n", out).group(1)  # type: ignore[union-attr]
    alice_cli.fail("login", "alice", "--password-stdin", input=ALICE_PW + "\n")
    alice_cli.login("alice", new)
    line = alice_cli.fail("passwd", "--password-stdin", input="chosen-password\nwrong-one\n")
    assert "Wrong username or password" in line
    alice_cli.ok("passwd", "--password-stdin", input=f"chosen-password\n{new}\n")
    alice_cli.login("alice", "chosen-password")
