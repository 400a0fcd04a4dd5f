"""Slow and idle clients: deadlines for request heads and bodies, idle keep-alive, a cap.

A client that connects and sends nothing, sends its head a byte at a time, or stalls in its
body must not hold a connection for ever, and a few hundred of them must not keep anyone
else out. The servers here get short timeouts through VAULT_HTTP_* variables.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.helpers import Server, raw_post, tmp_files, wait_for
from tests.support import ALICE_PW
from vault.core import files, sessions
from vault.core.models import User
from vault.core.vault import Vault
from vault.http import contract

HEAD = b"GET /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n"
TICK = 0.05


def read_until_closed(sock: socket.socket, tick: Callable[[], object] = lambda: None) -> bytes:
    """What the server sends until it closes `sock` (bounded wait); `tick` runs between reads."""
    deadline = time.monotonic() + 15.0
    got = b""
    sock.settimeout(TICK)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
            if not chunk:
                return got
            got += chunk
        except TimeoutError:
            try:
                tick()
            except (BrokenPipeError, ConnectionResetError):
                return got
        except ConnectionResetError:
            return got
    raise AssertionError(f"the server kept the connection open; it sent {got[:200]!r}")


def opened(server: Server, count: int, first: bytes = b"") -> Iterator[socket.socket]:
    for _ in range(count):
        sock = server.connect()
        if first:
            sock.sendall(first)
        yield sock


@pytest.fixture
def token(v: Vault, alice: User) -> str:
    return sessions.login(v, "alice", ALICE_PW, client="test")[1]


def test_a_connection_that_sends_nothing_is_closed(make_server, monkeypatch) -> None:
    monkeypatch.setenv("VAULT_HTTP_HEADER_TIMEOUT", "0.3")
    server: Server = make_server()
    with server.connect() as sock:
        assert read_until_closed(sock) == b""


def test_a_head_that_never_ends_is_closed_even_while_it_trickles(make_server, monkeypatch) -> None:
    """The head has one deadline, so sending a byte now and then does not extend it."""
    monkeypatch.setenv("VAULT_HTTP_HEADER_TIMEOUT", "0.3")
    server: Server = make_server()
    with server.connect() as sock:
        sock.sendall(HEAD)
        assert read_until_closed(sock, lambda: sock.sendall(b"X-Slow: 1\r\n")) == b""


def test_a_head_too_large_is_431(server: Server) -> None:
    """httptools buffers a head without limit; within the head deadline that could be GBs."""
    from vault.http.limits import MAX_HEAD

    start = HEAD + b"X-Big: "
    with server.connect() as sock:
        sock.sendall(start + b"a" * (MAX_HEAD + 1 - len(start)))  # all read before the close
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 431 ")
    assert reply.endswith(b"\r\n\r\n" + contract.HEAD_TOO_LARGE.format(limit=MAX_HEAD).encode())
    r = httpx.get(server.url + "/whoami", headers={"X-Big": "a" * 32_000})
    assert r.status_code == 401


def test_a_kept_alive_connection_is_closed_when_idle(make_server, monkeypatch) -> None:
    monkeypatch.setenv("VAULT_HTTP_HEADER_TIMEOUT", "600")
    monkeypatch.setenv("VAULT_HTTP_IDLE_TIMEOUT", "0.3")
    server: Server = make_server()
    with server.connect() as sock:
        sock.sendall(HEAD + b"\r\n")
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 401 ") and reply.endswith(b"\r\n\r\nLogin required")


@pytest.mark.parametrize("trickle", [False, True], ids=["stalled", "trickling"])
def test_a_slow_body_is_closed_and_stores_nothing(
    make_server, monkeypatch, token: str, alice: User, v: Vault, vault_dir: Path, trickle: bool
) -> None:
    monkeypatch.setenv("VAULT_HTTP_BODY_TIMEOUT", "0.3")
    server: Server = make_server()
    headers = {"Content-Type": "multipart/form-data; boundary=B", "Content-Length": "100000"}
    part = b'--B\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\n\r\n'
    with server.connect() as sock:
        sock.sendall(raw_post("/upload", token, headers, part + b"x" * 10))
        read_until_closed(sock, (lambda: sock.sendall(b"x")) if trickle else (lambda: None))
    wait_for(lambda: tmp_files(vault_dir) == [], what="the partial upload to be dropped")
    assert files.list_files(v, alice).own == []


def test_a_body_that_keeps_coming_is_not_cut(
    make_server, monkeypatch, token: str, alice: User, v: Vault
) -> None:
    monkeypatch.setenv("VAULT_HTTP_BODY_TIMEOUT", "0.3")
    server: Server = make_server()
    with server.client(headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post("/upload", files={"file": ("big.bin", b"b" * 30_000_000)})
        assert r.text == "Upload Success!"
    assert files.resolve(v, alice, "big.bin").size == 30_000_000


def test_hundreds_of_idle_and_slow_clients_do_not_starve_a_normal_one(
    make_server, monkeypatch, token: str
) -> None:
    """With 256 open files (the connections alone would use them up), newcomers take the
    place of the connections idle longest instead of waiting for the head deadline."""
    monkeypatch.setenv("VAULT_HTTP_HEADER_TIMEOUT", "600")
    server: Server = make_server(nofile=256)
    socks: list[socket.socket] = []
    try:
        socks += opened(server, 150)
        socks += opened(server, 150, first=HEAD)
        with server.client(headers={"Authorization": f"Bearer {token}"}) as c:
            assert c.get("/whoami").json()["username"] == "alice"
        assert read_until_closed(socks[0]) == b""  # the oldest idle one made room
    finally:
        for sock in socks:
            sock.close()


def test_at_the_cap_with_every_connection_at_work_newcomers_get_503(
    make_server, monkeypatch, token: str
) -> None:
    monkeypatch.setenv("VAULT_HTTP_MAX_CONNECTIONS", "3")
    server: Server = make_server()
    # the server answers `100 Continue` once the app waits for the body: the request is at work
    busy = raw_post("/share", token, {"Content-Length": "100", "Expect": "100-continue"})
    socks = list(opened(server, 3, first=busy))
    try:
        for sock in socks:
            assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        with server.connect() as sock:
            reply = read_until_closed(sock)
        assert reply.startswith(b"HTTP/1.1 503 ")
        assert reply.endswith(b"\r\n\r\n" + contract.SERVER_BUSY.encode())
    finally:
        for sock in socks:
            sock.close()

    def served() -> bool:
        try:
            return httpx.get(server.url + "/whoami").status_code == 401
        except httpx.TransportError:
            return False

    wait_for(served, what="a connection to be served once the busy ones left")


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf"])
def test_a_bad_limit_is_one_line(isolated_env, value: str) -> None:
    env = {**os.environ, **isolated_env, "VAULT_HTTP_HEADER_TIMEOUT": value}
    r = subprocess.run(
        [sys.executable, "-m", "vault", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert r.returncode == 1
    assert r.stderr == "vault: VAULT_HTTP_HEADER_TIMEOUT must be a positive number of seconds\n"
