"""Small pure pieces of the HTTP layer, and the catch-all 500 (Starlette's TestClient)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.support import ALICE_PW
from vault.core import sessions
from vault.core.models import User
from vault.core.vault import Vault
from vault.http.app import make_app
from vault.http.downloads import content_disposition, parse_range
from vault.http.security import split_host
from vault.http.uploads import disposition


def test_disposition_keeps_names_as_sent() -> None:
    assert disposition(b'form-data; name="file"; filename="a b.txt"') == ("file", "a b.txt")
    assert disposition(b"form-data; name=file; filename=x.txt") == ("file", "x.txt")
    # no path stripping here: the core's rule decides (and refuses) such names
    assert disposition(b'form-data; name="file"; filename="C:\\\\dir\\\\x.txt"')[1] == (
        "C:\\dir\\x.txt"
    )
    assert disposition(b'form-data; name="file"; filename="q\\"uote"')[1] == 'q"uote'
    # a backslash before anything else is the character itself (a Windows path, unescaped)
    assert disposition(b'form-data; name="file"; filename="C:\\Users\\x.txt"')[1] == (
        "C:\\Users\\x.txt"
    )
    assert disposition('form-data; name="file"; filename="猫"'.encode())[1] == "猫"
    assert disposition(b"form-data; name=\"file\"; filename*=UTF-8''%E7%8C%AB")[1] == "猫"
    assert disposition(b'form-data; name="file"') == ("file", None)


def test_parse_range() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 5)
    assert parse_range("bytes=-3", 10) == (7, 10)
    assert parse_range("bytes=-30", 10) == (0, 10)
    assert parse_range("bytes=10-", 10) is False
    assert parse_range("bytes=5-2", 10) is None
    assert parse_range("bytes=0-0", 0) is False
    assert parse_range("bytes=1-2,4-5", 10) is None


def test_content_disposition_ascii_is_plain() -> None:
    assert content_disposition("Cat03.jpg") == 'attachment; filename="Cat03.jpg"'


def test_split_host() -> None:
    assert split_host("LocalHost:8000") == "localhost"
    assert split_host("[::1]:80") == "[::1]"
    assert split_host("127.0.0.1") == "127.0.0.1"


def test_unexpected_errors_are_one_line_500(
    v: Vault, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vault.core import files

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/shadow")

    monkeypatch.setattr(files, "list_files", boom)
    _, token = sessions.login(v, "alice", ALICE_PW, client="test")
    client = TestClient(make_app(v), raise_server_exceptions=False, base_url="http://127.0.0.1")
    r = client.get("/files", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == "Internal server error; the server log has the details"
