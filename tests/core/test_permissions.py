"""Who may do what, each rule tried from the other user's side."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import upload_bytes

from vault.core import Vault, downloads, files, shares, uploads, users
from vault.core.errors import (
    AmbiguousFile,
    NoSuchFile,
    NoSuchUser,
    NoSuchVersion,
    NotOwner,
    ShareWithSelf,
)
from vault.core.models import FileEntry, User


@pytest.fixture
def secret(v: Vault, alice: User, tmp_path: Path) -> FileEntry:
    src = tmp_path / "secret.txt"
    src.write_bytes(b"alice's secret")
    return uploads.upload_path(v, alice, src)


def test_unshared_file_is_invisible_and_indistinguishable_from_none(
    v: Vault, bob: User, secret: FileEntry, tmp_path: Path
) -> None:
    with pytest.raises(NoSuchFile) as by_id:
        files.resolve(v, bob, secret.id)
    with pytest.raises(NoSuchFile) as missing:
        files.resolve(v, bob, 99999)
    assert type(by_id.value) is type(missing.value)
    assert str(by_id.value).replace(str(secret.id), "N") == str(missing.value).replace("99999", "N")
    with pytest.raises(NoSuchFile):
        files.resolve(v, bob, "secret.txt")
    with pytest.raises(NoSuchFile):
        downloads.download_to(v, bob, secret.id, tmp_path)
    with pytest.raises(NoSuchFile):
        downloads.open_content(v, bob, secret.id)
    assert files.list_files(v, bob).shared == []
    for act in (
        lambda: files.rename(v, bob, secret.id, "mine.txt"),
        lambda: files.delete(v, bob, secret.id),
        lambda: files.versions(v, bob, secret.id),
        lambda: shares.share(v, bob, secret.id, "bob"),
        lambda: shares.recipients(v, bob, secret.id),
    ):
        with pytest.raises(NoSuchFile):
            act()


def test_recipient_can_list_and_download_but_not_manage(
    v: Vault, alice: User, bob: User, secret: FileEntry, tmp_path: Path
) -> None:
    shares.share(v, alice, secret.id, "bob")
    assert [e.id for e in files.list_files(v, bob).shared] == [secret.id]
    out = downloads.download_to(v, bob, "secret.txt", tmp_path)
    assert out.read_bytes() == b"alice's secret"
    carol = users.register(v, "carol", "carol-password")
    for act in (
        lambda: files.rename(v, bob, secret.id, "mine.txt"),
        lambda: files.delete(v, bob, secret.id),
        lambda: shares.share(v, bob, secret.id, "carol"),
        lambda: shares.unshare(v, bob, secret.id, "bob"),
        lambda: shares.recipients(v, bob, secret.id),
    ):
        with pytest.raises(NotOwner):
            act()
    assert files.list_files(v, carol).shared == []
    assert files.resolve(v, alice, secret.id).name == "secret.txt"


def test_unshare_takes_access_away(
    v: Vault, alice: User, bob: User, secret: FileEntry, tmp_path: Path
) -> None:
    shares.share(v, alice, secret.id, bob.id)
    assert [u.username for u in shares.recipients(v, alice, secret.id)] == ["bob"]
    shares.unshare(v, alice, secret.id, "BOB")
    assert shares.recipients(v, alice, secret.id) == []
    with pytest.raises(NoSuchFile):
        downloads.download_to(v, bob, secret.id, tmp_path)


def test_share_errors(v: Vault, alice: User, bob: User, secret: FileEntry) -> None:
    with pytest.raises(ShareWithSelf):
        shares.share(v, alice, secret.id, "alice")
    with pytest.raises(NoSuchUser):
        shares.share(v, alice, secret.id, "nobody")
    with pytest.raises(NoSuchUser):
        shares.share(v, alice, secret.id, 424242)
    shares.share(v, alice, secret.id, "bob")
    shares.share(v, alice, secret.id, "bob")  # twice: succeeds, changes nothing
    assert len(shares.recipients(v, alice, secret.id)) == 1


def test_shares_follow_the_latest_version(
    v: Vault, alice: User, bob: User, secret: FileEntry, tmp_path: Path
) -> None:
    shares.share(v, alice, secret.id, "bob")
    newer = tmp_path / "secret.txt"
    newer.write_bytes(b"rewritten")
    uploads.upload_path(v, alice, newer)
    out = tmp_path / "bob"
    out.mkdir()
    assert downloads.download_to(v, bob, secret.id, out).read_bytes() == b"rewritten"


def test_a_name_shared_by_two_owners_needs_an_id(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    carol = users.register(v, "carol", "carol-password")
    src = tmp_path / "plan.txt"
    src.write_bytes(b"x")
    a = uploads.upload_path(v, alice, src)
    b = uploads.upload_path(v, bob, src)
    shares.share(v, alice, a.id, "carol")
    shares.share(v, bob, b.id, "carol")
    with pytest.raises(AmbiguousFile) as exc:
        files.resolve(v, carol, "plan.txt")
    assert exc.value.ids == sorted([a.id, b.id])
    assert files.resolve(v, alice, "plan.txt").id == a.id  # own name wins for the owner


@pytest.mark.parametrize("evil", ["' OR '1'='1", "1; DROP TABLE files; --", "1 OR 1=1", "%", "*"])
def test_injection_strings_are_just_names(
    v: Vault, alice: User, secret: FileEntry, evil: str
) -> None:
    with pytest.raises((NoSuchFile, NoSuchUser)):
        files.resolve(v, alice, evil)
    with pytest.raises(NoSuchUser):
        shares.share(v, alice, secret.id, evil)
    assert v.db.execute("SELECT count(*) FROM files").fetchone()[0] == 1


def test_recipient_sees_only_the_current_version(
    v: Vault, alice: User, bob: User, secret: FileEntry, tmp_path: Path
) -> None:
    """The one versions rule: the owner sees the history, a recipient only what is current."""
    src = tmp_path / "secret.txt"
    src.write_bytes(b"fixed")
    uploads.upload_path(v, alice, src)
    shares.share(v, alice, secret.id, "bob")
    assert [x.number for x in files.versions(v, alice, secret.id)] == [2, 1]
    assert [x.number for x in files.versions(v, bob, secret.id)] == [2]
    out = tmp_path / "bob"
    out.mkdir()
    assert downloads.download_to(v, bob, secret.id, out, version=2).read_bytes() == b"fixed"
    with pytest.raises(NoSuchVersion) as old:
        downloads.download_to(v, bob, secret.id, out, version=1)
    with pytest.raises(NoSuchVersion) as missing:
        downloads.download_to(v, bob, secret.id, out, version=7)
    shown = str(old.value).replace("version 1", "version N")
    assert shown == str(missing.value).replace("version 7", "version N")
    with pytest.raises(NoSuchVersion):
        downloads.open_content(v, bob, secret.id, version=1)
    assert list(out.iterdir()) == [out / "secret.txt"]


def test_recipients_never_see_other_recipients(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    carol = users.register(v, "carol", "carol-password")
    entry = upload_bytes(v, alice, tmp_path, "plan.txt", b"plan")
    shares.share(v, alice, entry.id, "bob")
    shares.share(v, alice, entry.id, "carol")
    assert files.resolve(v, bob, entry.id).shared_with == ()
    assert files.resolve(v, carol, "plan.txt").shared_with == ()
    assert files.resolve(v, alice, entry.id).shared_with == ("bob", "carol")
