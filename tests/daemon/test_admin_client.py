"""Admin, usage and passwd through a `VaultClient`: direct mode and the daemon alike.

The tests run as root, an admin of the daemon (and, in direct mode, whoever opens the vault
folder is its admin); the refusal for others is in test_os_users.py, with real OS users.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import ALICE_PW

from tests.cli.helpers import vault_argv
from tests.daemon.helpers import rows
from vault.client.remote import DaemonClient
from vault.core.errors import AccountDisabled, LoginFailed, NotLoggedIn, OverQuota

Src = Callable[[str, bytes], Path]


def test_admin_acts_and_what_the_user_sees(
    client_for: Callable[[str], Any], alice_c: Any, bob_c: Any, src: Src
) -> None:
    root = client_for("root")
    alice_c.upload(src("a.bin", b"a" * 1000))
    assert root.admin_quota("alice", 1500).username == "alice"
    by_name = {a.username: a for a in root.admin_users()}
    assert (by_name["alice"].files, by_name["alice"].bytes, by_name["alice"].quota) == (
        1,
        1000,
        1500,
    )
    assert by_name["bob"].disabled is False
    assert alice_c.usage().bytes == 1000 and alice_c.usage().quota == 1500
    with pytest.raises(OverQuota, match="you use 1000 B of 1.5 KiB"):
        alice_c.upload(src("b.bin", b"b" * 600))
    root.admin_disable("bob")
    with pytest.raises(AccountDisabled):
        bob_c.login("bob", "bob-password")
    with pytest.raises(NotLoggedIn):
        bob_c.list_files()
    root.admin_enable("bob")
    bob_c.login("bob", "bob-password")
    user, password = root.admin_reset_password("alice")
    with pytest.raises(NotLoggedIn):
        alice_c.whoami()
    alice_c.login("alice", password)
    alice_c.passwd("another-password", password)
    with pytest.raises(LoginFailed):
        alice_c.login("alice", ALICE_PW)
    alice_c.login("alice", "another-password")


def test_a_piped_upload_over_quota_is_refused(
    client_for: Callable[[str], Any], alice_c: Any
) -> None:
    client_for("root").admin_quota("alice", 100)
    r, w = os.pipe()
    writer = subprocess.Popen(["head", "-c", "1000", "/dev/zero"], stdout=w)
    os.close(w)
    try:
        with pytest.raises(OverQuota):
            alice_c.upload(f"/dev/fd/{r}", name="piped")
    finally:
        os.close(r)
        writer.wait()
    assert alice_c.list_files().own == []


def test_the_admin_command_goes_through_the_daemon(daemon: Any) -> None:
    """`vault admin` with VAULT_SOCKET set: the real command, root as an admin peer."""
    env = {**os.environ, "VAULT_SOCKET": str(daemon.socket)}
    env.pop("VAULT_HOME", None)

    def vault(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            vault_argv(*args), env=env, capture_output=True, text=True, timeout=60
        )

    with contextlib.closing(DaemonClient(daemon.socket)) as client:
        client.register("dora", "dora-password")
    r = vault("admin", "quota", "dora", "1K")
    assert (r.returncode, r.stdout) == (0, "Quota of dora: 1.0 KiB\n"), r.stderr
    assert rows(daemon.vault_dir, "SELECT quota FROM users WHERE username = 'dora'") == [(1024,)]
    r = vault("admin", "users")
    assert r.stdout.splitlines()[1].split()[:3] == ["dora", "0", "0"], r.stdout + r.stderr
