"""Transfers through descriptors the caller opened: how the daemon moves bytes without paths."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from vault.core import Vault, downloads, files, uploads
from vault.core.errors import SourceError
from vault.core.models import User


def test_upload_fd_from_a_file_the_caller_opened(v: Vault, alice: User, tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(os.urandom(100_000))
    fd = os.open(src, os.O_RDONLY)
    try:
        entry = uploads.upload_fd(v, alice, fd, "stored.bin")
    finally:
        os.close(fd)
    assert (entry.name, entry.size) == ("stored.bin", 100_000)
    out = tmp_path / "out"
    out.mkdir()
    assert downloads.download_to(v, alice, entry.id, out).read_bytes() == src.read_bytes()


def test_upload_fd_from_a_pipe(v: Vault, alice: User) -> None:
    r, w = os.pipe()
    data = os.urandom(3 << 20)

    def feed() -> None:
        with open(w, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        entry = uploads.upload_fd(v, alice, r, "piped")
    finally:
        os.close(r)
        writer.join()
    assert entry.size == len(data)


def test_upload_fd_refuses_a_folder(v: Vault, alice: User, tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        with pytest.raises(SourceError, match="'the label' is a folder"):
            uploads.upload_fd(v, alice, fd, "x", label="'the label'")
    finally:
        os.close(fd)
    assert files.list_files(v, alice).own == []


def _stored(v: Vault, alice: User, tmp_path: Path, data: bytes) -> int:
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    return uploads.upload_path(v, alice, src).id


def test_download_into_a_write_only_descriptor(v: Vault, alice: User, tmp_path: Path) -> None:
    """The destination is never mapped or read (it may belong to the daemon's client)."""
    data = os.urandom(40 << 20)  # several copy windows
    file_id = _stored(v, alice, tmp_path, data)
    v.db.execute("DELETE FROM intact")  # make it hash, not trust
    dst = tmp_path / "dst.bin"
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        entry = downloads.download_into(v, alice, file_id, fd, "here")
    finally:
        os.close(fd)
    assert entry.id == file_id
    assert dst.read_bytes() == data
    assert v.db.execute("SELECT count(*) FROM intact").fetchone()[0] == 1  # vouched


def test_part_file_is_removed_unless_kept(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with downloads.PartFile(tmp_path) as part:
        os.write(part.fd, b"partial")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a.txt").write_bytes(b"old")
    with downloads.PartFile(tmp_path) as part:
        os.write(part.fd, b"new")
        kept = part.keep("a.txt")
    assert kept.name == "a (1).txt" and kept.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a (1).txt", "a.txt"]
