"""Upload bodies that end before their closing boundary: refused (400), nothing kept.

Only a part closed by its boundary, in a body closed by the final boundary, may be stored:
a body cut short (a client that stopped early, a proxy that gave up) must never become a
file or a new version holding whatever part of it arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.helpers import (
    Server,
    assert_text,
    chunked,
    exchange,
    multipart,
    multipart_headers,
    raw_post,
    tmp_files,
    wait_for,
)
from tests.support import ALICE_PW
from vault.core import files, sessions
from vault.core.models import User
from vault.core.vault import Vault
from vault.http import contract

HEAD = b'--B\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\n'
WHOLE = multipart([("file", "t.txt", b"hello")], boundary="B")

CUT = {
    "in the first part's data": HEAD + b"hello",
    "before any byte of data": HEAD,
    "after the part's boundary": HEAD + b"hello\r\n--B",
    "after the part's boundary line": HEAD + b"hello\r\n--B\r\n",
    "inside the final boundary": HEAD + b"hello\r\n--B-",
    "in the second part": WHOLE.removesuffix(b"--B--\r\n") + HEAD.removeprefix(b"--B\r\n") + b"x",
    "in the part's headers": b'--B\r\nContent-Disposition: form-data; name="file"; fil',
    "at the very start": b"--",
}


def nothing_kept(v: Vault, user: User, vault_dir: Path, before: list[tuple[str, int]]) -> None:
    wait_for(lambda: tmp_files(vault_dir) == [], what="temp files to go")
    assert [(e.name, e.versions) for e in files.list_files(v, user).own] == before


@pytest.fixture
def token(server: Server, v: Vault, alice: User) -> str:
    return sessions.login(v, "alice", ALICE_PW, client="test")[1]


@pytest.mark.parametrize("body", CUT.values(), ids=CUT.keys())
def test_cut_off_body_is_400_and_keeps_nothing(
    alice_http: httpx.Client, alice: User, v: Vault, vault_dir: Path, body: bytes
) -> None:
    r = alice_http.post("/upload", content=body, headers=multipart_headers("B"))
    assert_text(r, 400, contract.BODY_CUT_OFF)
    nothing_kept(v, alice, vault_dir, [])


def test_cut_off_reupload_adds_no_version(
    alice_http: httpx.Client, alice: User, v: Vault, vault_dir: Path
) -> None:
    assert_text(
        alice_http.post("/upload", content=WHOLE, headers=multipart_headers("B")),
        200,
        "Upload Success!",
    )
    r = alice_http.post("/upload", content=HEAD + b"new", headers=multipart_headers("B"))
    assert_text(r, 400, contract.BODY_CUT_OFF)
    nothing_kept(v, alice, vault_dir, [("t.txt", 1)])
    entry = files.resolve(v, alice, "t.txt")
    assert alice_http.post("/download", json={"file_id": entry.id}).content == b"hello"


def test_several_parts_cut_off_keep_none(
    alice_http: httpx.Client, alice: User, v: Vault, vault_dir: Path
) -> None:
    whole = multipart([("file", "a.txt", b"a" * 3_000_000), ("file", "b.txt", b"b")], "B")
    r = alice_http.post("/upload", content=whole[:-9], headers=multipart_headers("B"))
    assert_text(r, 400, contract.BODY_CUT_OFF)
    nothing_kept(v, alice, vault_dir, [])


def test_chunked_body_ending_without_its_boundary(
    alice_http: httpx.Client, alice: User, v: Vault, vault_dir: Path
) -> None:
    def pieces() -> Iterator[bytes]:  # no Content-Length: chunked, with the final 0-chunk
        yield HEAD
        yield b"hello"

    r = alice_http.post("/upload", content=pieces(), headers=multipart_headers("B"))
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert_text(r, 400, contract.BODY_CUT_OFF)
    nothing_kept(v, alice, vault_dir, [])


def test_chunked_body_raw_with_final_chunk(
    server: Server, token: str, alice: User, v: Vault, vault_dir: Path
) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=B", "Transfer-Encoding": "chunked"}
    reply = exchange(server, raw_post("/upload", token, headers, chunked(HEAD, b"hello")))
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert reply.endswith(b"\r\n\r\n" + contract.BODY_CUT_OFF.encode())
    nothing_kept(v, alice, vault_dir, [])


@pytest.mark.parametrize("complete_parts", [0, 1])
def test_connection_dropped_mid_chunk(
    server: Server, token: str, alice: User, v: Vault, vault_dir: Path, complete_parts: int
) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=B", "Transfer-Encoding": "chunked"}
    first = WHOLE.removesuffix(b"--B--\r\n") if complete_parts else b""
    body = first + HEAD + b"x" * 2_000_000
    # one chunk announced larger than what is sent, then the connection goes away
    request = raw_post("/upload", token, headers, b"%x\r\n" % (len(body) + 100) + body)
    with server.connect() as sock:
        sock.sendall(request)
        wait_for(lambda: tmp_files(vault_dir) != [], what="the upload to reach the store")
    nothing_kept(v, alice, vault_dir, [])
    with server.client(headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/files").json() == {"your_files": [], "shared_files": []}


def test_whole_body_is_still_stored(
    alice_http: httpx.Client, alice: User, v: Vault, vault_dir: Path
) -> None:
    """The final boundary may be followed by an epilogue (RFC 2046), or by nothing at all."""
    for body in (WHOLE, WHOLE.removesuffix(b"\r\n"), WHOLE + b"epilogue"):
        r = alice_http.post("/upload", content=body, headers=multipart_headers("B"))
        assert_text(r, 200, "Upload Success!")
    nothing_kept(v, alice, vault_dir, [("t.txt", 3)])
