"""Fixtures for the HTTP API: the real server (`python -m vault serve --port 0`) per test.

`server` runs on the test's own VAULT_HOME, so users registered in-process through the `alice`
and `bob` fixtures (cheap argon2) can log in over HTTP; `alice_http` and `bob_http` carry a
session cookie opened in-process. The server is stopped with SIGTERM at
the end of the test, and must exit 0.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.helpers import Server
from tests.support import ALICE_PW, BOB_PW
from vault.core import sessions
from vault.core.models import User
from vault.core.vault import Vault


def session_client(server: Server, v: Vault, username: str, password: str) -> httpx.Client:
    """A client holding a session cookie opened in-process (no argon2 work in the server;
    /login itself is tested on its own)."""
    _, token = sessions.login(v, username, password, client="test")
    client = server.client()
    client.cookies.set("vault_session", token)
    return client


def _server(
    isolated_env: dict[str, str], vault_dir: Path, extra: tuple[str, ...], nofile: int | None
) -> Server:
    env = dict(os.environ)
    env.update(isolated_env)
    env["PYTHONUNBUFFERED"] = "1"
    return Server(vault_dir, env, list(extra), nofile=nofile)


@pytest.fixture
def make_server(isolated_env: dict[str, str], vault_dir: Path) -> Iterator:
    """`make_server(*extra_args, nofile=None)` starts a server (VAULT_* variables come from
    the test's environment); all are stopped (and checked) at the end."""
    started: list[Server] = []

    def make(*extra: str, nofile: int | None = None) -> Server:
        s = _server(isolated_env, vault_dir, extra, nofile).start()
        started.append(s)
        return s

    yield make
    for s in started:
        if s.proc and s.proc.returncode is None:
            code = s.stop()
            assert code == 0, s.stderr()


@pytest.fixture
def server(make_server) -> Server:
    return make_server()


@pytest.fixture
def anon(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture
def alice_http(server: Server, v: Vault, alice: User) -> Iterator[httpx.Client]:
    c = session_client(server, v, "alice", ALICE_PW)
    yield c
    c.close()


@pytest.fixture
def bob_http(server: Server, v: Vault, bob: User) -> Iterator[httpx.Client]:
    c = session_client(server, v, "bob", BOB_PW)
    yield c
    c.close()
