"""Sessions: hashed tokens, expiry, revocation, and the 0600 token file."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from support import ALICE_PW, BOB_PW

from vault.core import (
    Vault,
    clock,
    sessions,
)
from vault.core.errors import (
    NoSuchSession,
    NotLoggedIn,
    SessionFileError,
)
from vault.core.locations import token_file
from vault.core.models import User
from vault.core.throttle import local_client


def test_token_is_256_bits_and_only_its_hash_is_stored(v: Vault, alice: User) -> None:
    _, token = sessions.login(v, "alice", ALICE_PW)
    assert len(token) >= 43  # 32 bytes, urlsafe base64
    stored = [r[0] for r in v.db.execute("SELECT token_hash FROM sessions").fetchall()]
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    v.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert token.encode() not in v.paths.db.read_bytes()


def test_resolve_logout_and_reuse(v: Vault, alice: User) -> None:
    _, token = sessions.login(v, "alice", ALICE_PW)
    assert sessions.resolve(v, token) == alice
    assert sessions.logout(v, token) == alice
    with pytest.raises(NotLoggedIn):
        sessions.resolve(v, token)
    assert sessions.logout(v, token) is None


@pytest.mark.parametrize("bad", ["", "x", "' OR 1=1 --", None])
def test_garbage_tokens_do_not_resolve(v: Vault, alice: User, bad: str | None) -> None:
    sessions.login(v, "alice", ALICE_PW)
    with pytest.raises(NotLoggedIn):
        sessions.resolve(v, bad)


def test_idle_and_absolute_expiry(v: Vault, alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    t = [1_800_000_000.0]
    monkeypatch.setattr(clock, "now", lambda: t[0])
    _, idle = sessions.login(v, "alice", ALICE_PW)
    _, busy = sessions.login(v, "alice", ALICE_PW)
    step = sessions.IDLE_EXPIRY * 0.9
    while t[0] + step < 1_800_000_000.0 + sessions.ABSOLUTE_EXPIRY:
        t[0] += step
        sessions.resolve(v, busy)  # used regularly: stays alive until the absolute limit
    with pytest.raises(NotLoggedIn):
        sessions.resolve(v, idle)
    t[0] = 1_800_000_000.0 + sessions.ABSOLUTE_EXPIRY + 1
    with pytest.raises(NotLoggedIn):
        sessions.resolve(v, busy)


def test_list_and_revoke(v: Vault, alice: User, bob: User) -> None:
    _, t1 = sessions.login(v, "alice", ALICE_PW, client="cli")
    _, t2 = sessions.login(v, "alice", ALICE_PW, client="tui")
    _, tb = sessions.login(v, "bob", BOB_PW)
    listed = sessions.list_sessions(v, alice, current_token=t2)
    assert [s.client for s in listed] == ["tui", "cli"]
    assert [s.current for s in listed] == [True, False]
    bobs = sessions.list_sessions(v, bob)[0]
    with pytest.raises(NoSuchSession):  # alice cannot end bob's session
        sessions.revoke(v, alice, bobs.id)
    assert sessions.resolve(v, tb) == bob
    sessions.revoke(v, alice, listed[1].id)
    with pytest.raises(NotLoggedIn):
        sessions.resolve(v, t1)
    assert sessions.revoke(v, alice) == 1
    with pytest.raises(NotLoggedIn):
        sessions.resolve(v, t2)
    assert sessions.resolve(v, tb) == bob


def test_token_file_is_private_atomic_and_per_vault(v: Vault, alice: User, tmp_path) -> None:
    _, token = sessions.login(v, "alice", ALICE_PW)
    sessions.save_token(v, token, "alice")
    path = token_file(v.root)
    assert path.is_relative_to(os.environ["XDG_STATE_HOME"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["token"] == token
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    assert token_file(tmp_path / "other-vault") != path
    assert sessions.current_user(v) == (alice, token)
    sessions.clear_token(v)
    with pytest.raises(NotLoggedIn):
        sessions.current_user(v)


def test_corrupt_token_file_means_logged_out(v: Vault) -> None:
    path = token_file(v.root)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(NotLoggedIn):
        sessions.current_user(v)
    assert stat.S_ISREG(os.stat(path).st_mode)


def test_login_local_replaces_the_old_session_without_orphans(v: Vault, alice: User) -> None:
    _, first = sessions.login_local(v, "alice", ALICE_PW, "cli")
    _, second = sessions.login_local(v, "alice", ALICE_PW, "tui")
    assert [s.client for s in sessions.list_sessions(v, alice)] == [local_client("tui").label]
    assert sessions.load_token(v) == second != first
    assert sessions.logout_local(v) == alice
    assert sessions.list_sessions(v, alice) == [] and sessions.load_token(v) is None


def test_unwritable_token_folder_is_an_error_and_keeps_nothing_live(
    v: Vault, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file where the state folder should be")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    with pytest.raises(SessionFileError):
        sessions.login_local(v, "alice", ALICE_PW, "cli")
    assert sessions.list_sessions(v, alice) == []
