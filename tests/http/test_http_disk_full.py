"""The real server on a full disk (a small tmpfs filled to the last byte).

Listing and downloading go on, a delete works and frees space, every other write answers
507 with the contract's one line (never a 500), and once space is back all works again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from small_disk import fill, free_bytes, small_disk

from tests.http.helpers import Server, assert_text, login, multipart, multipart_headers
from tests.support import ALICE_PW
from vault.core import files
from vault.core.models import User
from vault.core.vault import Vault
from vault.http import contract

BIG = os.urandom(1 << 20)


@pytest.fixture
def vault_dir(isolated_env: dict[str, str]) -> Iterator[Path]:
    """VAULT_HOME on a tmpfs of its own, mounted before the server or the core open it."""
    with small_disk(Path(isolated_env["VAULT_HOME"])) as folder:
        yield folder


def upload(client: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return client.post(
        "/upload", content=multipart([("file", name, data)]), headers=multipart_headers()
    )


def file_id(v: Vault, user: User, name: str) -> str:
    return str(files.resolve(v, user, name).id)


def test_http_on_a_full_disk(
    server: Server,
    alice_http: httpx.Client,
    bob_http: httpx.Client,
    v: Vault,
    alice: User,
    bob: User,
    vault_dir: Path,
) -> None:
    assert_text(upload(alice_http, "big.bin", BIG), 200, contract.UPLOAD_OK)
    assert_text(upload(alice_http, "small.txt", b"hello"), 200, contract.UPLOAD_OK)
    big, small = file_id(v, alice, "big.bin"), file_id(v, alice, "small.txt")
    share = {"file_id": small, "user_destination": "bob"}
    assert_text(alice_http.post("/share", json=share), 200, contract.SHARE_OK)
    v.db.execute("UPDATE sessions SET last_seen = last_seen - 3600")  # so reads want to touch
    filler = fill(vault_dir)
    full = contract.STORAGE_FULL

    # reads and downloads
    assert alice_http.get("/files").json() == {
        "your_files": ["big.bin", "small.txt"],
        "shared_files": [],
    }
    assert bob_http.get("/files").json() == {"your_files": [], "shared_files": ["small.txt"]}
    r = alice_http.post("/download", json={"file_id": big})
    assert (r.status_code, r.content) == (200, BIG)
    r = bob_http.post("/download", json={"file_id": small})
    assert (r.status_code, r.content) == (200, b"hello")

    # every other write: 507 and the contract's line
    credentials = {"username": "alice", "password": ALICE_PW}
    with server.client() as anon:
        assert_text(anon.post("/login", json=credentials), 507, full)
        carol = {"username": "carol", "password": "carol-pass"}
        assert_text(anon.post("/register", json=carol), 507, full)
    assert_text(upload(alice_http, "new.txt", b"new"), 507, full)
    share_big = {"file_id": big, "user_destination": "bob"}
    assert_text(alice_http.post("/share", json=share_big), 507, full)
    assert alice_http.get("/files").json()["your_files"] == ["big.bin", "small.txt"]

    # a delete works, and frees space
    assert_text(alice_http.post("/delete", json={"file_id": big}), 200, contract.DELETE_OK)
    assert alice_http.get("/files").json()["your_files"] == ["small.txt"]
    assert free_bytes(vault_dir) > len(BIG) // 2

    # space back: everything works again
    filler.unlink()
    again = login(server, "alice", ALICE_PW)
    assert_text(upload(again, "new.txt", b"new"), 200, contract.UPLOAD_OK)
    assert again.get("/files").json()["your_files"] == ["new.txt", "small.txt"]
    again.close()
    with server.client() as anon:
        body = {"username": "carol", "password": "carol-pass"}
        assert_text(anon.post("/register", json=body), 200, "Register Success!, Welcome carol")
    assert_text(alice_http.post("/share", json=share), 200, contract.SHARE_OK)
    assert "Traceback" not in server.stderr()
