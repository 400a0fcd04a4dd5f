"""Files and their versions: upload, list, find, download, rename, delete.

A file belongs to one owner and has a name unique among that owner's files. Each upload of a
name the owner already has adds a version (the file id stays; shares follow the latest). Who
may see a file is decided here, in `resolve`: its owner and the users it is shared with.
"""

from __future__ import annotations

import errno
import os
import secrets
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from vault.core import clock, events, integrity, upkeep
from vault.core.atomic import fsync_dir
from vault.core.db import write
from vault.core.errors import (
    AmbiguousFile,
    CorruptObject,
    DestinationError,
    InvalidName,
    NameTaken,
    NoSuchFile,
    NoSuchVersion,
    NotOwner,
    SourceError,
)
from vault.core.models import FileEntry, Listing, User, Version
from vault.core.names import MAX_NAME_BYTES, clean_filename, printable
from vault.core.store import ObjectWriter, Progress, hash_fd, no_progress
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
    """Own files and files shared with the user, each sorted by name."""
    own = v.db.execute(_SELECT + " WHERE f.owner_id = ? ORDER BY f.name", [user.id])
    shared = v.db.execute(
        _SELECT + " JOIN shares me ON me.file_id = f.id AND me.user_id = ? ORDER BY f.name",
        [user.id],
    )
    own_entries = [_entry(r) for r in own.fetchall()]
    # recipients never see the owner's list of other recipients
    shared_entries = [replace(e, shared_with=()) for e in map(_entry, shared.fetchall())]
    return Listing(own_entries, shared_entries)


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
    if isinstance(ref, int) or (ref.startswith("#") and ref[1:].isdigit()):
        file_id = ref if isinstance(ref, int) else int(ref[1:])
        found = _visible(v, user, "f.id = ?", [file_id])
        if not found:
            raise NoSuchFile(ref)
        return found[0]
    by_id = _visible(v, user, "f.id = ?", [int(ref)]) if ref.isdigit() else []
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
    """Every version of a file, oldest first (owner only)."""
    entry = owned(v, user, ref)
    rows = v.db.execute(
        "SELECT number, size, sha256, uploaded_at FROM versions WHERE file_id = ? ORDER BY number",
        [entry.id],
    ).fetchall()
    return [Version(*r) for r in rows]


def _version_of(v: Vault, entry: FileEntry, number: int | None) -> Version:
    if number is None:
        return Version(entry.versions, entry.size, entry.sha256, entry.uploaded_at)
    row = v.db.execute(
        "SELECT number, size, sha256, uploaded_at FROM versions WHERE file_id = ? AND number = ?",
        [entry.id, number],
    ).fetchone()
    if row is None:
        raise NoSuchVersion(entry.id, number)
    return Version(*row)


# -- uploading ----------------------------------------------------------------------------------


def _commit_version(v: Vault, user: User, name: str, sha: str, size: int) -> FileEntry:
    """Record content under a name: a new file, or a new version of the existing one."""
    now = clock.iso()
    with write(v.db) as db:
        row = db.execute(
            "SELECT id FROM files WHERE owner_id = ? AND name = ?", [user.id, name]
        ).fetchone()
        if row is None:
            file_id = db.execute(
                "INSERT INTO files (owner_id, name, created_at) VALUES (?, ?, ?)",
                [user.id, name, now],
            ).lastrowid
            number = 1
        else:
            file_id = row[0]
            number = db.execute(
                "SELECT max(number) + 1 FROM versions WHERE file_id = ?", [file_id]
            ).fetchone()[0]
        db.execute(
            "INSERT INTO versions (file_id, number, sha256, size, uploaded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [file_id, number, sha, size, now],
        )
        events.record(
            db, user.id, "upload", file_id=file_id, file_name=name, owner_id=user.id,
            detail=f"version {number}" if number > 1 else None,
        )  # fmt: skip
    return resolve(v, user, file_id)


