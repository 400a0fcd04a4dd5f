"""Uploading, versions, renaming, deleting and downloading, through the core API."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

import pytest
from support import upload_bytes

from vault.core import Vault, downloads, files, shares, uploads
from vault.core.errors import (
    Cancelled,
    DestinationError,
    InvalidName,
    NameTaken,
    NoSuchFile,
    NoSuchVersion,
    SourceError,
)
from vault.core.models import User


def make(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def objects(v: Vault) -> list[Path]:
    return sorted(p for p in v.paths.objects.rglob("*") if p.is_file())


def test_upload_lays_out_a_read_only_object_named_by_its_hash(
    v: Vault, alice: User, tmp_path: Path
) -> None:
    data = b"meow" * 1000
    entry = uploads.upload_path(v, alice, make(tmp_path, "Cat03.jpg", data))
    sha = hashlib.sha256(data).hexdigest()
    assert (entry.name, entry.size, entry.sha256, entry.versions) == ("Cat03.jpg", 4000, sha, 1)
    obj = v.paths.objects / sha[:2] / sha
    assert objects(v) == [obj]
    assert obj.read_bytes() == data
    assert stat.S_IMODE(obj.stat().st_mode) == 0o400
    for folder in (v.root, v.paths.objects, obj.parent, v.paths.tmp):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(v.paths.db.stat().st_mode) == 0o600
    assert list(v.paths.tmp.iterdir()) == []


def test_same_content_is_stored_once_across_users(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    data = os.urandom(100_000)
    a = uploads.upload_path(v, alice, make(tmp_path, "a.bin", data))
    b = uploads.upload_path(v, bob, make(tmp_path, "b.bin", data))
    assert a.sha256 == b.sha256 and a.id != b.id
    assert len(objects(v)) == 1


def test_empty_file(v: Vault, alice: User, tmp_path: Path) -> None:
    entry = uploads.upload_path(v, alice, make(tmp_path, "empty", b""))
    assert entry.size == 0
    assert entry.sha256 == hashlib.sha256(b"").hexdigest()
    out = downloads.download_to(v, alice, entry.id, tmp_path)  # beside the source: renamed
    assert out.name == "empty (1)" and out.read_bytes() == b""


def test_reupload_adds_a_version_and_keeps_the_old(v: Vault, alice: User, tmp_path: Path) -> None:
    first = uploads.upload_path(v, alice, make(tmp_path, "notes.txt", b"one"))
    second = uploads.upload_path(v, alice, make(tmp_path, "notes.txt", b"two"))
    assert second.id == first.id and second.versions == 2
    vs = files.versions(v, alice, "notes.txt")
    assert [(x.number, x.size) for x in vs] == [(2, 3), (1, 3)]  # newest first
    out = tmp_path / "out"
    out.mkdir()
    old = downloads.download_to(v, alice, first.id, out, version=1)
    new = downloads.download_to(v, alice, first.id, out)
    assert (old.read_bytes(), new.read_bytes()) == (b"one", b"two")
    with pytest.raises(NoSuchVersion):
        downloads.download_to(v, alice, first.id, out, version=3)


def test_upload_from_a_pipe(v: Vault, alice: User) -> None:
    r, w = os.pipe()
    data = os.urandom(3_000_000)

    def feed() -> None:
        with os.fdopen(w, "wb") as f:
            f.write(data)

    threading.Thread(target=feed).start()
    entry = uploads.upload_path(v, alice, f"/dev/fd/{r}", name="piped.bin")
    os.close(r)
    assert entry.size == len(data) and entry.sha256 == hashlib.sha256(data).hexdigest()


def test_streamed_upload_commit_and_abort(v: Vault, alice: User) -> None:
    with uploads.Upload(v, alice, "stream.bin") as up:
        up.write(b"a" * 10)
        up.write(memoryview(b"b" * 10))
        entry = up.commit()
    assert entry.size == 20
    with uploads.Upload(v, alice, "dropped.bin") as up:
        up.write(b"partial")
    assert [e.name for e in files.list_files(v, alice).own] == ["stream.bin"]
    assert list(v.paths.tmp.iterdir()) == []
    assert len(objects(v)) == 1


def test_cancel_from_progress_leaves_nothing(v: Vault, alice: User, tmp_path: Path) -> None:
    src = make(tmp_path, "big.bin", os.urandom(40 << 20))

    def cancel(done: int) -> None:
        raise Cancelled()

    with pytest.raises(Cancelled):
        uploads.upload_path(v, alice, src, progress=cancel)
    assert files.list_files(v, alice).own == []
    assert list(v.paths.tmp.iterdir()) == [] and objects(v) == []


def test_disk_full_during_upload_stores_nothing(
    v: Vault, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from vault.core.errors import StorageFull

    src = make(tmp_path, "big.bin", os.urandom(1 << 20))

    def full(*args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "copy_file_range", full)
    with pytest.raises(StorageFull):
        uploads.upload_path(v, alice, src)
    assert files.list_files(v, alice).own == []
    assert list(v.paths.tmp.iterdir()) == [] and objects(v) == []


def test_missing_source_and_folder_source(v: Vault, alice: User, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="No such file"):
        uploads.upload_path(v, alice, tmp_path / "nope.txt")
    with pytest.raises(SourceError, match="folder"):
        uploads.upload_path(v, alice, tmp_path)


@pytest.mark.parametrize("name", ["../escape", "a/b", "nul\x00", "line\nfeed", "x" * 256])
def test_bad_upload_names_are_refused_before_writing(
    v: Vault, alice: User, tmp_path: Path, name: str
) -> None:
    src = make(tmp_path, "ok.txt", b"data")
    with pytest.raises(InvalidName):
        uploads.upload_path(v, alice, src, name=name)
    assert objects(v) == [] and list(v.paths.tmp.iterdir()) == []


def test_unicode_and_spaces_round_trip(v: Vault, alice: User, tmp_path: Path) -> None:
    name = "résumé final (v2) 日本.pdf"
    entry = uploads.upload_path(v, alice, make(tmp_path, "src", b"pdf"), name=name)
    out = tmp_path / "out"
    out.mkdir()
    assert downloads.download_to(v, alice, entry.id, out) == out / name


def test_download_never_overwrites(v: Vault, alice: User, tmp_path: Path) -> None:
    entry = uploads.upload_path(v, alice, make(tmp_path, "report.tar.gz", b"new"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.tar.gz").write_bytes(b"precious")
    first = downloads.download_to(v, alice, entry.id, out)
    second = downloads.download_to(v, alice, "report.tar.gz", out)
    assert (out / "report.tar.gz").read_bytes() == b"precious"
    assert [first.name, second.name] == ["report.tar (1).gz", "report.tar (2).gz"]
    assert sorted(p.name for p in out.iterdir()) == [
        "report.tar (1).gz",
        "report.tar (2).gz",
        "report.tar.gz",
    ]  # no temp files left


def test_download_of_a_255_byte_name_twice_stays_within_the_limit(
    v: Vault, alice: User, tmp_path: Path
) -> None:
    name = "n" * 251 + ".txt"
    entry = uploads.upload_path(v, alice, make(tmp_path, "src", b"x"), name=name)
    out = tmp_path / "out"
    out.mkdir()
    downloads.download_to(v, alice, entry.id, out)
    again = downloads.download_to(v, alice, entry.id, out)
    assert len(again.name.encode()) <= 255 and again.name.endswith(" (1).txt")


def test_download_into_bad_folders(v: Vault, alice: User, tmp_path: Path) -> None:
    entry = uploads.upload_path(v, alice, make(tmp_path, "f.txt", b"x"))
    with pytest.raises(DestinationError, match="does not exist"):
        downloads.download_to(v, alice, entry.id, tmp_path / "missing")
    with pytest.raises(DestinationError, match="not a folder"):
        downloads.download_to(v, alice, entry.id, tmp_path / "f.txt")
    # root ignores modes, but nobody can create a file under a regular file
    with pytest.raises(DestinationError):
        downloads.download_to(v, alice, entry.id, tmp_path / "f.txt" / "sub")


def test_rename(v: Vault, alice: User, tmp_path: Path) -> None:
    a = uploads.upload_path(v, alice, make(tmp_path, "a.txt", b"a"))
    uploads.upload_path(v, alice, make(tmp_path, "b.txt", b"b"))
    with pytest.raises(NameTaken):
        files.rename(v, alice, a.id, "b.txt")
    with pytest.raises(InvalidName):
        files.rename(v, alice, a.id, "../c.txt")
    assert files.rename(v, alice, a.id, "c.txt").name == "c.txt"
    with pytest.raises(NoSuchFile):
        files.resolve(v, alice, "a.txt")


def test_delete_frees_content_only_when_unused(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    shared_data = make(tmp_path, "s", b"same bytes")
    a = uploads.upload_path(v, alice, shared_data)
    uploads.upload_path(v, bob, shared_data)
    only = uploads.upload_path(v, alice, make(tmp_path, "only", b"alice only"))
    files.delete(v, alice, a.id)
    files.delete(v, alice, only.id)
    assert [p.name for p in objects(v)] == [a.sha256]  # bob still uses it
    assert files.list_files(v, alice).own == []


def test_listing_is_sorted_and_carries_recipients(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    for name in ("b", "a", "C", "c", "B"):
        uploads.upload_path(v, alice, make(tmp_path, name, name.encode()))
    shares.share(v, alice, "b", "bob")
    own = files.list_files(v, alice).own
    assert [e.name for e in own] == ["a", "B", "b", "C", "c"]  # as the TUI sorts: names.sort_key
    assert [e.shared_with for e in own] == [(), (), ("bob",), (), ()]
    theirs = files.list_files(v, bob).shared
    assert [(e.name, e.owner, e.shared_with) for e in theirs] == [("b", "alice", ())]


def test_a_download_racing_a_delete_says_no_such_file(
    v: Vault, alice: User, bob: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = upload_bytes(v, alice, tmp_path, "x.bin", b"x" * 1000)
    shares.share(v, alice, entry.id, "bob")
    real_pin = v.store.pin
    deleted = threading.Event()

    def pin_after_delete():  # the owner deletes between bob's request and bob's pin
        if not deleted.is_set():
            deleted.set()
            worker = threading.Thread(target=files.delete, args=(v, alice, entry.id))
            worker.start()
            worker.join()
        return real_pin()

    monkeypatch.setattr(v.store, "pin", pin_after_delete)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(NoSuchFile):
        downloads.download_to(v, bob, entry.id, out)
    assert list(out.iterdir()) == []


def test_several_streamed_uploads_are_stored_all_or_nothing(
    v: Vault, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vault.core.errors import StorageFull

    real = uploads._commit_version
    calls = []

    def second_fails(*args: object, **kwargs: object):
        calls.append(1)
        if len(calls) == 2:
            raise StorageFull()
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(uploads, "_commit_version", second_fails)
    ups = [uploads.Upload(v, alice, "one.txt"), uploads.Upload(v, alice, "two.txt")]
    for up in ups:
        up.write(b"data of " + up.name.encode())
    with pytest.raises(StorageFull):
        uploads.commit_all(v, ups)
    for up in ups:
        up.abort()
    assert files.list_files(v, alice).own == []
