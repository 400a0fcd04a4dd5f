"""Streaming uploads: names by the core's rule, several parts, limits, clients that vanish."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.http.helpers import (
    Server,
    assert_text,
    multipart,
    multipart_headers,
    start_raw_upload,
    tmp_files,
    wait_for,
)
from tests.support import ALICE_PW
from vault.core import files, sessions
from vault.core.models import User
from vault.core.vault import Vault


def post_parts(client: httpx.Client, parts: list[tuple[str, str | None, bytes]]) -> httpx.Response:
    return client.post("/upload", content=multipart(parts), headers=multipart_headers())


def names(v: Vault, user: User) -> list[str]:
    return [e.name for e in files.list_files(v, user).own]


def test_unicode_names_round_trip(alice_http: httpx.Client, alice: User, v: Vault) -> None:
    name = "café – 猫 🐈.jpg"
    assert_text(post_parts(alice_http, [("file", name, b"meow")]), 200, "Upload Success!")
    assert names(v, alice) == [name]
    assert alice_http.get("/files").json() == {"your_files": [name], "shared_files": []}


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("..", "'..' has no file name in it once its folders are set aside"),
        ("../", "'../' has no file name in it once its folders are set aside"),
        ("dir/", "'dir/' has no file name in it once its folders are set aside"),
        (" padded.txt", "A file name cannot start or end with white space"),
        ("a" * 256, "A file name can be at most 255 bytes of UTF-8"),
    ],
)
def test_names_break_the_core_rule_400(
    alice_http: httpx.Client, alice: User, v: Vault, vault_dir, name: str, rule: str
) -> None:
    assert_text(post_parts(alice_http, [("file", name, b"x" * 10)]), 400, rule)
    assert names(v, alice) == []
    wait_for(lambda: tmp_files(vault_dir) == [], what="temp files to go")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (b"C:\\Users\\han\\win.png", "win.png"),  # as browsers and curl send it: raw
        (b"C:\\\\Users\\\\han\\\\win.png", "win.png"),  # backslashes escaped (httpx)
        (b"\\\\server\\share\\f.txt", "f.txt"),
        (b"../../etc/passwd", "passwd"),
        (b"photos/2024/cat.jpg", "cat.jpg"),
        (b"./a/../b.txt", "b.txt"),
        (b'q\\"uote\\\\x.txt', "x.txt"),
    ],
)
def test_a_path_is_stored_under_its_last_component(
    alice_http: httpx.Client, alice: User, v: Vault, sent: bytes, stored: str
) -> None:
    """RFC 7578 section 4.2: a filename's last component is the name (`/` and `\\` alike)."""
    body = multipart([("file", "PLACEHOLDER", b"data")])
    body = body.replace(b'filename="PLACEHOLDER"', b'filename="' + sent + b'"')
    r = alice_http.post("/upload", content=body, headers=multipart_headers())
    assert_text(r, 200, "Upload Success!")
    assert names(v, alice) == [stored]


def test_invalid_utf8_name_is_refused(alice_http: httpx.Client, alice: User, v: Vault) -> None:
    body = multipart([("file", "x", b"data")]).replace(b'filename="x"', b'filename="\xff\xfe.txt"')
    r = alice_http.post("/upload", content=body, headers=multipart_headers())
    assert r.status_code == 400 and "control characters" in r.text
    assert names(v, alice) == []


def test_several_file_parts_and_other_fields(
    alice_http: httpx.Client, alice: User, v: Vault
) -> None:
    parts = [
        ("act", None, b"bput"),
        ("file", "one.txt", b"1" * 3_000_000),
        ("comment", None, b"ignored"),
        ("file", "two.txt", b"2"),
        ("file", "", b""),  # an empty file input, as browsers send it
    ]
    assert_text(post_parts(alice_http, parts), 200, "Upload Success!")
    assert names(v, alice) == ["one.txt", "two.txt"]
    entry = files.resolve(v, alice, "one.txt")
    assert entry.size == 3_000_000


def test_all_or_nothing_across_parts(
    alice_http: httpx.Client, alice: User, v: Vault, vault_dir
) -> None:
    parts = [("file", "good.txt", b"g" * 2_000_000), ("file", "bad/..", b"b")]
    assert post_parts(alice_http, parts).status_code == 400
    assert names(v, alice) == []
    wait_for(lambda: tmp_files(vault_dir) == [], what="temp files to go")


def test_no_file_part(alice_http: httpx.Client) -> None:
    msg = "No file in request: send multipart/form-data with a 'file' part"
    assert_text(post_parts(alice_http, [("other", "x.txt", b"x")]), 400, msg)
    assert_text(post_parts(alice_http, [("file", None, b"a plain field")]), 400, msg)
    assert_text(post_parts(alice_http, []), 400, msg)
    r = alice_http.post("/upload", json={"file": "x"})
    assert_text(r, 400, "Send the file as multipart/form-data with a 'file' part")
    r = alice_http.post("/upload", content=b"garbage", headers=multipart_headers())
    assert r.status_code == 400 and r.text.startswith("Malformed multipart/form-data body")


def test_empty_file_is_fine(alice_http: httpx.Client, alice: User, v: Vault) -> None:
    assert_text(post_parts(alice_http, [("file", "empty.txt", b"")]), 200, "Upload Success!")
    entry = files.resolve(v, alice, "empty.txt")
    assert entry.size == 0
    r = alice_http.post("/download", json={"file_id": entry.id})
    assert r.status_code == 200 and r.content == b"" and r.headers["content-length"] == "0"


def test_upload_limit_413(make_server, alice: User, v: Vault, vault_dir) -> None:
    server: Server = make_server("--max-upload", "1000")
    _, token = sessions.login(v, "alice", ALICE_PW, client="test")
    with server.client(headers={"Authorization": f"Bearer {token}"}) as c:
        r = post_parts(c, [("file", "small.txt", b"s" * 1000)])
        assert_text(r, 200, "Upload Success!")
        r = post_parts(c, [("file", "big.txt", b"b" * 1001)])
        assert_text(r, 413, "File is larger than the upload limit of 1000 bytes")
        r = post_parts(c, [("file", "huge.bin", os.urandom(3_000_000))])
        assert r.status_code == 413
    assert names(v, alice) == ["small.txt"]
    wait_for(lambda: tmp_files(vault_dir) == [], what="temp files to go")


def test_disconnect_mid_upload_stores_nothing(
    server: Server, alice: User, v: Vault, vault_dir
) -> None:
    _, token = sessions.login(v, "alice", ALICE_PW, client="test")
    sock = start_raw_upload(server, token, "partial.bin", host="127.0.0.1")
    wait_for(lambda: tmp_files(vault_dir) != [], what="the upload to reach the store")
    sock.close()
    wait_for(lambda: tmp_files(vault_dir) == [], what="the partial upload to be dropped")
    assert names(v, alice) == []
    # and the server is fine afterwards
    with server.client(headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/files").status_code == 200
