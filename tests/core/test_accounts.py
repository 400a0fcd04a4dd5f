"""Registration, password storage (argon2id only) and login throttling."""

from __future__ import annotations

import hashlib
import os
import threading

import argon2
import pytest
from support import ALICE_PW, BOB_PW

from vault.core import (
    Vault,
    clock,
    throttle,
    users,
)
from vault.core.errors import (
    InvalidPassword,
    InvalidUsername,
    LoginFailed,
    NoSuchUser,
    TooManyAttempts,
    TooManyRegistrations,
    UsernameTaken,
)
from vault.core.models import User
from vault.core.passwords import Hasher
from vault.core.throttle import Client


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


def test_find_by_id_or_name(v: Vault, alice: User, bob: User) -> None:
    assert users.find(v, bob.id) == bob
    assert users.find(v, str(bob.id)) == bob
    assert users.find(v, "BOB") == bob


def test_usernames_completion_escapes_like_wildcards(v: Vault, alice: User) -> None:
    users.register(v, "a_b", "password1")
    users.register(v, "axb", "password1")
    assert users.usernames(v, "a_") == ["a_b"]
    assert users.usernames(v, "A") == ["a_b", "alice", "axb"]


# -- login throttling (vault/core/throttle.py), with a clock the tests move ---------------------

WRONG = "wrong-password"
PER_HOUR = 12
"""The documented worst case: wrong guesses per account (or device) per hour."""
PER_HOUR_PER_ADDRESS = 27
"""The documented worst case: wrong guesses per address per hour, across usernames."""


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The core's clock, frozen; tests move it with `now[0] += seconds`."""
    t = [1_800_000_000.0]
    monkeypatch.setattr(clock, "now", lambda: t[0])
    return t


def os_user(monkeypatch: pytest.MonkeyPatch, uid: int, kind: str = "cli") -> Client:
    """The client of a local front end run by the OS user `uid` (the identity is its uid)."""
    with monkeypatch.context() as m:
        m.setattr(os, "getuid", lambda: uid)
        return throttle.local_client(kind)


def web(host: str = "127.0.0.1", token: str | None = None) -> Client:
    """An HTTP client at `host` holding the device token `token` (None: no device cookie)."""
    return throttle.http_client(host, token)


def guess(v: Vault, client: Client, name: str = "alice", password: str = WRONG) -> str:
    """One attempt: "failed", "refused" (throttled) or "ok"."""
    try:
        users.authenticate(v, name, password, client=client)
    except LoginFailed:
        return "failed"
    except TooManyAttempts:
        return "refused"
    return "ok"


def exhaust(v: Vault, client: Client, name: str = "alice") -> int:
    """Guess until refused (100 at most); returns how many guesses were checked."""
    checked = 0
    while checked < 100 and guess(v, client, name) == "failed":
        checked += 1
    return checked


def test_local_clients_are_counted_per_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    assert throttle.local_client("cli").label == f"cli uid {os.getuid()}"
    cli, tui = os_user(monkeypatch, 1000), os_user(monkeypatch, 1000, "tui")
    assert cli.device == tui.device == cli.address == "uid 1000"  # one OS user, one client
    assert os_user(monkeypatch, 1001).device == "uid 1001"


