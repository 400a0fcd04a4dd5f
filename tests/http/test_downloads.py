"""Downloads: headers, ranges, and corrupt content that must never arrive whole."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.http.helpers import Server, assert_text
from vault.core import uploads
from vault.core.models import FileEntry, User
from vault.core.vault import Vault

DATA = bytes(range(256)) * 4096  # 1 MiB


def stored(v: Vault, user: User, tmp_path: Path, name: str, data: bytes) -> FileEntry:
    src = tmp_path / "src"
    src.write_bytes(data)
    return uploads.upload_path(v, user, src, name=name)


def download(c: httpx.Client, fid: int, **headers: str) -> httpx.Response:
    return c.post("/download", json={"file_id": str(fid)}, headers=headers)


def test_headers(alice_http: httpx.Client, alice: User, v: Vault, tmp_path: Path) -> None:
    e = stored(v, alice, tmp_path, "data.bin", DATA)
    r = download(alice_http, e.id)
    assert r.status_code == 200 and r.content == DATA
    assert r.headers["content-length"] == str(len(DATA))
    assert r.headers["etag"] == f'"{e.sha256}"'
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == 'attachment; filename="data.bin"'


@pytest.mark.parametrize(
    ("name", "header"),
    [
        (
            "café 猫.txt",
            "attachment; filename=\"cafe .txt\"; filename*=UTF-8''caf%C3%A9%20%E7%8C%AB.txt",
        ),
        ("猫.txt", "attachment; filename=\"download.txt\"; filename*=UTF-8''%E7%8C%AB.txt"),
        (
            'say "hi";%.txt',
            "attachment; filename=\"say _hi___.txt\"; filename*=UTF-8''say%20%22hi%22%3B%25.txt",
        ),
    ],
)
def test_content_disposition_for_unicode_names(
    alice_http: httpx.Client, alice: User, v: Vault, tmp_path: Path, name: str, header: str
) -> None:
    e = stored(v, alice, tmp_path, name, b"x")
    r = download(alice_http, e.id)
    assert r.headers["content-disposition"] == header
    assert r.headers["content-disposition"].isascii()


def test_ranges(alice_http: httpx.Client, alice: User, v: Vault, tmp_path: Path) -> None:
    e = stored(v, alice, tmp_path, "data.bin", DATA)
    size = len(DATA)
    for spec, (lo, hi) in {
        "bytes=0-99": (0, 100),
        "bytes=1000-": (1000, size),
        "bytes=-10": (size - 10, size),
        "bytes=500-10000000": (500, size),
    }.items():
        r = download(alice_http, e.id, Range=spec)
        assert r.status_code == 206, spec
        assert r.content == DATA[lo:hi]
        assert r.headers["content-range"] == f"bytes {lo}-{hi - 1}/{size}"
        assert r.headers["content-length"] == str(hi - lo)
    for spec in (f"bytes={size}-", "bytes=-0"):
        r = download(alice_http, e.id, Range=spec)
        assert_text(r, 416, f"Range not satisfiable: the file has {size} bytes")
        assert r.headers["content-range"] == f"bytes */{size}"
    # ignored: several ranges, garbage, a stale If-Range
    for headers in (
        {"Range": "bytes=0-1,5-6"},
        {"Range": "pages=1"},
        {"Range": "bytes=0-9", "If-Range": '"stale"'},
    ):
        r = download(alice_http, e.id, **headers)
        assert r.status_code == 200 and r.content == DATA
    r = download(alice_http, e.id, Range="bytes=0-9", **{"If-Range": f'"{e.sha256}"'})
    assert r.status_code == 206 and r.content == DATA[:10]


def corrupt(v: Vault, sha: str) -> Path:
    """Flip one byte of a stored object (same size), as bit rot would."""
    path = v.store.path(sha)
    os.chmod(path, 0o600)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0xFF]))
    return path


@pytest.mark.parametrize("size", [1000, 9 * 1024 * 1024 + 7])
def test_corrupt_content_never_arrives_whole(
    server: Server, alice_http: httpx.Client, alice: User, v: Vault, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    e = stored(v, alice, tmp_path, "precious.bin", data)
    path = corrupt(v, e.sha256)
    got = bytearray()
    with pytest.raises(httpx.TransportError):
        with alice_http.stream("POST", "/download", json={"file_id": e.id}) as r:
            assert r.status_code == 200 and r.headers["content-length"] == str(size)
            for chunk in r.iter_raw():
                got += chunk
    assert len(got) < size  # a truncated transfer, never complete wrong bytes
    # Bytes before the last chunk go out as they are read (hashing cannot know sooner), so a
    # client may hold some wrong bytes, but never a complete response: the transfer fails.
    assert not path.exists()
    assert any(p.name.startswith(e.sha256) for p in (v.paths.quarantine).iterdir())
    # the next try fails before any byte is sent, with one line; the server lives on
    r = download(alice_http, e.id)
    assert r.status_code == 500 and "is missing" in r.text and "\n" not in r.text
    assert alice_http.get("/whoami").status_code == 200
    assert "Traceback" not in r.text
