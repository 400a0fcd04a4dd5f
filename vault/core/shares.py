"""Sharing: an owner lets other users list and download one of their files."""

from __future__ import annotations

from vault.core import clock, events, files, users
from vault.core.db import write
from vault.core.errors import ShareWithSelf
from vault.core.models import FileEntry, User
from vault.core.vault import Vault


def share(v: Vault, user: User, ref: str | int, target: str | int) -> tuple[FileEntry, User]:
    """Share one of `user`'s files with `target` (a username or id). Sharing twice is a no-op."""
    entry = files.owned(v, user, ref)
    other = users.find(v, target)
    if other.id == user.id:
        raise ShareWithSelf()
    with write(v.db) as db:
        cur = db.execute(
            "INSERT OR IGNORE INTO shares (file_id, user_id, created_at)"
            " SELECT id, ?, ? FROM files WHERE id = ? AND owner_id = ?",
            [other.id, clock.iso(), entry.id, user.id],
        )
        if cur.rowcount:
            events.record(
                db, user.id, "share", file_id=entry.id, file_name=entry.name,
                owner_id=user.id, target_id=other.id,
            )  # fmt: skip
    return entry, other


def unshare(v: Vault, user: User, ref: str | int, target: str | int) -> tuple[FileEntry, User]:
    """Stop sharing; the other user can no longer list or download the file."""
    entry = files.owned(v, user, ref)
    other = users.find(v, target)
    with write(v.db) as db:
        cur = db.execute(  # the owner re-checked in the statement (rule 10)
            "DELETE FROM shares WHERE file_id = ? AND user_id = ?"
            " AND file_id IN (SELECT id FROM files WHERE id = ? AND owner_id = ?)",
            [entry.id, other.id, entry.id, user.id],
        )
        if cur.rowcount:
            events.record(
                db, user.id, "unshare", file_id=entry.id, file_name=entry.name,
                owner_id=user.id, target_id=other.id,
            )  # fmt: skip
    return entry, other


def recipients(v: Vault, user: User, ref: str | int) -> list[User]:
    """Who a file is shared with (owner only), sorted by name."""
    entry = files.owned(v, user, ref)
    rows = v.db.execute(
        "SELECT u.id, u.username FROM shares s JOIN users u ON u.id = s.user_id"
        " WHERE s.file_id = ? ORDER BY u.username_key",
        [entry.id],
    ).fetchall()
    return [User(*r) for r in rows]