def test_the_owners_os_user_logs_in_while_another_guesses(
    v: Vault, alice: User, now: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, mallory = os_user(monkeypatch, 1000), os_user(monkeypatch, 1001)
    assert users.authenticate(v, "alice", ALICE_PW, client=owner) == alice  # trusted from now on
    assert exhaust(v, mallory) == throttle.ACCOUNT_FREE
    assert guess(v, mallory, password=ALICE_PW) == "refused"  # even the right password waits
    # the owner, from the CLI or the TUI (one OS user), is not slowed down at all
    assert guess(v, owner, password=ALICE_PW) == "ok"
    assert guess(v, os_user(monkeypatch, 1000, "tui"), password=ALICE_PW) == "ok"
    # and a third OS user that never logged in as alice waits like mallory: one count for all
    assert guess(v, os_user(monkeypatch, 1002)) == "refused"


def test_the_owners_browser_logs_in_while_others_guess(
    v: Vault, alice: User, now: list[float]
) -> None:
    browser = web()
    users.authenticate(v, "alice", ALICE_PW, client=browser)
    cookie = browser.new_token  # what the server hands out as the device cookie
    # every HTTP client is 127.0.0.1: the guesser looks just like alice's browser, minus the cookie
    assert exhaust(v, web()) == throttle.ACCOUNT_FREE
    assert guess(v, web(), password=ALICE_PW) == "refused"
    again = web(token=cookie)
    assert guess(v, again, password=ALICE_PW) == "ok"
    # each login hands out a new token; the old one no longer counts as alice's device
    assert guess(v, web(token=cookie), password=ALICE_PW) == "refused"
    assert guess(v, web(token=again.new_token), password=ALICE_PW) == "ok"


def test_device_tokens_are_stored_hashed_and_bound_to_their_user(
    v: Vault, alice: User, bob: User, now: list[float]
) -> None:
    browser = web()
    users.authenticate(v, "bob", BOB_PW, client=browser)
    token = browser.new_token
    assert token
    devices = [r[0] for r in v.db.execute("SELECT device FROM trusted_devices")]
    assert devices == ["token " + hashlib.sha256(token.encode()).hexdigest()]
    # bob's device cookie does not make its holder a trusted device of alice
    assert exhaust(v, web()) == throttle.ACCOUNT_FREE
    assert guess(v, web(token=token), password=ALICE_PW) == "refused"


def test_a_trusted_device_with_its_own_failures_is_slowed_alone(
    v: Vault, alice: User, now: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = web()
    users.authenticate(v, "alice", ALICE_PW, client=browser)
    device = web(token=browser.new_token)
    assert exhaust(v, device) == throttle.DEVICE_FREE
    assert guess(v, device, password=ALICE_PW) == "refused"
    # the account itself is not locked: alice's OS user, or a new browser, still get in
    assert guess(v, os_user(monkeypatch, 1000), password=ALICE_PW) == "ok"
    assert guess(v, web("10.1.2.3"), password=ALICE_PW) == "ok"
    now[0] += throttle.FIRST_WAIT
    assert guess(v, device, password=ALICE_PW) == "ok"  # and its success forgives it
    assert exhaust(v, web(token=device.new_token)) == throttle.DEVICE_FREE


def test_waits_grow_then_counts_decay_over_an_hour(v: Vault, alice: User, now: list[float]) -> None:
    client = web()
    for _ in range(throttle.ACCOUNT_FREE):
        assert guess(v, client) == "failed"
    waits = []
    for _ in range(7):
        with pytest.raises(TooManyAttempts) as exc:
            users.authenticate(v, "alice", ALICE_PW, client=client)
        assert str(exc.value) == f"Too many failed logins, retry in {exc.value.retry_after} s"
        waits.append(exc.value.retry_after)
        now[0] += exc.value.retry_after - 1
        assert guess(v, client) == "refused"  # not a second early
        now[0] += 1
        assert guess(v, client) == "failed"
    assert waits == [30, 60, 120, 240, 480, 900, 900]
    now[0] += throttle.WINDOW  # an hour without attempts: everything is forgotten
    assert guess(v, client, password=ALICE_PW) == "ok"
    assert exhaust(v, client) == throttle.ACCOUNT_FREE


def test_at_most_12_guesses_per_account_per_hour_across_all_clients(
    v: Vault, alice: User, now: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guesser with endless addresses, OS users and fresh clients, guessing whenever allowed."""
    start = now[0]
    clients = [
        web("127.0.0.1"),
        web("10.0.0.1"),
        web("10.0.0.2", token="stolen-from-nobody"),
        web("2001:db8::1"),
        web("2001:db9::1"),
        os_user(monkeypatch, 1001),
        os_user(monkeypatch, 1002, "tui"),
    ]
    times: list[float] = []
    i = 0
    while now[0] < start + 6 * 3600 and len(times) < 1000:
        client = clients[i % len(clients)]
        i += 1
        try:
            users.authenticate(v, "alice", WRONG, client=client)
        except LoginFailed:
            times.append(now[0])
        except TooManyAttempts as e:
            now[0] += e.retry_after
    busiest = max(sum(1 for u in times if t <= u < t + 3600) for t in times)
    assert busiest == PER_HOUR
    assert sum(1 for t in times if t < start + 3600) == PER_HOUR


def test_at_most_27_guesses_per_address_per_hour_across_names(v: Vault, now: list[float]) -> None:
    start = now[0]
    times: list[float] = []
    i = 0
    while now[0] < start + 4 * 3600 and len(times) < 1000:
        i += 1
        try:
            users.authenticate(v, f"name{i}", WRONG, client=web(f"127.0.0.{i % 250 + 1}"))
        except LoginFailed:
            times.append(now[0])
        except TooManyAttempts as e:
            now[0] += e.retry_after
    assert max(sum(1 for u in times if t <= u < t + 3600) for t in times) == PER_HOUR_PER_ADDRESS


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "loopback"),
        ("127.45.6.7", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.2", "loopback"),
        ("::ffff:10.0.0.5", "10.0.0.5"),
        ("10.0.0.5", "10.0.0.5"),
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8::ffff:1", "2001:db8::/64"),
        (None, "unknown"),
    ],
)
def test_addresses_that_one_guesser_controls_count_as_one(host: str | None, address: str) -> None:
    assert throttle.network_of(host) == address


def test_the_whole_loopback_range_is_one_address(v: Vault, alice: User, now: list[float]) -> None:
    for i in range(throttle.ADDRESS_FREE):
        assert guess(v, web(f"127.0.0.{i + 2}"), f"victim{i}") == "failed"
    for host in ("127.0.0.1", "127.200.0.1", "::1", "::ffff:127.0.0.1"):
        assert guess(v, web(host), "someone-else") == "refused"
    assert guess(v, web("10.0.0.1"), "someone-else") == "failed"  # another address is not


def test_own_login_does_not_reset_a_guessers_address_count(
    v: Vault, alice: User, now: list[float]
) -> None:
    guesser = web("10.0.0.9")
    for i in range(throttle.ADDRESS_FREE - 1):
        assert guess(v, guesser, f"victim{i}") == "failed"
    assert guess(v, guesser, password=ALICE_PW) == "ok"  # its own account
    assert guess(v, guesser, "victimX") == "failed"
    assert guess(v, guesser, "victimY") == "refused"


def test_one_clients_failures_on_one_name_do_not_lock_out_others(
    v: Vault, alice: User, now: list[float]
) -> None:
    shared = web()
    assert exhaust(v, shared, "mallory") == throttle.ACCOUNT_FREE
    assert guess(v, shared, password=ALICE_PW) == "ok"


def test_a_name_that_cannot_exist_is_counted_and_checked(
    v: Vault, now: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str | None] = []
    real = v.hasher.verify
    monkeypatch.setattr(v.hasher, "verify", lambda s, p: verified.append(s) or real(s, p))
    assert exhaust(v, web(), "no such name!") == throttle.ACCOUNT_FREE
    assert verified == [None] * throttle.ACCOUNT_FREE  # each cost one argon2 verification


def test_parallel_guesses_cannot_exceed_the_limit(v: Vault, alice: User) -> None:
    slow = Vault(v.root, hasher=Hasher())  # real argon2 cost: a wide window for a burst
    outcomes: list[str] = []
    client = web()
    threads = [
        threading.Thread(target=lambda: outcomes.append(guess(slow, client))) for _ in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("failed") == throttle.ACCOUNT_FREE
    assert outcomes.count("refused") == 12 - throttle.ACCOUNT_FREE


def test_a_device_unused_for_long_is_no_longer_trusted(
    v: Vault, alice: User, now: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = os_user(monkeypatch, 1000)
    users.authenticate(v, "alice", ALICE_PW, client=owner)
    now[0] += throttle.DEVICE_EXPIRY
    exhaust(v, os_user(monkeypatch, 1001))
    assert guess(v, owner, password=ALICE_PW) == "refused"


# -- registration limits ------------------------------------------------------------------------


def test_registrations_are_limited_per_address(v: Vault, now: list[float]) -> None:
    for i in range(throttle.REGISTER_FREE):
        users.register(v, f"bot{i}", "password1", client=web(f"127.0.0.{i + 1}"))
    with pytest.raises(TooManyRegistrations) as exc:
        users.register(v, "bot-next", "password1", client=web("::1"))
    assert exc.value.retry_after == throttle.FIRST_WAIT
    assert str(exc.value) == "Too many new accounts from here, retry in 30 s"
    assert isinstance(exc.value, TooManyAttempts)  # front ends answer both alike (429)
    with pytest.raises(NoSuchUser):
        users.find(v, "bot-next")  # nothing was created
    users.register(v, "elsewhere", "password1", client=web("10.0.0.1"))  # another address
    now[0] += throttle.FIRST_WAIT
    users.register(v, "bot-next", "password1", client=web())
    with pytest.raises(TooManyRegistrations) as exc:
        users.register(v, "bot-after", "password1", client=web())
    assert exc.value.retry_after == 2 * throttle.FIRST_WAIT  # the waits grow


def test_taken_names_count_invalid_ones_do_not(v: Vault, alice: User, now: list[float]) -> None:
    for _ in range(throttle.REGISTER_FREE):
        with pytest.raises(UsernameTaken):  # each one still costs a hash: counted
            users.register(v, "alice", "password1", client=web())
    with pytest.raises(InvalidUsername):  # refused before anything costly: not counted
        users.register(v, "bad name", "password1", client=web())
    with pytest.raises(TooManyRegistrations):
        users.register(v, "carol", "password1", client=web())


def test_local_registration_is_not_limited(v: Vault, now: list[float]) -> None:
    for i in range(throttle.REGISTER_FREE + 2):
        users.register(v, f"user{i}", "password1")


def test_the_client_that_registered_is_trusted_by_the_new_account(
    v: Vault, now: list[float]
) -> None:
    browser = web()
    users.register(v, "carol", "carol-password", client=browser)
    assert exhaust(v, web(), "carol") == throttle.ACCOUNT_FREE
    assert guess(v, web(token=browser.new_token), "carol", "carol-password") == "ok"


def test_unencodable_text_is_refused_not_crashed_on(v: Vault, alice: User) -> None:
    from vault.core.errors import InvalidPassword, NoSuchUser

    with pytest.raises(LoginFailed):
        users.authenticate(v, "\ud800", "password1")
    with pytest.raises(LoginFailed):
        users.authenticate(v, "alice", "\ud800abcdefg")
    with pytest.raises(InvalidPassword):
        users.register(v, "carol", "\ud800abcdefg")
    with pytest.raises(NoSuchUser):
        users.find(v, "\ud800")
