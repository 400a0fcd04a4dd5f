"""Files and their versions: list, find, rename, delete (uploads.py and downloads.py move bytes).

A file belongs to one owner and has a name unique among that owner's files. Each upload of a
name the owner already has adds a version (the file id stays; shares follow the latest). Who
may see a file is decided here, in `resolve`: its owner and the users it is shared with.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from vault.core import events, reserve, upkeep
from vault.core.db import write
from vault.core.errors import (
    AmbiguousFile,
    InvalidName,
    NameTaken,
    NoSuchFile,
    NoSuchVersion,
    NotOwner,
)
from vault.core.models import FileEntry, Listing, User, Version
from vault.core.names import MAX_ID, clean_filename, parse_id, sort_key
from vault.core.vault import Vault

_SEP = "\x1f"  # joins recipient names in one column; usernames cannot contain it

_SELECT = f"""
SELECT f.id, f.name, v.size, v.sha256, v.uploaded_at, u.username, f.owner_id,
       (SELECT group_concat(su.username, '{_SEP}') FROM shares s JOIN users su ON su.id = s.user_id
        WHERE s.file_id = f.id) AS shared_with,
       v.number
FROM files f
JOIN users u ON u.id = f.owner_id
JOIN versions v ON v.file_id = f.id
     AND v.number = (SELECT max(number) FROM versions WHERE file_id = f.id)
