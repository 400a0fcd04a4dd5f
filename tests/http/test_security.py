"""Browser-facing defences: DNS rebinding, cross-site requests (login throttling: test_throttle)."""

from __future__ import annotations

import httpx
import pytest

from tests.http.helpers import Server, assert_text
from tests.support import ALICE_PW
from vault.core.models import User


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


def test_no_cors_headers(server: Server, alice_http: httpx.Client) -> None:
    r = alice_http.get("/files", headers={"Origin": "http://evil.example"})
    assert not any(k.lower().startswith("access-control-") for k in r.headers)


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
