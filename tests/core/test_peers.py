"""Peer accounts: OS users logged in by the kernel's word, never by a password."""

from __future__ import annotations

import pwd

import pytest
from support import ALICE_PW

from vault.core import Vault, events, sessions, users
from vault.core.errors import LoginFailed, NotLoggedIn, NotPermitted
from vault.core.models import User
from vault.core.passwords import Hasher
from vault.core.peers import ADMIN, AUTO, PEER_HASH, Peer, account, check_register, require_admin

ALICE = Peer(1001, "alice", admin=False)
NOBODY_UID = 4_000_000  # no OS user has it


def test_auto_mode_makes_the_account_once(v: Vault) -> None:
    first = account(v, ALICE, AUTO)
    assert first.username == "alice"
    assert account(v, ALICE, AUTO) == first
    assert account(v, ALICE, ADMIN) == first  # made before: admin mode uses it too
    assert [e.action for e in events.recent(v.db, first)] == ["register"]
    stored = v.db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored == PEER_HASH


def test_admin_mode_makes_no_account(v: Vault) -> None:
    with pytest.raises(NotLoggedIn, match="ask an admin"):
        account(v, ALICE, ADMIN)
    assert v.db.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_no_password_opens_a_peer_account(v: Vault) -> None:
    account(v, ALICE, AUTO)
    for password in ("", PEER_HASH, "!peer", ALICE_PW):
        with pytest.raises(LoginFailed):
            sessions.login(v, "alice", password)


def test_the_sentinel_costs_a_real_verification() -> None:
    """No timing difference between a peer account and a missing one: both run argon2."""
    hasher = Hasher(cheap=True)
    assert hasher.verify(PEER_HASH, "anything") is False
    assert hasher._dummy is not None


def test_a_password_account_of_that_name_is_never_entered(v: Vault, alice: User) -> None:
    with pytest.raises(NotLoggedIn, match="vault login alice"):
        account(v, ALICE, AUTO)
    assert users.authenticate(v, "alice", ALICE_PW) == alice  # untouched


def test_names_must_match_exactly(v: Vault) -> None:
    account(v, ALICE, AUTO)
    with pytest.raises(NotLoggedIn):
        account(v, Peer(1002, "Alice", admin=False), AUTO)


@pytest.mark.parametrize("name", [None, "a b", "x" * 65])
def test_os_names_that_cannot_be_vault_names(v: Vault, name: str | None) -> None:
    with pytest.raises(NotLoggedIn, match="vault login"):
        account(v, Peer(1003, name, admin=False), AUTO)


def test_registration_rules() -> None:
    stranger = Peer(NOBODY_UID, None, admin=False)
    check_register(stranger, "carol", AUTO)
    with pytest.raises(NotPermitted, match="admin"):
        check_register(stranger, "carol", ADMIN)
    check_register(Peer(0, "root", admin=True), "carol", ADMIN)
    root_name = pwd.getpwuid(0).pw_name
    for name in (root_name, root_name.upper()):  # another OS user's name, in any case
        with pytest.raises(NotPermitted, match="another OS user"):
            check_register(stranger, name, AUTO)
    check_register(Peer(0, root_name, admin=False), root_name, AUTO)  # one's own name


def test_upkeep_is_for_admins() -> None:
    require_admin(Peer(0, "root", admin=True), "gc")
    with pytest.raises(NotPermitted, match="gc"):
        require_admin(ALICE, "gc")
