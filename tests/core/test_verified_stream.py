"""The core's one verified stream (`downloads.verified_chunks`) that streaming front ends send:
ranges, the held-back last chunk, quarantine on a mismatch, vouching, known-intact objects."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from vault.core import Vault, downloads, integrity, uploads
from vault.core.errors import Cancelled, CorruptObject
from vault.core.models import FileEntry, User

DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def entry(v: Vault, alice: User, tmp_path: Path) -> FileEntry:
    src = tmp_path / "data.bin"
    src.write_bytes(DATA)
    return uploads.upload_path(v, alice, src)


def unvouch(v: Vault, entry: FileEntry) -> None:
    os.utime(v.store.path(entry.sha256))  # moves the ctime: the next read must hash


def closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


@pytest.mark.parametrize("intact", [True, False], ids=["known-intact", "hashed"])
@pytest.mark.parametrize(("start", "end"), [(0, None), (0, 1), (100, 5000), (10_000, 10_240)])
def test_yields_exactly_the_range(
    v: Vault, alice: User, entry: FileEntry, intact: bool, start: int, end: int | None
) -> None:
    if not intact:
        unvouch(v, entry)
    content = downloads.open_content(v, alice, entry.id)
    assert content.known_intact == intact
    got = b"".join(downloads.verified_chunks(v, content, start, end, chunk=333))
    assert got == DATA[start:end]
    assert closed(content.fd)


def test_a_hashed_match_is_vouched_for(v: Vault, alice: User, entry: FileEntry) -> None:
    unvouch(v, entry)
    content = downloads.open_content(v, alice, entry.id)
    b"".join(downloads.verified_chunks(v, content, 0, 10))  # a range still hashes it all
    assert integrity.vouched(v.db, entry.sha256, v.store.path(entry.sha256).stat())
    assert downloads.open_content(v, alice, entry.id).known_intact


def test_known_intact_reads_only_the_range_and_does_not_hash(
    v: Vault, alice: User, entry: FileEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_hash() -> object:
        raise AssertionError("hashed a known-intact object")

    monkeypatch.setattr(hashlib, "sha256", no_hash)
    reads: list[int] = []
    content = downloads.open_content(v, alice, entry.id)
    got = list(downloads.verified_chunks(v, content, 1000, 2000, chunk=500, progress=reads.append))
    assert b"".join(got) == DATA[1000:2000]
    assert reads == [1500, 2000]


def test_a_mismatch_holds_the_last_chunk_back_and_quarantines(
    v: Vault, alice: User, entry: FileEntry
) -> None:
    path = v.store.path(entry.sha256)
    with open(path, "r+b") as f:  # root writes the 0400 object, as a disk error would
        f.seek(len(DATA) - 1)
        f.write(b"\x00" if DATA[-1] else b"\x01")
    content = downloads.open_content(v, alice, entry.id)
    got = []
    with pytest.raises(CorruptObject) as exc:
        for chunk in downloads.verified_chunks(v, content, chunk=1024):
            got.append(chunk)
    assert b"".join(got) == DATA[: len(DATA) - 1024]  # everything but the last chunk
    assert not exc.value.missing
    assert not path.exists()
    assert [p.name[:64] for p in v.paths.quarantine.iterdir()] == [entry.sha256]
    assert closed(content.fd)


def test_a_range_before_the_damage_is_refused_too(v: Vault, alice: User, entry: FileEntry) -> None:
    with open(v.store.path(entry.sha256), "r+b") as f:
        f.seek(9000)
        f.write(b"\xff\xff")
    content = downloads.open_content(v, alice, entry.id)
    stream = downloads.verified_chunks(v, content, 0, 100, chunk=1024)
    with pytest.raises(CorruptObject):
        next(stream)  # the only chunk of the range waits for the whole object's hash


def test_progress_may_cancel_and_an_abandoned_stream_closes_its_fd(
    v: Vault, alice: User, entry: FileEntry
) -> None:
    def cancel(done: int) -> None:
        raise Cancelled()

    content = downloads.open_content(v, alice, entry.id)
    with pytest.raises(Cancelled):
        list(downloads.verified_chunks(v, content, chunk=1024, progress=cancel))
    assert closed(content.fd)
    content = downloads.open_content(v, alice, entry.id)
    stream = downloads.verified_chunks(v, content, chunk=1024)
    next(stream)
    stream.close()
    assert closed(content.fd)