"""


def _entry(row: tuple) -> FileEntry:
    shared = tuple(sorted(row[7].split(_SEP), key=str.lower)) if row[7] else ()
    return FileEntry(row[0], row[1], row[2], row[3], row[4], row[5], row[6], shared, row[8])


# -- listing and finding ------------------------------------------------------------------------


def list_files(v: Vault, user: User) -> Listing:
    """Own files and files shared with the user, each sorted by name (`names.sort_key`)."""
    own = v.db.execute(_SELECT + " WHERE f.owner_id = ?", [user.id])
    shared = v.db.execute(
        _SELECT + " JOIN shares me ON me.file_id = f.id AND me.user_id = ?", [user.id]
    )
    own_entries = [_entry(r) for r in own.fetchall()]
    # recipients never see the owner's list of other recipients
    shared_entries = [replace(e, shared_with=()) for e in map(_entry, shared.fetchall())]
    by_name = lambda e: (*sort_key(e.name), e.id)  # noqa: E731
    return Listing(sorted(own_entries, key=by_name), sorted(shared_entries, key=by_name))


def _visible(v: Vault, user: User, where: str, params: list[object]) -> list[FileEntry]:
    rows = v.db.execute(
        _SELECT + f" WHERE ({where}) AND (f.owner_id = ? OR EXISTS "
        "(SELECT 1 FROM shares s WHERE s.file_id = f.id AND s.user_id = ?))"
        " ORDER BY f.owner_id != ?, f.id",
        [*params, user.id, user.id, user.id],
    ).fetchall()
    # only the owner learns who else a file is shared with
    return [e if e.owner_id == user.id else replace(e, shared_with=()) for e in map(_entry, rows)]


def resolve(v: Vault, user: User, ref: str | int) -> FileEntry:
    """The file `ref` as `user` may see it; NoSuchFile otherwise.

    `ref` is an id (an int, or `#12`) or a name. A string of digits may be either: if it is
    the name of one file and the id of another, AmbiguousFile asks for `#ID`. A file that
    exists but is not visible raises the same NoSuchFile as one that does not exist, so ids
    leak nothing. A name is looked up among the user's own files first, then among files
    shared with them; several shared files with that name need an id.
    """
    if isinstance(ref, bool) or not isinstance(ref, (int, str)):
        raise NoSuchFile(str(ref))
    if isinstance(ref, int) or (ref.startswith("#") and parse_id(ref[1:]) is not None):
        file_id = ref if isinstance(ref, int) else parse_id(ref[1:])
        found = _visible(v, user, "f.id = ?", [file_id]) if 0 <= (file_id or 0) <= MAX_ID else []
        if not found:
            raise NoSuchFile(ref)
        return found[0]
    as_id = parse_id(ref)
    by_id = _visible(v, user, "f.id = ?", [as_id]) if as_id is not None else []
    try:
        by_name = _by_name(v, user, clean_filename(ref))
    except (InvalidName, NoSuchFile):
        if by_id:
            return by_id[0]
        raise NoSuchFile(ref) from None
    if by_id and by_id[0].id != by_name.id:
        raise AmbiguousFile(ref, sorted([by_id[0].id, by_name.id]))
    return by_name


def _by_name(v: Vault, user: User, name: str) -> FileEntry:
    found = _visible(v, user, "f.name = ?", [name])
    own = [e for e in found if e.owner_id == user.id]
    if own:
        return own[0]
    if len(found) > 1:
        raise AmbiguousFile(name, [e.id for e in found])
    if not found:
        raise NoSuchFile(name)
    return found[0]


def owned(v: Vault, user: User, ref: str | int) -> FileEntry:
    """`resolve`, then insist the user owns it (NotOwner if it was only shared with them)."""
    entry = resolve(v, user, ref)
    if not entry.is_owned_by(user):
        raise NotOwner(entry.id)
    return entry


def versions(v: Vault, user: User, ref: str | int) -> list[Version]:
    """The versions of a file that `user` may see, newest first.

    The one rule for every front end: the owner sees every version; a user the file is shared
    with sees only the current one. A share hands out the file as it is now, so content the
    owner has since replaced (a secret uploaded by mistake, then fixed) is not shared with it.
    """
    entry = resolve(v, user, ref)
    if not entry.is_owned_by(user):
        return [version_of(v, user, entry, None)]
    rows = v.db.execute(
        "SELECT number, size, sha256, uploaded_at FROM versions WHERE file_id = ?"
        " ORDER BY number DESC",
        [entry.id],
    ).fetchall()
    return [Version(*r) for r in rows]


def version_of(v: Vault, user: User, entry: FileEntry, number: int | None) -> Version:
    """Version `number` of a file `user` can see (None: the current one); see `versions`.

    An older version asked for by a recipient is NoSuchVersion, exactly as one that does not
    exist, so a recipient learns nothing of the history.
    """
    if number is None or number == entry.versions:
        return Version(entry.versions, entry.size, entry.sha256, entry.uploaded_at)
    if not entry.is_owned_by(user):
        raise NoSuchVersion(entry.id, number)
    row = v.db.execute(
        "SELECT number, size, sha256, uploaded_at FROM versions WHERE file_id = ? AND number = ?",
        [entry.id, number],
    ).fetchone()
    if row is None:
        raise NoSuchVersion(entry.id, number)
    return Version(*row)


# -- changing -----------------------------------------------------------------------------------


def rename(v: Vault, user: User, ref: str | int, new_name: str) -> FileEntry:
    """Rename one of the user's files; NameTaken if they already have a file by that name."""
    entry = owned(v, user, ref)
    name = clean_filename(new_name)
    try:
        with write(v.db) as db:
            cur = db.execute(
                "UPDATE files SET name = ? WHERE id = ? AND owner_id = ?", [name, entry.id, user.id]
            )
            if cur.rowcount == 0:  # deleted since `owned` looked
                raise NoSuchFile(ref)
            events.record(
                db, user.id, "rename", file_id=entry.id, file_name=name, owner_id=user.id,
                detail=f"from {entry.name!r}",
            )  # fmt: skip
    except sqlite3.IntegrityError:
        raise NameTaken(name) from None
    return resolve(v, user, entry.id)


def delete(v: Vault, user: User, ref: str | int) -> FileEntry:
    """Delete one of the user's files, all its versions and shares; free content nobody uses.

    The one write that works on a full disk: it spends the vault's reserve to commit, frees
    the content, then makes the reserve again.
    """
    entry = owned(v, user, ref)
    shas = reserve.spend(v.root, lambda: _delete_rows(v, user, entry, ref))
    upkeep.collect(v, shas)
    reserve.refill(v.root)
    return entry


def _delete_rows(v: Vault, user: User, entry: FileEntry, ref: str | int) -> list[str]:
    """Remove the file's rows and log it; returns the contents its versions used."""
    with write(v.db) as db:
        shas = [
            r[0]
            for r in db.execute(
                "SELECT DISTINCT sha256 FROM versions WHERE file_id = ?", [entry.id]
            ).fetchall()
        ]
        cur = db.execute("DELETE FROM files WHERE id = ? AND owner_id = ?", [entry.id, user.id])
        if cur.rowcount == 0:  # deleted since `owned` looked
            raise NoSuchFile(ref)
        events.record(
            db, user.id, "delete", file_id=entry.id, file_name=entry.name, owner_id=user.id
        )
    return shas
