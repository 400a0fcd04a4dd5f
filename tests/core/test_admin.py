"""Account upkeep: disabling refuses every way in; password resets; a user's own password."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ALICE_PW, BOB_PW, upload_bytes

from vault.core import Vault, admin, events, sessions, users
from vault.core.errors import (
    AccountDisabled,
    LoginFailed,
    NoSuchUser,
    NotLoggedIn,
    PasswordNeeded,
)
from vault.core.models import User
from vault.core.peers import AUTO, Peer, account

ALICE = Peer(1001, "alice", admin=False)


def test_a_disabled_account_is_refused_everywhere(v: Vault, alice: User) -> None:
    _, token = sessions.login(v, "alice", ALICE_PW)
    admin.disable(v, "alice", "admin root")
    with pytest.raises(AccountDisabled, match="disabled; ask an admin"):
        sessions.login(v, "alice", ALICE_PW)
    with pytest.raises(NotLoggedIn):  # the session was ended, not just refused
        sessions.resolve(v, token)
    with pytest.raises(LoginFailed):  # a wrong password learns nothing of the account
        sessions.login(v, "alice", "not-the-password")
    admin.enable(v, "alice", "admin root")
    with pytest.raises(NotLoggedIn):  # enabling does not bring old sessions back
        sessions.resolve(v, token)
    _, token = sessions.login(v, "alice", ALICE_PW)
    assert sessions.resolve(v, token) == alice


def test_a_session_is_refused_while_the_account_is_disabled(v: Vault, alice: User) -> None:
    """Even a session row that survived (made while disabling ran) is refused by its account."""
    _, token = sessions.login(v, "alice", ALICE_PW)
    v.db.execute("UPDATE users SET disabled_at = 'now' WHERE id = ?", [alice.id])
    with pytest.raises(AccountDisabled):
        sessions.resolve(v, token)


def test_a_disabled_peer_account_is_refused(v: Vault) -> None:
    account(v, ALICE, AUTO)
    admin.disable(v, "alice", "admin root")
    with pytest.raises(AccountDisabled):
        account(v, ALICE, AUTO)
    admin.enable(v, "alice", "admin root")
    assert account(v, ALICE, AUTO).username == "alice"


def test_the_admin_list_shows_each_account(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    upload_bytes(v, alice, tmp_path, "a", b"a" * 100)
    upload_bytes(v, alice, tmp_path, "a", b"b" * 50)
    sessions.login(v, "bob", BOB_PW)
    admin.disable(v, "bob", "admin root")
    admin.set_quota(v, "alice", 4096, "admin root")
    a, b = admin.accounts(v)
    assert (a.username, a.files, a.bytes, a.disabled, a.quota) == ("alice", 1, 150, False, 4096)
    assert (b.username, b.files, b.bytes, b.disabled, b.quota) == ("bob", 0, 0, True, None)
    assert a.last_seen and b.last_seen
    acts = [(e.action, e.target, e.detail) for e in events.recent(v.db, bob)]
    assert ("disable", "bob", "admin root") in acts  # the audit log tells bob who did it
    quota = [e.describe() for e in events.recent(v.db, alice) if e.action == "quota"]
    assert quota[0].endswith("vault quota for alice: admin root, 4096 bytes")


def test_admin_acts_name_a_user_that_exists(v: Vault) -> None:
    for act in (admin.disable, admin.enable):
        with pytest.raises(NoSuchUser):
            act(v, "ghost", "admin root")


def test_a_reset_password_replaces_the_old_and_ends_sessions(v: Vault, alice: User) -> None:
    _, token = sessions.login(v, "alice", ALICE_PW)
    _, new = admin.reset_password(v, "alice", "admin root")
    with pytest.raises(NotLoggedIn):
        sessions.resolve(v, token)
    with pytest.raises(LoginFailed):
        users.authenticate(v, "alice", ALICE_PW)
    assert users.authenticate(v, "alice", new) == alice


def test_a_peer_account_gets_a_password_and_stays_a_peer_account(v: Vault) -> None:
    me = account(v, ALICE, AUTO)
    admin.set_password(v, me, "a-new-password", None)
    assert users.authenticate(v, "alice", "a-new-password") == me  # for HTTP
    assert account(v, ALICE, AUTO) == me  # the kernel's word still lets the OS user in


def test_changing_a_password_needs_the_current_one(v: Vault, alice: User) -> None:
    with pytest.raises(PasswordNeeded):
        admin.set_password(v, alice, "another-password", None)
    with pytest.raises(LoginFailed):
        admin.set_password(v, alice, "another-password", "wrong-password")
    admin.set_password(v, alice, "another-password", ALICE_PW)
    assert users.authenticate(v, "alice", "another-password") == alice
