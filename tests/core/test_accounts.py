"""Registration, password storage (argon2id only) and login throttling."""

from __future__ import annotations

import os

import argon2
import pytest
from support import ALICE_PW

from vault.core import Vault, clock, users
from vault.core.errors import (
    InvalidPassword,
    InvalidUsername,
    LoginFailed,
    TooManyAttempts,
    UsernameTaken,
)
from vault.core.models import User
from vault.core.passwords import Hasher


def test_documented_example_registers(v: Vault) -> None:
    user = users.register(v, "han1", "han123")
    assert user.username == "han1"
    assert users.authenticate(v, "han1", "han123") == user


def test_usernames_are_unique_ignoring_case(v: Vault, alice: User) -> None:
    with pytest.raises(UsernameTaken):
        users.register(v, "ALICE", "another-password")


def test_login_ignores_case_of_the_name_but_keeps_it(v: Vault, alice: User) -> None:
    assert users.authenticate(v, "Alice", ALICE_PW).username == "alice"


@pytest.mark.parametrize("password", ["short", "x" * 1025, "nul\x00pass"])
def test_password_rule(v: Vault, password: str) -> None:
    with pytest.raises(InvalidPassword):
        users.register(v, "carol", password)


def test_invalid_username_is_refused_before_anything_is_stored(v: Vault) -> None:
    with pytest.raises(InvalidUsername):
        users.register(v, "robert'); DROP TABLE users;--", "password1")
    assert v.db.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_only_an_argon2id_hash_is_stored(v: Vault, alice: User) -> None:
    stored = v.db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$")
    v.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = v.paths.db.read_bytes()
    assert ALICE_PW.encode() not in raw


def test_real_parameters_are_the_library_defaults(vault_dir) -> None:
    """The one test with production argon2 parameters."""
    v = Vault(vault_dir)
    users.register(v, "dave", "dave-password")
    stored = v.db.execute("SELECT password_hash FROM users").fetchone()[0]
    params = argon2.extract_parameters(stored)
    default = argon2.PasswordHasher()
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        default.time_cost,
        default.memory_cost,
        default.parallelism,
    )
    assert users.authenticate(v, "dave", "dave-password").username == "dave"


def test_outdated_hash_is_upgraded_on_login(vault_dir) -> None:
    cheap = Vault(vault_dir, hasher=Hasher(cheap=True))
    users.register(cheap, "erin", "erin-password")
    before = cheap.db.execute("SELECT password_hash FROM users").fetchone()[0]
    real = Vault(vault_dir)
    users.authenticate(real, "erin", "erin-password")
    after = real.db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert after != before
    assert not real.hasher.needs_rehash(after)


def test_wrong_password_and_unknown_user_fail_alike(v: Vault, alice: User) -> None:
    with pytest.raises(LoginFailed) as wrong:
        users.authenticate(v, "alice", "not-her-password")
    with pytest.raises(LoginFailed) as unknown:
        users.authenticate(v, "nobody", "whatever-pw")
    assert str(wrong.value) == str(unknown.value)


def test_throttle_after_five_failures_then_release(
    v: Vault, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = [1_800_000_000.0]
    monkeypatch.setattr(clock, "now", lambda: t[0])
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(LoginFailed):
            users.authenticate(v, "alice", "wrong-password", client="c1")
    with pytest.raises(TooManyAttempts) as exc:
        users.authenticate(v, "alice", ALICE_PW, client="c2")  # even the right password waits
    assert exc.value.retry_after == int(users.LOCKOUT)
    t[0] += users.LOCKOUT + 1
    assert users.authenticate(v, "alice", ALICE_PW, client="c2") == alice


def test_throttle_per_client_covers_many_usernames(v: Vault, alice: User, bob: User) -> None:
    for i in range(users.MAX_CLIENT_FAILURES):
        with pytest.raises(LoginFailed):
            users.authenticate(v, f"guess{i}", "wrong-password", client="attacker")
    with pytest.raises(TooManyAttempts):
        users.authenticate(v, "bob", "wrong-password", client="attacker")
    # another client is not affected by the attacker's failures on other names
    assert users.authenticate(v, "bob", "bob-password", client="bob-laptop") == bob


def test_find_by_id_or_name(v: Vault, alice: User, bob: User) -> None:
    assert users.find(v, bob.id) == bob
    assert users.find(v, str(bob.id)) == bob
    assert users.find(v, "BOB") == bob


def test_usernames_completion_escapes_like_wildcards(v: Vault, alice: User) -> None:
    users.register(v, "a_b", "password1")
    users.register(v, "axb", "password1")
    assert users.usernames(v, "a_") == ["a_b"]
    assert users.usernames(v, "A") == ["a_b", "alice", "axb"]


def test_one_clients_failures_on_one_name_do_not_lock_out_others(v: Vault, alice: User) -> None:
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(LoginFailed):
            users.authenticate(v, "mallory", "wrong-password", client="shared")
    assert users.authenticate(v, "alice", ALICE_PW, client="shared") == alice


def test_local_clients_are_counted_per_os_user() -> None:
    assert users.local_client("cli") == f"cli uid {os.getuid()}"