class Upload:
    """A streamed upload (HTTP bodies, pipes): `write` chunks, then `commit` or `abort`.

    Used as a context manager it aborts unless committed, so an exception or a dropped
    connection leaves no entry and no partial object.
    """

    def __init__(self, v: Vault, user: User, name: str, max_size: int | None = None) -> None:
        self.name = clean_filename(name)
        self._v = v
        self._user = user
        self._writer: ObjectWriter = v.store.writer(max_size)

    @property
    def size(self) -> int:
        return self._writer.size

    def write(self, data: bytes | memoryview) -> None:
        self._writer.write(data)

    def commit(self) -> FileEntry:
        return commit_all(self._v, [self])[0]

    def abort(self) -> None:
        self._writer.discard()

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


def commit_all(v: Vault, uploads: list[Upload]) -> list[FileEntry]:
    """Store several streamed uploads all together or not at all (one transaction).

    Objects are published first (an unreferenced object is harmless: gc removes it), then
    every row goes into one write transaction, so a failure at any point stores no entry.
    """
    for up in uploads:
        up._writer.finish()
    with v.store.pin():
        published = [(up, up._writer.publish()) for up in uploads]
        with write(v.db):
            ids = [
                _commit_version(v, up._user, up.name, sha, up._writer.size).id
                for up, sha in published
            ]
        for up, sha in published:
            if up._writer.published is not None:
                integrity.vouch(v.db, sha, up._writer.published)
    return [resolve(v, up._user, file_id) for up, file_id in zip(uploads, ids, strict=True)]


def _publish(v: Vault, user: User, name: str, writer: ObjectWriter) -> FileEntry:
    with writer:
        writer.finish()
        with v.store.pin():
            sha = writer.publish()
            entry = _commit_version(v, user, name, sha, writer.size)
            if writer.published is not None:
                integrity.vouch(v.db, sha, writer.published)
            return entry


