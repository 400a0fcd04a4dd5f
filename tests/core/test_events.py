"""The audit log: who sees which events."""

from __future__ import annotations

from pathlib import Path

from support import upload_bytes

from vault.core import Vault, downloads, events, files, shares, upkeep, users
from vault.core.models import User


def test_event_log_shows_each_user_only_their_business(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    carol = users.register(v, "carol", "carol-password")
    private = upload_bytes(v, alice, tmp_path, "private.txt", b"p")
    shared = upload_bytes(v, alice, tmp_path, "shared.txt", b"s")
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
    entry = upload_bytes(v, alice, tmp_path, "x.bin", b"x" * 100)
    v.store.path(entry.sha256).unlink()
    upkeep.verify(v)
    assert any(e.action == "verify" and e.file_id == entry.id for e in events.recent(v.db, alice))
