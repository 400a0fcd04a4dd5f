"""Browser-facing defences: DNS rebinding, cross-site requests, login throttling."""

from __future__ import annotations

import httpx
import pytest

from tests.http.helpers import Server, assert_text, login
from tests.support import ALICE_PW
from vault.core.models import User
from vault.core.vault import Vault


@pytest.mark.parametrize(
    "host",
    [
        "evil.example", "evil.example:8000", "127.0.0.1.evil.example", "",
        "localhost.evil.example", "[::1].evil.example", "[::1]evil.example",
        "localhost:evil.example", "localhost:80@evil.example", "127.0.0.1:80, evil.example",
    ],
)  # fmt: skip
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


def test_login_sets_only_the_session_cookie(server: Server, alice: User) -> None:
    c = login(server, "alice", ALICE_PW)
    c.close()
    # HttpOnly and SameSite=Strict are checked in test_contract; here: nothing else is set
    assert list(c.cookies.keys()) == ["vault_session"]


def test_two_host_headers_are_refused(server: Server) -> None:
    sock = server.connect()
    sock.sendall(b"GET /whoami HTTP/1.1\r\nHost: evil.example\r\nHost: localhost\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    sock.close()
    assert reply.startswith(b"HTTP/1.1 403"), reply[:100]


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "\\ud800", "password": "password1"}',
        '{"username": "alice", "password": "\\ud800abcdefg"}',
    ],
)
@pytest.mark.parametrize("path", ["/login", "/register"])
def test_text_that_is_not_unicode_is_a_clear_refusal(
    server: Server, alice: User, path: str, body: str
) -> None:
    r = httpx.post(server.url + path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 401), r.text
    assert "\n" not in r.text and "Internal" not in r.text


def test_a_logged_out_client_learns_that_before_its_body_is_read(server: Server) -> None:
    r = httpx.post(server.url + "/share", content=b"x" * 200_000)
    assert r.status_code == 401 and r.text == "Login required"


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
