"""The `VaultClient` operations, each test run in direct mode and through the daemon alike."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import ALICE_PW

from vault.core.errors import (
    Cancelled,
    DestinationError,
    InvalidName,
    LoginFailed,
    NameTaken,
    NoSuchFile,
    NoSuchSession,
    NotLoggedIn,
    NotOwner,
    ShareWithSelf,
    SourceError,
    UsernameTaken,
)

Src = Callable[[str, bytes], Path]


def test_sessions_from_register_to_logout(client_for: Callable[[str], Any]) -> None:
    c = client_for("alice")
    with pytest.raises(NotLoggedIn, match="vault login"):
        c.whoami()
    user = c.register("alice", ALICE_PW)
    with pytest.raises(NotLoggedIn):
        c.whoami()  # registering does not log in; the front end logs in next
    with pytest.raises(UsernameTaken, match="'ALICE' is already taken") as taken:
        c.register("ALICE", ALICE_PW)
    assert taken.value.username == "ALICE"
    with pytest.raises(LoginFailed, match="Wrong username or password"):
        c.login("alice", "not-the-password")
    assert c.login("alice", ALICE_PW) == user
    assert c.whoami() == user
    (session,) = c.sessions()
    assert session.current and session.client.startswith("cli uid ")
    assert c.logout() == user
    with pytest.raises(NotLoggedIn):
        c.whoami()
    assert c.logout() is None


def test_a_second_login_ends_the_first_session(client_for: Callable[[str], Any]) -> None:
    c = client_for("alice")
    c.register("alice", ALICE_PW)
    c.login("alice", ALICE_PW)
    c.login("alice", ALICE_PW)
    assert len(c.sessions()) == 1


def test_revoking_every_session_logs_out(alice_c: Any) -> None:
    with pytest.raises(NoSuchSession):
        alice_c.revoke_session(999)
    assert alice_c.revoke_session(None) == 1
    with pytest.raises(NotLoggedIn):
        alice_c.list_files()


def test_upload_list_download_byte_exact(alice_c: Any, src: Src, out_dir: Path) -> None:
    data = os.urandom(3 << 20)
    entry = alice_c.upload(src("a.bin", data))
    assert (entry.name, entry.size, entry.owner) == ("a.bin", len(data), "alice")
    listing = alice_c.list_files()
    assert listing.own == [entry] and listing.shared == []
    first = alice_c.download("a.bin", out_dir)
    second = alice_c.download(entry.id, out_dir)  # never overwrites
    assert (first.name, second.name) == ("a.bin", "a (1).bin")
    assert first.read_bytes() == data and second.read_bytes() == data
    assert sorted(p.name for p in out_dir.iterdir()) == ["a (1).bin", "a.bin"]  # no part files


def test_upload_under_another_name_and_versions(alice_c: Any, src: Src, out_dir: Path) -> None:
    first = alice_c.upload(src("a.txt", b"one"), name="notes.txt")
    again = alice_c.upload(src("b.txt", b"two!"), name="notes.txt")
    assert again.id == first.id and again.versions == 2
    assert [v.number for v in alice_c.versions("notes.txt")] == [2, 1]
    old = alice_c.download(first.id, out_dir, version=1)
    assert old.read_bytes() == b"one"


def test_upload_from_a_pipe(alice_c: Any) -> None:
    data = os.urandom(5 << 20)
    r, w = os.pipe()

    def feed() -> None:
        with open(w, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        entry = alice_c.upload(f"/dev/fd/{r}", name="piped.bin")
    finally:
        os.close(r)
        writer.join()
    assert entry.size == len(data)


def test_cancelling_a_stream_stores_nothing(alice_c: Any) -> None:
    r, w = os.pipe()
    stop = threading.Event()

    def feed() -> None:
        with open(w, "wb") as f:
            while not stop.is_set():
                try:
                    f.write(b"x" * (1 << 20))
                except BrokenPipeError:
                    return

    def cancel(done: int) -> None:
        raise Cancelled()

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        with pytest.raises(Cancelled):
            alice_c.upload(f"/dev/fd/{r}", name="endless", progress=cancel)
    finally:
        stop.set()
        os.close(r)
        writer.join()
    assert alice_c.list_files().own == []


def test_upload_errors_name_the_local_path(alice_c: Any, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="No such file: .*missing"):
        alice_c.upload(tmp_path / "missing")
    with pytest.raises(SourceError, match="is a folder"):
        alice_c.upload(tmp_path)
    with pytest.raises(InvalidName):
        alice_c.upload(__file__, name="a/b")


def test_download_errors_name_the_folder(alice_c: Any, src: Src, tmp_path: Path) -> None:
    alice_c.upload(src("a.txt", b"hello"))
    with pytest.raises(DestinationError, match="does not exist"):
        alice_c.download("a.txt", tmp_path / "nope")
    with pytest.raises(NoSuchFile):
        alice_c.download("b.txt", tmp_path)


def test_download_to_a_stream(alice_c: Any, src: Src) -> None:
    data = os.urandom(3 << 20)
    entry = alice_c.upload(src("a.bin", data))
    r, w = os.pipe()
    got = bytearray()

    def drain() -> None:
        while chunk := os.read(r, 1 << 20):
            got.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        assert alice_c.download_stream(entry.id, w) == entry
    finally:
        os.close(w)
        reader.join()
        os.close(r)
    assert bytes(got) == data


def test_sharing_from_both_sides(alice_c: Any, bob_c: Any, src: Src, out_dir: Path) -> None:
    mine = alice_c.upload(src("a.txt", b"for bob"))
    private = alice_c.upload(src("p.txt", b"alice only"))
    with pytest.raises(NoSuchFile):
        bob_c.find_file(mine.id)
    with pytest.raises(ShareWithSelf):
        alice_c.share(mine.id, "alice")
    entry, other = alice_c.share("a.txt", "bob")
    assert (entry.id, other.username) == (mine.id, "bob")
    assert [u.username for u in alice_c.recipients(mine.id)] == ["bob"]
    assert alice_c.find_file(mine.id).shared_with == ("bob",)
    seen = bob_c.list_files()
    assert seen.own == [] and [e.id for e in seen.shared] == [mine.id]
    assert seen.shared[0].shared_with == ()  # only the owner learns who else has it
    assert bob_c.download(mine.id, out_dir).read_bytes() == b"for bob"
    with pytest.raises(NotOwner):
        bob_c.rename(mine.id, "x.txt")
    with pytest.raises(NotOwner):
        bob_c.find_file(mine.id, own=True)
    for attempt in (bob_c.delete, bob_c.versions, bob_c.find_file):
        with pytest.raises(NoSuchFile):
            attempt(private.id)
    alice_c.unshare(mine.id, "bob")
    with pytest.raises(NoSuchFile):
        bob_c.download(mine.id, out_dir)
    assert bob_c.usernames("a") == ["alice"]


def test_rename_and_delete(alice_c: Any, src: Src) -> None:
    a = alice_c.upload(src("a.txt", b"a"))
    alice_c.upload(src("b.txt", b"b"))
    with pytest.raises(NameTaken):
        alice_c.rename(a.id, "b.txt")
    assert alice_c.rename("a.txt", "c.txt").name == "c.txt"
    assert alice_c.delete("c.txt").id == a.id
    assert [e.name for e in alice_c.list_files().own] == ["b.txt"]


def test_activity(alice_c: Any, bob_c: Any, src: Src) -> None:
    before = alice_c.latest_event_id()
    entry = alice_c.upload(src("a.txt", b"a"))
    alice_c.share(entry.id, "bob")
    assert alice_c.latest_event_id() > before
    actions = [e.action for e in alice_c.recent_events(limit=2)]
    assert actions == ["share", "upload"]
    assert [e.describe() for e in bob_c.recent_events(1)][0].endswith(f"(#{entry.id}) with bob")


def test_upkeep(alice_c: Any, src: Src) -> None:
    alice_c.upload(src("a.txt", b"a"))
    assert alice_c.verify().ok
    assert alice_c.verify().checked == 1
    assert alice_c.gc(dry_run=True).objects == []


def test_nothing_without_a_session(client_for: Callable[[str], Any], out_dir: Path) -> None:
    c = client_for("nobody")
    for call in (
        c.list_files,
        c.sessions,
        c.usernames,
        c.latest_event_id,
        lambda: c.find_file(1),
        lambda: c.download(1, out_dir),
        lambda: c.upload(__file__),
        lambda: c.share(1, "alice"),
        lambda: c.recent_events(5),
    ):
        with pytest.raises(NotLoggedIn):
            call()
