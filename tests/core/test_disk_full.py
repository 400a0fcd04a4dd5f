"""A full disk, for real (a small tmpfs filled to the last byte), through the core.

Reads and downloads go on, every write but a delete is StorageFull, a delete gets through on
the vault's reserve and frees space, and once space is back everything works again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from small_disk import fill, free_bytes, small_disk
from support import ALICE_PW

from vault.core import Vault, downloads, events, files, reserve, sessions, shares, uploads, users
from vault.core.errors import StorageFull
from vault.core.models import User
from vault.core.passwords import Hasher

BIG = os.urandom(1 << 20)
"""Larger than what the vault spends on a delete, so deleting it leaves free space."""


@pytest.fixture
def vault_dir(isolated_env: dict[str, str]) -> Iterator[Path]:
    """The test's VAULT_HOME, on a tmpfs of its own (the conftest's `v` opens it there)."""
    with small_disk(Path(isolated_env["VAULT_HOME"])) as folder:
        yield folder


@pytest.fixture
def stocked(v: Vault, alice: User, bob: User, tmp_path: Path) -> str:
    """alice has big.bin and small.txt (shared with bob); returns alice's session token,
    last used long enough ago that the next read wants to note its use."""
    for name, data in (("big.bin", BIG), ("small.txt", b"hello")):
        (tmp_path / name).write_bytes(data)
        uploads.upload_path(v, alice, tmp_path / name)
    shares.share(v, alice, "small.txt", "bob")
    _, token = sessions.login(v, "alice", ALICE_PW)
    v.db.execute("UPDATE sessions SET last_seen = last_seen - 3600")
    return token


def reopen(v: Vault) -> Vault:
    """A fresh handle on the same vault (new connection), as another process would get."""
    return Vault(v.root, hasher=Hasher(cheap=True))


def reserved(v: Vault) -> int:
    """Bytes the reserve holds on disk (allocated, not just a size)."""
    st = os.stat(reserve.path(v.root))
    return min(st.st_size, st.st_blocks * 512)


def test_a_new_vault_sets_aside_its_reserve(v: Vault) -> None:
    st = os.stat(reserve.path(v.root))
    assert st.st_size == reserve.SIZE
    assert st.st_blocks * 512 >= reserve.SIZE  # allocated, not a sparse promise
    assert st.st_mode & 0o777 == 0o600


def test_full_disk_reads_go_on_writes_fail_delete_frees(
    v: Vault, alice: User, bob: User, stocked: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    logged = events.latest_id(v.db)
    v.close()  # no connection left open: the next reader must make SQLite's index afresh
    filler = fill(v.root)
    assert free_bytes(v.root) < 4096

    w = reopen(v)
    # reads, and the bookkeeping they would write, which a full disk drops
    assert sessions.resolve(w, stocked) == alice
    assert [e.name for e in files.list_files(w, alice).own] == ["big.bin", "small.txt"]
    assert [e.name for e in files.list_files(w, bob).shared] == ["small.txt"]
    assert downloads.download_to(w, alice, "big.bin", out).read_bytes() == BIG
    content = downloads.open_content(w, bob, "small.txt")
    try:
        assert os.pread(content.fd, 100, 0) == b"hello"
    finally:
        os.close(content.fd)
    assert events.latest_id(w.db) == logged  # those downloads went unrecorded
    assert [e.name for e in files.list_files(w, alice).own] == ["big.bin", "small.txt"]

    # every other write: StorageFull, and nothing changed
    (tmp_path / "new.txt").write_bytes(b"new")
    for attempt in (
        lambda: users.register(w, "carol", "carol-password"),
        lambda: sessions.login(w, "alice", ALICE_PW),
        lambda: shares.share(w, alice, "big.bin", "bob"),
        lambda: files.rename(w, alice, "small.txt", "other.txt"),
        lambda: uploads.upload_path(w, alice, tmp_path / "new.txt"),
    ):
        with pytest.raises(StorageFull):
            attempt()
    assert [e.name for e in files.list_files(w, alice).own] == ["big.bin", "small.txt"]
    assert [e.name for e in files.list_files(w, bob).shared] == ["small.txt"]
    assert events.latest_id(w.db) == logged

    # a delete spends the reserve, frees the content, and the reserve is made again
    files.delete(w, alice, "big.bin")
    assert [e.name for e in files.list_files(w, alice).own] == ["small.txt"]
    assert events.recent(w.db, alice, limit=1)[0].action == "delete"
    assert reserved(w) == reserve.SIZE
    assert free_bytes(w.root) > len(BIG) // 2

    # space back: everything works again
    filler.unlink()
    carol = users.register(w, "carol", "carol-password")
    sessions.login(w, "alice", ALICE_PW)
    shares.share(w, alice, "small.txt", "carol")
    uploads.upload_path(w, alice, tmp_path / "new.txt")
    assert [e.name for e in files.list_files(w, carol).shared] == ["small.txt"]
    assert [e.name for e in files.list_files(w, alice).own] == ["new.txt", "small.txt"]
    w.close()


def test_a_delete_without_reserve_on_a_full_disk_is_storage_full(
    v: Vault, alice: User, stocked: str
) -> None:
    reserve.path(v.root).unlink()
    fill(v.root)
    with pytest.raises(StorageFull):
        files.delete(v, alice, "big.bin")
    assert [e.name for e in files.list_files(v, alice).own] == ["big.bin", "small.txt"]


def test_a_reader_on_a_full_disk_keeps_the_reserve_it_did_not_use(
    v: Vault, alice: User, stocked: str
) -> None:
    v.close()
    fill(v.root)
    for _ in range(3):  # one process after another, each opening the vault afresh
        w = reopen(v)
        assert [e.name for e in files.list_files(w, alice).own] == ["big.bin", "small.txt"]
        w.close()
    assert reserved(v) >= reserve.SIZE - 2 * reserve.READ_ROOM
