"""Regression tests for defects found in review: each failed before its fix."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from support import ALICE_PW

from vault.core import Vault, downloads, events, files, sessions, shares, upkeep, uploads, users
from vault.core.errors import (
    AmbiguousFile,
    AmbiguousUser,
    CorruptObject,
    LoginFailed,
    NoSuchFile,
    SessionFileError,
)
from vault.core.models import User
from vault.core.throttle import local_client


def upload(v: Vault, user: User, tmp_path: Path, name: str, data: bytes):
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    return uploads.upload_path(v, user, src, name=name)


def test_a_name_of_digits_is_not_mistaken_for_an_id(v: Vault, alice: User, tmp_path: Path) -> None:
    thesis = upload(v, alice, tmp_path, "thesis.pdf", b"thesis")
    digits = upload(v, alice, tmp_path, str(thesis.id), b"a file named like an id")
    with pytest.raises(AmbiguousFile) as exc:
        files.delete(v, alice, str(thesis.id))
    assert "#ID" in str(exc.value)
    assert {e.name for e in files.list_files(v, alice).own} == {"thesis.pdf", digits.name}
    assert files.resolve(v, alice, f"#{thesis.id}").id == thesis.id
    assert files.resolve(v, alice, thesis.id).id == thesis.id
    assert files.resolve(v, alice, str(digits.id)).id == digits.id  # name and id agree


def test_a_username_of_digits_is_not_mistaken_for_an_id(v: Vault, alice: User, bob: User) -> None:
    named = users.register(v, str(bob.id), "password1")  # a user whose *name* is bob's id
    with pytest.raises(AmbiguousUser):
        users.find(v, str(bob.id))
    assert users.find(v, f"#{bob.id}") == bob
    assert users.find(v, bob.id) == bob
    assert users.find(v, f"#{named.id}") == named


def test_ids_are_never_reused(v: Vault, alice: User, bob: User, tmp_path: Path) -> None:
    old = upload(v, alice, tmp_path, "a.txt", b"a")
    files.delete(v, alice, old.id)
    new = upload(v, bob, tmp_path, "b.txt", b"b")
    assert new.id != old.id
    with pytest.raises(NoSuchFile):
        files.rename(v, alice, old.id, "x.txt")


def test_recipients_never_see_other_recipients(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    carol = users.register(v, "carol", "carol-password")
    entry = upload(v, alice, tmp_path, "plan.txt", b"plan")
    shares.share(v, alice, entry.id, "bob")
    shares.share(v, alice, entry.id, "carol")
    assert files.resolve(v, bob, entry.id).shared_with == ()
    assert files.resolve(v, carol, "plan.txt").shared_with == ()
    assert files.resolve(v, alice, entry.id).shared_with == ("bob", "carol")


def test_event_log_shows_each_user_only_their_business(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    carol = users.register(v, "carol", "carol-password")
    private = upload(v, alice, tmp_path, "private.txt", b"p")
    shared = upload(v, alice, tmp_path, "shared.txt", b"s")
    shares.share(v, alice, shared.id, "bob")
    downloads.download_to(v, bob, shared.id, tmp_path)
    files.rename(v, alice, private.id, "still-private.txt")

    def seen(user: User) -> set[tuple[str | None, str, str | None]]:
        return {(e.actor, e.action, e.file_name) for e in events.recent(v.db, user)}

    assert ("bob", "download", "shared.txt") in seen(alice)  # owners see reads of their files
    assert ("alice", "share", "shared.txt") in seen(bob)  # recipients see what reached them
    assert not any(name and "private" in name for _, _, name in seen(bob))
    assert {a for a, _, _ in seen(carol)} == {"carol"}


def test_verify_events_reach_the_owner(v: Vault, alice: User, tmp_path: Path) -> None:
    entry = upload(v, alice, tmp_path, "x.bin", b"x" * 100)
    v.store.path(entry.sha256).unlink()
    upkeep.verify(v)
    assert any(e.action == "verify" and e.file_id == entry.id for e in events.recent(v.db, alice))


def test_a_fresh_copy_is_not_quarantined_for_its_rotten_predecessor(
    v: Vault, alice: User, tmp_path: Path
) -> None:
    entry = upload(v, alice, tmp_path, "x.bin", os.urandom(5000))
    path = v.store.path(entry.sha256)
    intact, rotten_identity = v.store.check(entry.sha256, path)
    assert intact
    # an upload replaces the object (same name, new inode) after verify looked at the old one
    with uploads.Upload(v, alice, "again.bin") as up:
        up.write(path.read_bytes())
        up.commit()
    assert v.store.quarantine(entry.sha256, rotten_identity) is None
    assert path.exists() and upkeep.verify(v).ok


def test_a_download_racing_a_delete_says_no_such_file(
    v: Vault, alice: User, bob: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = upload(v, alice, tmp_path, "x.bin", b"x" * 1000)
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


def test_login_local_replaces_the_old_session_without_orphans(v: Vault, alice: User) -> None:
    _, first = sessions.login_local(v, "alice", ALICE_PW, "cli")
    _, second = sessions.login_local(v, "alice", ALICE_PW, "tui")
    assert [s.client for s in sessions.list_sessions(v, alice)] == [local_client("tui").label]
    assert sessions.load_token(v) == second != first
    assert sessions.logout_local(v) == alice
    assert sessions.list_sessions(v, alice) == [] and sessions.load_token(v) is None


def test_unwritable_token_folder_is_an_error_and_keeps_nothing_live(
    v: Vault, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file where the state folder should be")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    with pytest.raises(SessionFileError):
        sessions.login_local(v, "alice", ALICE_PW, "cli")
    assert sessions.list_sessions(v, alice) == []


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    from vault.core.errors import VaultUnavailable

    folder = tmp_path / "v"
    folder.mkdir()
    (folder / "vault.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(VaultUnavailable, match="not a usable vault database"):
        Vault(folder)


def test_corrupt_download_reports_the_object_it_read(v: Vault, alice: User, tmp_path) -> None:
    entry = upload(v, alice, tmp_path, "x.bin", b"y" * 4096)
    path = v.store.path(entry.sha256)
    with open(path, "r+b") as f:
        f.write(b"z")
    st = path.stat()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CorruptObject) as exc:
        downloads.download_to(v, alice, entry.id, out)
    assert exc.value.identity == (st.st_dev, st.st_ino)


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


def test_unencodable_text_is_refused_not_crashed_on(v: Vault, alice: User) -> None:
    from vault.core.errors import InvalidPassword, NoSuchUser

    with pytest.raises(LoginFailed):
        users.authenticate(v, "\ud800", "password1")
    with pytest.raises(LoginFailed):
        users.authenticate(v, "alice", "\ud800abcdefg")
    with pytest.raises(InvalidPassword):
        users.register(v, "carol", "\ud800abcdefg")
    with pytest.raises(NoSuchUser):
        users.find(v, "\ud800")


@pytest.mark.parametrize("ref", ["9223372036854775808", "#9223372036854775808", "²", "#²", "-1"])
def test_refs_that_cannot_be_ids_are_just_names(v: Vault, alice: User, ref: str) -> None:
    with pytest.raises(NoSuchFile):
        files.resolve(v, alice, ref)
    from vault.core.errors import NoSuchUser

    with pytest.raises(NoSuchUser):
        users.find(v, ref)