def _base_name(path: str | os.PathLike[str]) -> str:
    raw = os.path.basename(os.fsencode(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidName(
            f"{printable(os.fsdecode(raw))} is not valid UTF-8; give a name (--name)"
        ) from None


def _open_source(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SourceError(f"No such file: {printable(path)}") from None
    except IsADirectoryError:
        raise SourceError(f"{printable(path)} is a folder; upload the files in it") from None
    except OSError as e:
        raise SourceError(f"Cannot read {printable(path)}: {e.strerror}") from None
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        os.close(fd)
        raise SourceError(f"{printable(path)} is a folder; upload the files in it")
    return fd, st


def upload_path(
    v: Vault,
    user: User,
    path: str | os.PathLike[str],
    name: str | None = None,
    progress: Progress = no_progress,
) -> FileEntry:
    """Upload a local file under `name` (default: its base name).

    Content the vault already holds is only hashed, never written again. New content is
    copied in the kernel while a second thread hashes what landed.
    """
    fd, st = _open_source(path)
    try:
        target = clean_filename(name if name is not None else _base_name(path))
        if not stat.S_ISREG(st.st_mode):  # a pipe or a device: stream it
            upload = Upload(v, user, target)
            with upload:
                upload._writer.copy_stream(fd, progress)
                return upload.commit()
        size = st.st_size
        if _size_known(v, size):
            try:
                sha = hash_fd(fd, size, progress)
            except OSError as e:
                raise SourceError(f"Cannot read {printable(path)}: {e.strerror}") from None
            with v.store.pin():
                if v.store.has(sha, size):
                    return _commit_version(v, user, target, sha, size)
        writer = v.store.writer()
        with writer:
            writer.copy_from(fd, size, progress)
            return _publish(v, user, target, writer)
    finally:
        os.close(fd)


def _size_known(v: Vault, size: int) -> bool:
    """Whether any stored content has this size: only then can hashing first save a write."""
    return (
        v.db.execute("SELECT 1 FROM versions WHERE size = ? LIMIT 1", [size]).fetchone() is not None
    )


# -- downloading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """A version's bytes, opened, for front ends that stream them (HTTP)."""

    entry: FileEntry
    version: Version
    path: Path
    fd: int
    """An open read-only descriptor of the object; the caller closes it."""
    known_intact: bool
    """The object file is the one last seen intact (`integrity`): it may be sent unhashed."""


def open_content(v: Vault, user: User, ref: str | int, version: int | None = None) -> Content:
    """Find a version the user may see and open its object, and log the read.

    Found and opened under one pin, so a concurrent delete gives NoSuchFile rather than a
    missing object. Unless `known_intact`, the caller must check the bytes it streams from
    `fd` against `version.sha256` before handing out the last of them, then call
    `integrity.vouch` (or `store.quarantine` on a mismatch).
    """
    with v.store.pin():
        entry = resolve(v, user, ref)
        ver = _version_of(v, entry, version)
        fd = v.store.open(ver.sha256)
        known = integrity.vouched(v.db, ver.sha256, os.fstat(fd))
    _log_download(v, user, entry)
    return Content(entry, ver, v.store.path(ver.sha256), fd, known)


def _log_download(v: Vault, user: User, entry: FileEntry) -> None:
    with write(v.db) as db:
        events.record(
            db, user.id, "download", file_id=entry.id, file_name=entry.name,
            owner_id=entry.owner_id,
        )  # fmt: skip


def _candidates(name: str) -> Iterator[str]:
    """`name`, then `stem (1).ext`, `stem (2).ext`…, each kept within the name length limit."""
    yield name
    stem, ext = os.path.splitext(name)
    if not stem:  # ".bashrc" has no extension, it is all stem
        stem, ext = ext, ""
    n = 1
    while True:
        suffix = f" ({n}){ext}"
        room = MAX_NAME_BYTES - len(suffix.encode())
        short = stem.encode()[:room].decode("utf-8", "ignore")
        yield short + suffix
        n += 1


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o077


def download_to(
    v: Vault,
    user: User,
    ref: str | int,
    dest_dir: str | os.PathLike[str],
    version: int | None = None,
    progress: Progress = no_progress,
) -> Path:
    """Write a file the user may see into `dest_dir`; returns the path written.

    Never overwrites: if the name is taken, `name (1).ext` and so on. The bytes go to a temp
    file in `dest_dir`, are checked against their hash and fsynced, and only then linked under
    the final name, so a reader never sees a partial or wrong file.
    """
    folder = Path(dest_dir)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DestinationError(f"{printable(folder)} {what}; create it or choose another folder")
    tmp = folder / f".{secrets.token_hex(6)}.vault-part"
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise DestinationError(f"Cannot write into {printable(folder)}: {e.strerror}") from None
    try:
        try:
            # Found and copied under one pin: a delete that commits first makes this
            # NoSuchFile; one that commits later cannot remove the object until we are done.
            with v.store.pin():
                entry = resolve(v, user, ref)
                ver = _version_of(v, entry, version)
                sha = ver.sha256
                hashed = v.store.copy_out(
                    sha, fd, progress, trusted=lambda st: integrity.vouched(v.db, sha, st)
                )
                if hashed is not None:
                    integrity.vouch(v.db, sha, hashed)
            os.fchmod(fd, 0o666 & ~_umask())
            os.fsync(fd)
        except CorruptObject as e:
            if not e.missing:  # moved aside, so that the next upload of it heals the vault
                v.store.quarantine(e.sha256, e.identity)
            raise
        except OSError as e:
            raise DestinationError(f"Cannot write into {printable(folder)}: {e.strerror}") from None
        final = _link_free_name(tmp, folder, entry.name)
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)
    _log_download(v, user, entry)
    return final


def _link_free_name(tmp: Path, folder: Path, name: str) -> Path:
    """Give `tmp` the first free name; `link` fails on an existing name, so nothing is lost."""
    for candidate in _candidates(name):
        final = folder / candidate
        try:
            os.link(tmp, final)
        except FileExistsError:
            continue
        except OSError as e:
            if e.errno == errno.ENAMETOOLONG:
                continue
            raise DestinationError(f"Cannot write into {printable(folder)}: {e.strerror}") from None
        try:
            fsync_dir(folder)
        except OSError:
            pass  # a write-only drop folder cannot be opened to sync; the link is made anyway
        return final
    raise AssertionError("unreachable")  # _candidates never ends


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
    """Delete one of the user's files, all its versions and shares; free content nobody uses."""
    entry = owned(v, user, ref)
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
    upkeep.collect(v, shas)
    return entry
