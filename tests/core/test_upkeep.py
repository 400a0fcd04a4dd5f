"""verify finds corruption and missing content, downloads refuse wrong bytes, gc cleans up."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from support import upload_bytes

from vault.core import Vault, downloads, upkeep, uploads
from vault.core.errors import (
    CorruptObject,
)
from vault.core.models import User


def flip_a_byte(path: Path, offset: int = 0) -> None:
    with open(path, "r+b") as f:  # root may write a 0400 file; that is the point
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


@pytest.fixture
def stored(v: Vault, alice: User, tmp_path: Path):
    src = tmp_path / "photo.jpg"
    src.write_bytes(os.urandom(50_000))
    return uploads.upload_path(v, alice, src), src


def test_verify_clean_vault(v: Vault, stored) -> None:
    report = upkeep.verify(v)
    assert report.ok and report.checked == 1


def test_flipped_byte_is_found_moved_aside_and_healed(
    v: Vault, alice: User, stored, tmp_path: Path
) -> None:
    entry, src = stored
    obj = v.store.path(entry.sha256)
    flip_a_byte(obj, 12_345)
    report = upkeep.verify(v)
    assert not report.ok
    assert report.corrupt == [entry.sha256]
    assert [(b.file_id, b.name, b.owner) for b in report.broken] == [
        (entry.id, "photo.jpg", "alice")
    ]
    assert not obj.exists()
    [moved] = report.moved_to
    assert (
        moved.parent == v.paths.quarantine and moved.stat().st_size == 50_000
    )  # kept, not blanked
    # a download now fails loudly, and writes nothing
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CorruptObject) as exc:
        downloads.download_to(v, alice, entry.id, out)
    assert exc.value.missing
    assert list(out.iterdir()) == []
    # uploading the same content again heals the vault
    uploads.upload_path(v, alice, src, name="photo-again.jpg")
    assert obj.exists() and upkeep.verify(v).ok
    assert downloads.download_to(v, alice, entry.id, out).read_bytes() == src.read_bytes()


def test_download_catches_corruption_verify_has_not_seen(
    v: Vault, alice: User, stored, tmp_path: Path
) -> None:
    entry, _ = stored
    flip_a_byte(v.store.path(entry.sha256), 0)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CorruptObject) as exc:
        downloads.download_to(v, alice, entry.id, out)
    assert not exc.value.missing
    assert list(out.iterdir()) == []  # no partial, no wrong file
    assert not v.store.exists(entry.sha256)  # moved aside, so the next upload heals it
    assert len(list(v.paths.quarantine.iterdir())) == 1


def test_missing_object_is_reported(v: Vault, stored) -> None:
    entry, _ = stored
    path = v.store.path(entry.sha256)
    path.unlink()
    report = upkeep.verify(v)
    assert report.missing == [entry.sha256] and report.corrupt == []
    assert [b.file_id for b in report.broken] == [entry.id]


def test_gc_removes_unreferenced_objects_and_dead_temps_only(v: Vault, stored) -> None:
    entry, _ = stored
    orphan_sha = "ab" * 32
    orphan = v.store.path(orphan_sha)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"nobody refers to me")
    dead = v.paths.tmp / "dead.tmp"
    dead.write_bytes(b"left by a killed upload")
    live = v.store.writer()  # holds its flock, like an upload in progress
    try:
        dry = upkeep.gc(v, dry_run=True)
        assert dry.objects == [orphan_sha] and dry.temps == [dead]
        assert orphan.exists() and dead.exists()
        report = upkeep.gc(v)
        assert report.objects == [orphan_sha] and report.bytes == 19
        assert not orphan.exists() and not dead.exists()
        assert live.path.exists()
        assert v.store.exists(entry.sha256)
    finally:
        live.discard()


def test_gc_waits_for_a_publisher_holding_the_pin(v: Vault) -> None:
    """The lock protocol: while a publisher holds the pin, gc cannot take the store."""
    with v.store.pin():
        fd = os.open(v.paths.gc_lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)


def test_a_fresh_copy_is_not_quarantined_for_its_rotten_predecessor(
    v: Vault, alice: User, tmp_path: Path
) -> None:
    entry = upload_bytes(v, alice, tmp_path, "x.bin", os.urandom(5000))
    path = v.store.path(entry.sha256)
    intact, rotten_identity = v.store.check(entry.sha256, path)
    assert intact
    # an upload replaces the object (same name, new inode) after verify looked at the old one
    with uploads.Upload(v, alice, "again.bin") as up:
        up.write(path.read_bytes())
        up.commit()
    assert v.store.quarantine(entry.sha256, rotten_identity) is None
    assert path.exists() and upkeep.verify(v).ok


def test_corrupt_download_reports_the_object_it_read(v: Vault, alice: User, tmp_path) -> None:
    entry = upload_bytes(v, alice, tmp_path, "x.bin", b"y" * 4096)
    path = v.store.path(entry.sha256)
    with open(path, "r+b") as f:
        f.write(b"z")
    st = path.stat()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CorruptObject) as exc:
        downloads.download_to(v, alice, entry.id, out)
    assert exc.value.identity == (st.st_dev, st.st_ino)
