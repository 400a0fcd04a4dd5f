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
