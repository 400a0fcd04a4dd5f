"""Objects known intact are copied without hashing; any change through the filesystem ends that."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vault.core import Vault, downloads, integrity, store, upkeep, uploads
from vault.core.models import User


class Hashed(Exception):
    """Raised by the patched hashing copy: proves a download hashed."""


def forbid_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> str:
        raise Hashed()

    monkeypatch.setattr(store, "copy_file", refuse)


def test_an_uploaded_object_is_vouched_for_and_copied_plain(
    v: Vault, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(os.urandom(10_000))
    entry = uploads.upload_path(v, alice, src)
    assert integrity.vouched(v.db, entry.sha256, v.store.path(entry.sha256).stat())
    out = tmp_path / "out"
    out.mkdir()
    forbid_hashing(monkeypatch)
    assert downloads.download_to(v, alice, entry.id, out).read_bytes() == src.read_bytes()


def test_touching_the_object_makes_the_next_download_hash(
    v: Vault, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"x" * 5000)
    entry = uploads.upload_path(v, alice, src)
    forbid_hashing(monkeypatch)
    os.utime(v.store.path(entry.sha256))  # any metadata or content change moves the ctime
    with pytest.raises(Hashed):
        downloads.download_to(v, alice, entry.id, tmp_path)


def test_verify_vouches_for_what_it_checked(v: Vault, alice: User, tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"y" * 5000)
    entry = uploads.upload_path(v, alice, src)
    path = v.store.path(entry.sha256)
    os.chmod(path, 0o400)  # ctime moves: no longer vouched
    assert not integrity.vouched(v.db, entry.sha256, path.stat())
    assert upkeep.verify(v).ok
    assert integrity.vouched(v.db, entry.sha256, path.stat())


def test_open_content_says_whether_the_object_is_known_intact(
    v: Vault, alice: User, tmp_path: Path
) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"z" * 5000)
    entry = uploads.upload_path(v, alice, src)
    content = downloads.open_content(v, alice, entry.id)
    os.close(content.fd)
    assert content.known_intact
    os.utime(v.store.path(entry.sha256))
    content = downloads.open_content(v, alice, entry.id)
    os.close(content.fd)
    assert not content.known_intact
