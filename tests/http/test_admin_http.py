"""Admin acts as HTTP sees them: a disabled account gets no login and its session stops."""

from __future__ import annotations

import httpx

from tests.http.helpers import TEXT, Server, login
from tests.support import ALICE_PW
from vault.core import admin
from vault.core.models import User
from vault.core.vault import Vault


def test_a_disabled_account_is_refused_over_http(
    server: Server, v: Vault, alice: User, alice_http: httpx.Client
) -> None:
    assert alice_http.get("/whoami").status_code == 200
    fresh = login(server, "alice", ALICE_PW)  # ended by the disable, as every session
    admin.disable(v, "alice", "admin root")
    for client in (alice_http, fresh):
        r = client.get("/whoami")
        assert (r.status_code, r.headers["content-type"], r.text) == (
            401, TEXT, "Login required"
        )  # fmt: skip
    fresh.close()
    with server.client() as anon:
        r = anon.post("/login", json={"username": "alice", "password": ALICE_PW})
        assert r.status_code == 401, r.text
    admin.enable(v, "alice", "admin root")
    login(server, "alice", ALICE_PW).close()


def test_a_peer_account_logs_in_over_http_with_its_password(server: Server, v: Vault) -> None:
    from vault.core.peers import AUTO, Peer, account

    me = account(v, Peer(1001, "carol", admin=False), AUTO)
    admin.set_password(v, me, "carols-password", None)
    login(server, "carol", "carols-password").close()
