"""Every documented row of the contract, byte-exact, and the original service's own flow."""

from __future__ import annotations

import json

import httpx

from tests.http.helpers import TEXT, Server, assert_text
from tests.support import ALICE_PW
from vault.core import files
from vault.core.models import User
from vault.core.vault import Vault


def upload(client: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return client.post("/upload", files={"file": (name, data)})


def test_the_original_flow(server: Server) -> None:
    """register han / han1 (han123), login, upload Cat03.jpg, files, share, download, logout."""
    photo = bytes(range(256)) * 40
    with server.client() as han, server.client() as han1:
        for name in ("han", "han1"):
            r = han.post("/register", json={"username": name, "password": "han123"})
            assert_text(r, 200, f"Register Success!, Welcome {name}")
        r = han.post("/register", json={"username": "han1", "password": "han123"})
        assert_text(r, 200, "Register Failed, Username already exist!")

        assert_text(
            han.post("/login", json={"username": "han", "password": "han123"}), 200, "Welcome han"
        )
        assert_text(upload(han, "Cat03.jpg", photo), 200, "Upload Success!")
        r = han.get("/files")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        assert r.text == '{"your_files": ["Cat03.jpg"], "shared_files": []}'

        file_id = han.get("/files", params={"details": "1"}).json()["your_files"][0]["id"]
        assert_text(
            han1.post("/login", json={"username": "han1", "password": "han123"}),
            200,
            "Welcome han1",
        )
        han1_id = han1.get("/whoami").json()["id"]
        r = han.post("/share", json={"file_id": str(file_id), "user_destination_id": str(han1_id)})
        assert_text(r, 200, "File share success")

        assert han1.get("/files").text == '{"your_files": [], "shared_files": ["Cat03.jpg"]}'
        r = han1.post("/download", json={"file_id": str(file_id)})
        assert r.status_code == 200
        assert r.content == photo
        assert r.headers["content-disposition"] == 'attachment; filename="Cat03.jpg"'
        assert r.headers["content-length"] == str(len(photo))

        assert_text(han.post("/logout"), 200, "Successfully Logged out from han")
        assert_text(han.get("/files"), 401, "Login required")
        # the recipient's session is its own
        assert han1.get("/files").status_code == 200


def test_login_sets_a_strict_httponly_cookie(server: Server, alice: User) -> None:
    with server.client() as c:
        r = c.post("/login", json={"username": "alice", "password": ALICE_PW})
        assert_text(r, 200, "Welcome alice")
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("vault_session=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie


def test_welcome_uses_the_name_as_registered(server: Server, v: Vault) -> None:
    from vault.core import users

    users.register(v, "Han", "han123")
    with server.client() as c:
        r = c.post("/login", json={"username": "han", "password": "han123"})
        assert_text(r, 200, "Welcome Han")


def test_logout_revokes_the_session_server_side(server: Server, alice_http: httpx.Client) -> None:
    token = alice_http.cookies["vault_session"]
    assert_text(alice_http.post("/logout"), 200, "Successfully Logged out from alice")
    # replaying the old cookie (or the token as Bearer) does not work any more
    with server.client() as replay:
        replay.cookies.set("vault_session", token)
        assert_text(replay.get("/files"), 401, "Login required")
        replay.cookies.clear()
        r = replay.get("/files", headers={"Authorization": f"Bearer {token}"})
        assert_text(r, 401, "Login required")
        assert_text(
            replay.post("/logout", headers={"Authorization": f"Bearer {token}"}),
            401,
            "Login required",
        )


def test_share_documented_failures(
    server: Server, alice_http: httpx.Client, bob_http: httpx.Client, bob: User, v: Vault
) -> None:
    assert upload(alice_http, "a.txt", b"a").status_code == 200
    assert upload(bob_http, "b.txt", b"b").status_code == 200
    own = alice_http.get("/files?details=1").json()["your_files"][0]["id"]
    bobs = bob_http.get("/files?details=1").json()["your_files"][0]["id"]
    # not the caller's file, and a file that does not exist: the same answer
    for fid in (str(bobs), "999999"):
        r = alice_http.post("/share", json={"file_id": fid, "user_destination_id": str(bob.id)})
        assert_text(r, 200, "File not belong to user_origin")
    r = alice_http.post("/share", json={"file_id": str(own), "user_destination_id": "424242"})
    assert_text(r, 200, "User_destination not exist")
    r = alice_http.post("/share", json={"file_id": str(own), "user_destination": "nobody"})
    assert_text(r, 200, "User_destination not exist")
    # a file shared with bob is still not bob's to share
    assert alice_http.post("/share", json={"file_id": own, "user_destination": "bob"}).text == (
        "File share success"
    )
    r = bob_http.post("/share", json={"file_id": str(own), "user_destination": "alice"})
    assert_text(r, 200, "File not belong to user_origin")


def test_download_documented_failure_leaks_nothing(
    server: Server, alice_http: httpx.Client, bob_http: httpx.Client
) -> None:
    assert upload(alice_http, "secret.txt", b"s").status_code == 200
    fid = alice_http.get("/files?details=1").json()["your_files"][0]["id"]
    not_yours = bob_http.post("/download", json={"file_id": str(fid)})
    missing = bob_http.post("/download", json={"file_id": "987654"})
    for r in (not_yours, missing):
        assert_text(r, 200, "File not belong to user")
    assert not_yours.headers.keys() == missing.headers.keys()


def test_recipient_may_download_and_loses_access_on_unshare(
    server: Server, alice_http: httpx.Client, bob_http: httpx.Client, bob: User
) -> None:
    assert upload(alice_http, "shared.bin", b"xyz" * 1000).status_code == 200
    fid = alice_http.get("/files?details=1").json()["your_files"][0]["id"]
    share = {"file_id": fid, "user_destination_id": bob.id}  # integers are accepted too
    assert_text(alice_http.post("/share", json=share), 200, "File share success")
    assert_text(alice_http.post("/share", json=share), 200, "File share success")  # twice: no-op
    details = bob_http.get("/files?details=1").json()
    assert details["your_files"] == []
    (entry,) = details["shared_files"]
    assert (
        entry["owner"] == "alice" and entry["name"] == "shared.bin" and "shared_with" not in entry
    )
    assert set(entry) == {"id", "name", "size", "sha256", "uploaded_at", "owner"}
    assert bob_http.post("/download", json={"file_id": fid}).content == b"xyz" * 1000
    mine = alice_http.get("/files?details=1").json()["your_files"][0]
    assert mine["shared_with"] == ["bob"] and "owner" not in mine
    r = alice_http.post("/unshare", json={"file_id": str(fid), "user_destination": "bob"})
    assert_text(r, 200, "File unshare success")
    assert_text(bob_http.post("/download", json={"file_id": fid}), 200, "File not belong to user")
    assert bob_http.get("/files").text == '{"your_files": [], "shared_files": []}'


def test_whoami_and_bearer(server: Server, alice: User, v: Vault) -> None:
    from vault.core import sessions

    _, token = sessions.login(v, "alice", ALICE_PW, client="test")
    with server.client(headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.get("/whoami")
        assert r.headers["content-type"] == "application/json"
        assert r.text == json.dumps({"id": alice.id, "username": "alice"})
        assert_text(upload(c, "via-bearer.txt", b"hi"), 200, "Upload Success!")
    assert [e.name for e in files.list_files(v, alice).own] == ["via-bearer.txt"]


def test_delete_is_owner_only(
    server: Server, alice_http: httpx.Client, bob_http: httpx.Client, alice: User, v: Vault
) -> None:
    assert upload(alice_http, "gone.txt", b"x").status_code == 200
    fid = alice_http.get("/files?details=1").json()["your_files"][0]["id"]
    alice_http.post("/share", json={"file_id": fid, "user_destination": "bob"})
    assert_text(bob_http.post("/delete", json={"file_id": fid}), 200, "File not belong to user")
    assert_text(alice_http.post("/delete", json={"file_id": str(fid)}), 200, "File delete success")
    assert files.list_files(v, alice).own == []
    assert_text(alice_http.post("/delete", json={"file_id": fid}), 200, "File not belong to user")


def test_reupload_keeps_a_version(
    server: Server, alice_http: httpx.Client, alice: User, v: Vault
) -> None:
    assert upload(alice_http, "notes.txt", b"one").status_code == 200
    assert upload(alice_http, "notes.txt", b"two").status_code == 200
    (entry,) = files.list_files(v, alice).own
    assert entry.versions == 2
    assert alice_http.post("/download", json={"file_id": entry.id}).content == b"two"


def test_json_content_type_is_not_required(server: Server, alice: User) -> None:
    """Clients of the original sent JSON with or without a JSON content type."""
    with server.client() as c:
        body = json.dumps({"username": "alice", "password": ALICE_PW})
        r = c.post("/login", content=body, headers={"content-type": "text/plain"})
        assert r.status_code == 200 and r.headers["content-type"] == TEXT
