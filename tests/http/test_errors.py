"""The undocumented cases: status codes and one-line plain-text bodies that say what to fix."""

from __future__ import annotations

import httpx
import pytest

from tests.http.helpers import Server, assert_text
from tests.support import ALICE_PW
from vault.core import files
from vault.core.models import User
from vault.core.vault import Vault

PROTECTED = [
    ("POST", "/logout"),
    ("GET", "/files"),
    ("GET", "/whoami"),
    ("POST", "/upload"),
    ("POST", "/download"),
    ("POST", "/share"),
    ("POST", "/unshare"),
    ("POST", "/delete"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_endpoints_need_a_session(anon: httpx.Client, method: str, path: str) -> None:
    r = anon.request(method, path, json={"file_id": "1"})
    assert_text(r, 401, "Login required")
    # a made-up token is no better than none
    r = anon.request(method, path, json={}, headers={"Authorization": "Bearer made-up"})
    assert_text(r, 401, "Login required")


def test_login_failures(server: Server, anon: httpx.Client, alice: User) -> None:
    wrong = {"username": "alice", "password": "not-her-password"}
    assert_text(anon.post("/login", json=wrong), 401, "Login Failed, wrong username or password")
    nobody = {"username": "nobody", "password": "whatever1"}
    assert_text(anon.post("/login", json=nobody), 401, "Login Failed, wrong username or password")


def test_malformed_bodies(server: Server, anon: httpx.Client, alice_http: httpx.Client) -> None:
    example = '{"username": "han", "password": "han123"}'
    for body in (b"", b"not json", b"[1, 2]", b'"text"', b"{", b"\xff\xfe\x00", b"[" * 50000):
        r = anon.post("/login", content=body)
        assert_text(r, 400, f"Body must be a JSON object, such as {example}")
    assert_text(
        anon.post("/login", json={"password": "x" * 8}), 400, "Field 'username' is required"
    )
    assert_text(
        anon.post("/login", json={"username": "alice", "password": None}),
        400,
        "Field 'password' is required",
    )
    for bad in (1, ["alice"], {"a": 1}, True):
        r = anon.post("/register", json={"username": bad, "password": "han123"})
        assert_text(r, 400, "Field 'username' must be a string")
    r = alice_http.post("/download", json={})
    assert_text(r, 400, "Field 'file_id' is required")
    ids = "Field 'file_id' must be an id: a decimal number such as \"20\""
    for bad in ("abc", "1.5", 1.5, "-1", -1, True, [1], {"id": 1}, "", " 1", "²", "٣", 2**64):
        assert_text(alice_http.post("/download", json={"file_id": bad}), 400, ids)
        share = {"file_id": bad, "user_destination": "bob"}
        assert_text(alice_http.post("/share", json=share), 400, ids)
    r = alice_http.post("/share", json={"file_id": "1"})
    assert_text(r, 400, "Field 'user_destination_id' is required")
    r = alice_http.post("/share", json={"file_id": "1", "user_destination_id": "bob"})
    assert_text(
        r, 400, "Field 'user_destination_id' must be an id: a decimal number such as \"20\""
    )


def test_json_bodies_are_limited(anon: httpx.Client) -> None:
    big = b'{"username": "' + b"a" * (64 * 1024) + b'", "password": "x"}'
    r = anon.post("/login", content=big)
    assert_text(r, 413, "Request body too large: at most 65536 bytes of JSON")

    def chunks():  # no Content-Length: the limit holds while reading
        yield b'{"username": "'
        for _ in range(20):
            yield b"a" * 8192

    r = anon.post("/register", content=chunks())
    assert_text(r, 413, "Request body too large: at most 65536 bytes of JSON")


def test_registration_rules(anon: httpx.Client, v: Vault) -> None:
    r = anon.post("/register", json={"username": "bad name!", "password": "han123"})
    assert_text(r, 400, "A username is 1 to 64 characters: letters, digits, '.', '_' or '-'")
    r = anon.post("/register", json={"username": "shorty", "password": "12345"})
    assert_text(r, 400, "A password is 6 to 1024 characters long")
    r = anon.post(
        "/register", json={"username": "Robert'); DROP TABLE users;--", "password": "x" * 8}
    )
    assert r.status_code == 400


def test_wrong_method_and_unknown_path(anon: httpx.Client) -> None:
    for method, path in [
        ("GET", "/login"),
        ("GET", "/upload"),
        ("POST", "/files"),
        ("PUT", "/share"),
    ]:
        r = anon.request(method, path)
        assert_text(r, 405, "Method Not Allowed")
        assert r.headers["allow"]
    assert_text(anon.get("/nowhere"), 404, "Not Found")


def test_sql_injection_strings_are_just_data(
    server: Server, alice_http: httpx.Client, alice: User, bob: User, v: Vault
) -> None:
    for name in ("' OR '1'='1", "alice'--", 'x"; DROP TABLE users; --'):
        r = alice_http.post("/login", json={"username": name, "password": "' OR '1'='1"})
        assert_text(r, 401, "Login Failed, wrong username or password")
    assert alice_http.post("/upload", files={"file": ("a.txt", b"a")}).text == "Upload Success!"
    fid = files.list_files(v, alice).own[0].id
    for target in ("' OR '1'='1", "bob' --", "1 OR 1=1", "%", "_", "b%"):
        r = alice_http.post("/share", json={"file_id": fid, "user_destination": target})
        assert_text(r, 200, "User_destination not exist")
    for fid_text in ("1 OR 1=1", "1; DROP TABLE files", "1'"):
        r = alice_http.post("/download", json={"file_id": fid_text})
        assert r.status_code == 400
    assert files.list_files(v, alice).own[0].shared_with == ()
    # the tables survived all of it
    with httpx.Client(base_url=server.url) as c:
        assert c.post("/login", json={"username": "alice", "password": ALICE_PW}).status_code == 200


def test_share_with_self_and_digit_usernames(
    alice_http: httpx.Client, alice: User, v: Vault
) -> None:
    from vault.core import users

    alice_http.post("/upload", files={"file": ("a.txt", b"a")})
    fid = files.list_files(v, alice).own[0].id
    for target in ({"user_destination": "alice"}, {"user_destination_id": str(alice.id)}):
        r = alice_http.post("/share", json={"file_id": fid, **target})
        assert_text(r, 400, "Cannot share a file with yourself")
    # a username made of digits is a name, not an id, when sent as user_destination
    digits = users.register(v, str(alice.id + 100), "password1")
    r = alice_http.post("/share", json={"file_id": fid, "user_destination": digits.username})
    assert_text(r, 200, "File share success")
    assert files.list_files(v, alice).own[0].shared_with == (digits.username,)


def test_ids_up_to_max_id_are_ids_and_beyond_are_400(
    alice_http: httpx.Client, alice: User, bob: User, v: Vault
) -> None:
    """The core's id rule (names.parse_id: ASCII digits up to SQLite's 2**63 - 1), in HTTP."""
    from vault.core.names import MAX_ID

    assert alice_http.post("/upload", files={"file": ("a.txt", b"a")}).text == "Upload Success!"
    fid = files.list_files(v, alice).own[0].id
    for at_max in (str(MAX_ID), MAX_ID, "0" + str(MAX_ID)):
        r = alice_http.post("/download", json={"file_id": at_max})
        assert_text(r, 200, "File not belong to user")
        r = alice_http.post("/delete", json={"file_id": at_max})
        assert_text(r, 200, "File not belong to user")
        share = {"file_id": at_max, "user_destination": "bob"}
        assert_text(alice_http.post("/share", json=share), 200, "File not belong to user_origin")
        share = {"file_id": fid, "user_destination_id": at_max}
        assert_text(alice_http.post("/share", json=share), 200, "User_destination not exist")
        assert_text(alice_http.post("/unshare", json=share), 200, "User_destination not exist")
    ids = "Field '{}' must be an id: a decimal number such as \"20\""
    for beyond in (str(MAX_ID + 1), MAX_ID + 1, "9" * 40):
        r = alice_http.post("/download", json={"file_id": beyond})
        assert_text(r, 400, ids.format("file_id"))
        share = {"file_id": fid, "user_destination_id": beyond}
        assert_text(alice_http.post("/share", json=share), 400, ids.format("user_destination_id"))
    for name in ("bad name!", "x" * 65, "", "ü"):
        share = {"file_id": fid, "user_destination": name}
        assert_text(alice_http.post("/share", json=share), 200, "User_destination not exist")
    assert files.list_files(v, alice).own[0].shared_with == ()
