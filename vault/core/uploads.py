"""Uploads: bytes from a local file, a pipe or a stream into the store, then into a file.

A name the owner already has gets a new version (the file id stays); new content is written
once, known content only hashed (see docs/ARCHITECTURE.md, rules 1-4).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from vault.core import clock, events, integrity, quotas
from vault.core.db import write
from vault.core.errors import InvalidName, SourceError
from vault.core.files import resolve
from vault.core.models import FileEntry, User
from vault.core.names import clean_filename, printable
from vault.core.store import ObjectWriter, Progress, hash_fd, no_progress
from vault.core.vault import Vault


def _commit_version(v: Vault, user: User, name: str, sha: str, size: int) -> FileEntry:
    """Record content under a name: a new file, or a new version of the existing one."""
    now = clock.iso()
    with write(v.db) as db:
        quotas.check(db, user, size)  # again, under the write lock: no two uploads overshoot
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
        self._allowance = quotas.Allowance(v.db, user)

    @property
    def size(self) -> int:
        return self._writer.size

    def write(self, data: bytes | memoryview) -> None:
        self._allowance.check(self.size + len(data))
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
    """Store several streamed uploads all together or not at all (one transaction)."""
    return _publish(v, [(up._user, up.name, up._writer) for up in uploads])


def _publish(v: Vault, items: list[tuple[User, str, ObjectWriter]]) -> list[FileEntry]:
    """Put finished objects in place, then record every version in one transaction.

    Objects are published first (an unreferenced object is harmless: gc removes it), so a
    failure at any point stores no entry.
    """
    for _, _, writer in items:
        writer.finish()
    with v.store.pin():
        shas = [writer.publish() for _, _, writer in items]
        with write(v.db):
            ids = [
                _commit_version(v, user, name, sha, writer.size).id
                for (user, name, writer), sha in zip(items, shas, strict=True)
            ]
        for (_, _, writer), sha in zip(items, shas, strict=True):
            if writer.published is not None:
                integrity.vouch(v.db, sha, writer.published)
    return [resolve(v, user, i) for (user, _, _), i in zip(items, ids, strict=True)]


def base_name(path: str | os.PathLike[str]) -> str:
    """The name a local file is stored under by default: its base name, which must be UTF-8."""
    raw = os.path.basename(os.fsencode(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidName(
            f"{printable(os.fsdecode(raw))} is not valid UTF-8; give a name (--name)"
        ) from None


def _is_folder(label: str) -> SourceError:
    return SourceError(f"{label} is a folder; upload the files in it")


def open_source(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """Open a local file to upload, as the person uploading (one-line errors)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SourceError(f"No such file: {printable(path)}") from None
    except IsADirectoryError:
        raise _is_folder(printable(path)) from None
    except OSError as e:
        raise SourceError(f"Cannot read {printable(path)}: {e.strerror}") from None
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        os.close(fd)
        raise _is_folder(printable(path))
    return fd, st


def upload_path(
    v: Vault,
    user: User,
    path: str | os.PathLike[str],
    name: str | None = None,
    progress: Progress = no_progress,
) -> FileEntry:
    """Upload a local file under `name` (default: its base name)."""
    fd, _ = open_source(path)
    try:
        target = name if name is not None else base_name(path)
        return upload_fd(v, user, fd, target, progress, label=printable(path))
    finally:
        os.close(fd)


def upload_fd(
    v: Vault,
    user: User,
    fd: int,
    name: str,
    progress: Progress = no_progress,
    label: str = "the file",
) -> FileEntry:
    """Upload from a descriptor the caller opened; `label` names it in messages.

    The daemon gets the descriptor from its client, so it never opens a path a client names
    (it could read what the client cannot). Content the vault already holds is only hashed,
    never written again. New content is copied in the kernel while a second thread hashes
    what landed. Pipes, devices and pseudo files (procfs, sysfs: their size is not their
    content) are read to the end instead.
    """
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        raise _is_folder(label)
    target = clean_filename(name)
    if stat.S_ISREG(st.st_mode) and st.st_size > 0:
        try:
            return _upload_sized(v, user, fd, st, target, label, progress)
        except _SizeUntrue:
            pass  # only positioned reads so far: the stream starts at offset 0
    return _upload_stream(v, user, fd, target, progress)


class _SizeUntrue(Exception):
    """The file does not hold the bytes its stat reports, though it did not change."""


def _upload_sized(
    v: Vault,
    user: User,
    fd: int,
    st: os.stat_result,
    target: str,
    label: str,
    progress: Progress,
) -> FileEntry:
    """A regular file of `st.st_size` bytes: known content is only hashed, new content copied."""
    size = st.st_size
    quotas.check(v.db, user, size)  # before a byte is read
    if _size_known(v, size):
        try:
            with _sized(fd, st):
                sha = hash_fd(fd, size, progress)
        except OSError as e:
            raise SourceError(f"Cannot read {label}: {e.strerror}") from None
        with v.store.pin():
            if v.store.has(sha, size):
                return _commit_version(v, user, target, sha, size)
    writer = v.store.writer()
    with writer:
        with _sized(fd, st):
            writer.copy_from(fd, size, progress)
        return _publish(v, [(user, target, writer)])[0]


@contextmanager
def _sized(fd: int, st: os.stat_result) -> Iterator[None]:
    """Reading a regular file as exactly `st.st_size` bytes: _SizeUntrue if it is not that.

    A pseudo file (sysfs says 4096 whatever it holds) ends early, or goes on past its size,
    or cannot be read at an offset at all, while its stat stays the same. A real file that
    ends early was truncated meanwhile: its stat changed, and that stays an error (SourceError),
    so a shortened file is never stored as if complete. A real file that grew meanwhile keeps
    the bytes it had when the upload began.
    """
    try:
        yield
    except SourceError:
        if not _unchanged(fd, st):
            raise
        raise _SizeUntrue() from None
    except OSError as e:
        if e.errno != errno.ESPIPE:
            raise
        raise _SizeUntrue() from None
    if os.pread(fd, 1, st.st_size) and _unchanged(fd, st):
        raise _SizeUntrue()


def _unchanged(fd: int, st: os.stat_result) -> bool:
    return integrity.fingerprint(os.fstat(fd)) == integrity.fingerprint(st)


def _upload_stream(v: Vault, user: User, fd: int, target: str, progress: Progress) -> FileEntry:
    """Bytes of unknown length, read to the end (a pipe, a device, a pseudo file)."""
    upload = Upload(v, user, target)

    def watch(done: int) -> None:  # a stream over quota stops as soon as it is
        upload._allowance.check(done)
        progress(done)

    with upload:
        upload._writer.copy_stream(fd, watch)
        return upload.commit()


def _size_known(v: Vault, size: int) -> bool:
    """Whether any stored content has this size: only then can hashing first save a write."""
    return (
        v.db.execute("SELECT 1 FROM versions WHERE size = ? LIMIT 1", [size]).fetchone() is not None
    )
