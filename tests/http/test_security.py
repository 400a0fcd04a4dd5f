"""Browser-facing defences: DNS rebinding, cross-site requests, login throttling."""

from __future__ import annotations

import httpx
import pytest

from tests.http.helpers import Server, assert_text, login
from tests.support import ALICE_PW
from vault.core.models import User
from vault.core.vault import Vault


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""]
)
def test_foreign_host_is_refused(server: Server, alice_http: httpx.Client, host: str) -> None:
    """A rebinding page reaches 127.0.0.1 but still sends its own name as Host."""
    for method, path in [("GET", "/files"), ("POST", "/login")]:
        r = alice_http.request(method, path, headers={"Host": host}, json={})
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert r.text.startswith("Forbidden: Host ") and "\n" not in r.text


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST:1234"])
def test_loopback_hosts_with_any_port_are_served(alice_http: httpx.Client, host: str) -> None:
    assert alice_http.get("/whoami", headers={"Host": host}).status_code == 200


def test_cross_site_origin_is_refused_on_posts(server: Server, alice: User) -> None:
    body = {"username": "alice", "password": ALICE_PW}
    with server.client() as c:
        for origin in ("http://evil.example", "null", f"http://127.0.0.1:{server.port + 1}"):
            r = c.post("/login", json=body, headers={"Origin": origin})
            assert r.status_code == 403 and r.text.startswith("Forbidden: cross-site request")
            assert "set-cookie" not in r.headers
        r = c.post("/login", json=body, headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403
        # the page served from this very origin may post
        r = c.post("/login", json=body, headers={"Origin": server.url})
        assert_text(r, 200, "Welcome alice")
        # reads are not state-changing: an Origin on a GET is fine
        assert c.get("/whoami", headers={"Origin": "http://evil.example"}).status_code == 200


def test_repeated_failed_logins_get_429_with_retry_after(server: Server, alice: User) -> None:
    with server.client() as c:
        wrong = {"username": "alice", "password": "wrong-password"}
        from vault.core.users import MAX_FAILURES

        codes = [c.post("/login", json=wrong).status_code for _ in range(MAX_FAILURES)]
        assert codes == [401] * MAX_FAILURES
        r = c.post("/login", json={"username": "alice", "password": ALICE_PW})  # even the right one
        assert r.status_code == 429
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        retry = int(r.headers["retry-after"])
        assert 0 < retry <= 30
        assert r.text == f"Too many failed logins, retry in {retry} s"


def test_no_cors_headers(server: Server, alice_http: httpx.Client) -> None:
    r = alice_http.get("/files", headers={"Origin": "http://evil.example"})
    assert not any(k.lower().startswith("access-control-") for k in r.headers)


def test_login_cookie_is_not_readable_by_scripts_and_strict(server: Server, alice: User) -> None:
    c = login(server, "alice", ALICE_PW)
    c.close()
    # checked in detail by test_contract; here: nothing else is set besides the session
    assert list(c.cookies.keys()) == ["vault_session"]


def test_forwarded_for_does_not_dodge_the_client_throttle(server: Server, v: Vault) -> None:
    """Failures count per client address too; a spoofed X-Forwarded-For is not an address."""
    from vault.core import users
    from vault.core.errors import LoginFailed, TooManyAttempts

    # earlier guesses from this address, across many names (cheap hasher, in-process)
    for i in range(users.MAX_CLIENT_FAILURES + 1):
        with pytest.raises((LoginFailed, TooManyAttempts)):
            users.authenticate(v, f"nobody{i}", "whatever1", client="http 127.0.0.1")
    with server.client() as c:
        r = c.post(
            "/login",
            json={"username": "somebody-else", "password": "whatever1"},
            headers={"X-Forwarded-For": "10.9.8.7"},
        )
        assert r.status_code == 429
