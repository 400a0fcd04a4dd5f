"""Login throttling and registration limits through the real server (vault/core/throttle.py).

The server runs real argon2 on its own clock. Scenarios that need time to have passed are set
up in-process, with the core's clock moved back, before the server is asked.
"""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.http.helpers import Server, assert_text, login
from tests.support import ALICE_PW, seed_guesses
from vault.core import throttle, users
from vault.core.errors import LoginFailed
from vault.core.models import User
from vault.core.vault import Vault

WRONG = {"username": "alice", "password": "wrong-password"}
RIGHT = {"username": "alice", "password": ALICE_PW}


def from_address(server: Server, address: str) -> httpx.Client:
    """A client whose connections come from `address` (any of 127.0.0.0/8 reaches the server)."""
    return server.client(transport=httpx.HTTPTransport(local_address=address))


def assert_throttled(r: httpx.Response, what: str = "failed logins") -> int:
    """429, Retry-After, the one-line text; returns the seconds to wait."""
    assert r.status_code == 429, r.text
    retry = int(r.headers["retry-after"])
    assert_text(r, 429, f"Too many {what}, retry in {retry} s")
    return retry


def test_repeated_failed_logins_get_429_with_retry_after(server: Server, alice: User) -> None:
    with server.client() as c:
        codes = [c.post("/login", json=WRONG).status_code for _ in range(throttle.ACCOUNT_FREE)]
        assert codes == [401] * throttle.ACCOUNT_FREE
        retry = assert_throttled(c.post("/login", json=RIGHT))  # even the right password waits
        assert 0 < retry <= throttle.FIRST_WAIT


def test_login_sets_the_session_cookie_and_a_device_cookie_only(
    server: Server, v: Vault, alice: User
) -> None:
    with server.client() as c:
        r = c.post("/login", json=RIGHT)
        assert_text(r, 200, "Welcome alice")
        assert sorted(c.cookies.keys()) == ["vault_device", "vault_session"]
        (device,) = [h for h in r.headers.get_list("set-cookie") if h.startswith("vault_device=")]
        assert "HttpOnly" in device and "SameSite=strict" in device and "Path=/login" in device
        token = c.cookies["vault_device"]
    # the database keeps only its hash
    stored = [row[0] for row in v.db.execute("SELECT device FROM trusted_devices")]
    assert stored == ["token " + hashlib.sha256(token.encode()).hexdigest()]


def test_the_owners_browser_logs_in_while_another_client_guesses(
    server: Server, alice: User
) -> None:
    owner = login(server, "alice", ALICE_PW)  # alice's browser: it now holds a device cookie
    assert owner.post("/logout").status_code == 200
    with server.client() as guesser:  # the same address (127.0.0.1), no device cookie
        for _ in range(throttle.ACCOUNT_FREE):
            assert guesser.post("/login", json=WRONG).status_code == 401
        assert_throttled(guesser.post("/login", json=RIGHT))
    assert_text(owner.post("/login", json=RIGHT), 200, "Welcome alice")
    assert owner.get("/whoami").json()["username"] == "alice"
    owner.close()
    with from_address(server, "127.0.0.2") as stranger:  # any client without the cookie waits
        assert_throttled(stranger.post("/login", json=RIGHT))


def test_the_whole_loopback_range_counts_as_one_address(server: Server) -> None:
    for i in range(throttle.ADDRESS_FREE):
        with from_address(server, f"127.0.0.{i + 2}") as c:
            r = c.post("/login", json={"username": f"name{i}", "password": "whatever1"})
            assert r.status_code == 401, r.text
    for address in ("127.0.0.1", "127.0.0.99", "127.1.2.3"):
        with from_address(server, address) as c:
            assert_throttled(c.post("/login", json={"username": "new", "password": "whatever1"}))


def test_forwarded_for_does_not_dodge_the_address_count(server: Server, v: Vault) -> None:
    """A spoofed X-Forwarded-For is not an address."""
    for i in range(throttle.ADDRESS_FREE):  # earlier guesses from loopback (in-process, cheap)
        with pytest.raises(LoginFailed):
            users.authenticate(
                v, f"nobody{i}", "whatever1", client=throttle.http_client("127.0.0.1", None)
            )
    with server.client() as c:
        r = c.post(
            "/login",
            json={"username": "somebody-else", "password": "whatever1"},
            headers={"X-Forwarded-For": "10.9.8.7"},
        )
        assert_throttled(r)


def test_waits_grow_to_minutes_and_the_owner_is_still_let_in(
    server: Server, v: Vault, alice: User
) -> None:
    owner = login(server, "alice", ALICE_PW)
    assert seed_guesses(v, last_ago=10) == 12  # an hour's worth of guessing
    with server.client() as guesser:
        retry = assert_throttled(guesser.post("/login", json=WRONG))
        assert 600 < retry <= throttle.LONGEST_WAIT  # long past the first 30 s
    assert_text(owner.post("/login", json=RIGHT), 200, "Welcome alice")
    owner.close()


def test_guesses_from_over_an_hour_ago_are_forgotten(server: Server, v: Vault, alice: User) -> None:
    assert seed_guesses(v, last_ago=throttle.WINDOW + 10) == 12
    with server.client() as c:
        assert c.post("/login", json=WRONG).status_code == 401
        assert_text(c.post("/login", json=RIGHT), 200, "Welcome alice")


def test_registration_is_limited_per_address(server: Server) -> None:
    for i in range(throttle.REGISTER_FREE):
        with from_address(server, f"127.0.0.{i + 1}") as c:
            r = c.post("/register", json={"username": f"bot{i}", "password": "han123"})
            assert_text(r, 200, f"Register Success!, Welcome bot{i}")
    with from_address(server, "127.0.0.200") as c:
        r = c.post("/register", json={"username": "one-more", "password": "han123"})
        assert 0 < assert_throttled(r, "new accounts from here") <= throttle.FIRST_WAIT
        # nothing was created: the name is still unknown
        r = c.post("/login", json={"username": "one-more", "password": "han123"})
        assert_text(r, 401, "Login Failed, wrong username or password")


def test_the_browser_that_registered_is_trusted_by_the_new_account(server: Server) -> None:
    with server.client() as owner:
        r = owner.post("/register", json={"username": "han", "password": "han123"})
        assert_text(r, 200, "Register Success!, Welcome han")
        assert "vault_device" in owner.cookies
        with server.client() as guesser:
            for _ in range(throttle.ACCOUNT_FREE):
                r = guesser.post("/login", json={"username": "han", "password": "guess123"})
                assert r.status_code == 401
            r = guesser.post("/login", json={"username": "han", "password": "han123"})
            assert_throttled(r)
        r = owner.post("/login", json={"username": "han", "password": "han123"})
        assert_text(r, 200, "Welcome han")
