"""Downloads: a version's bytes out of the store, checked, into a folder or a stream.

Never overwrites, never writes outside the chosen folder, never hands out bytes that do not
match their hash (see docs/ARCHITECTURE.md, rules 7-9). Front ends that stream (HTTP,
`vault download -o -`) open a version with `open_content` and send what `verified_chunks`
yields: the rules live here, the front ends only move bytes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vault.core import events, integrity
from vault.core.atomic import fsync_dir
from vault.core.db import write_unless_full
from vault.core.errors import CorruptObject, DestinationError
from vault.core.files import resolve, version_of
from vault.core.models import FileEntry, User, Version
from vault.core.names import MAX_NAME_BYTES, printable
from vault.core.store import Progress, no_progress, unreadable
from vault.core.vault import Vault


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


CHUNK = 4 << 20
"""Default step of `verified_chunks` (64 KiB steps cost most of the throughput)."""


def open_content(v: Vault, user: User, ref: str | int, version: int | None = None) -> Content:
    """Find a version the user may see and open its object, and log the read.

    Found and opened under one pin, so a concurrent delete gives NoSuchFile rather than a
    missing object. Send its bytes with `verified_chunks` (which closes `fd`), or close it.
    """
    with v.store.pin():
        entry = resolve(v, user, ref)
        ver = version_of(v, user, entry, version)
        fd = v.store.open(ver.sha256)
        known = integrity.vouched(v.db, ver.sha256, os.fstat(fd))
    _log_download(v, user, entry)
    return Content(entry, ver, v.store.path(ver.sha256), fd, known)


def verified_chunks(
    v: Vault,
    content: Content,
    start: int = 0,
    end: int | None = None,
    chunk: int | Callable[[], int] = CHUNK,
    progress: Progress = no_progress,
) -> Iterator[bytes]:
    """The bytes [start, end) of an opened version, checked against its hash; closes its fd.

    Unless the object is known intact (rule 8: then only the range is read), the whole
    object is hashed while the range is yielded, and the last chunk is held back until the
    hash is known: on a mismatch the object is moved aside (rule 7) and CorruptObject raised
    instead, so a receiver never gets complete wrong content; on a match it is vouched for.
    `chunk` may be a function, asked before each read (a server sizes steps by load);
    `progress` gets the bytes of the object read so far and may raise Cancelled. Blocking
    (disk, database): run it on a worker thread, never on an event loop.
    """
    fd, sha = content.fd, content.version.sha256
    try:
        st = os.fstat(fd)
        end = st.st_size if end is None else end
        step = chunk if callable(chunk) else lambda: chunk
        h = None if content.known_intact else hashlib.sha256()
        off, stop = (start, end) if h is None else (0, st.st_size)
        held: bytes | None = None
        while off < stop:
            try:
                data = os.pread(fd, min(step(), stop - off), off)
            except OSError as e:
                raise unreadable(content.path, e) from None
            if not data:
                break  # shorter than at open: the hash will not match
            if h is not None:
                h.update(data)
            lo, hi = max(start, off), min(end, off + len(data))
            if lo < hi:
                if held is not None:
                    yield held
                held = data if hi - lo == len(data) else data[lo - off : hi - off]
            off += len(data)
            progress(off)
        if h is not None:
            if h.hexdigest() != sha:
                identity = (st.st_dev, st.st_ino)
                v.store.quarantine(sha, identity)  # so that the next upload of it heals
                raise CorruptObject(sha, identity=identity)
            integrity.vouch(v.db, sha, st)
        if held is not None:
            yield held
    finally:
        os.close(fd)


def _log_download(v: Vault, user: User, entry: FileEntry) -> None:
    """The audit event of a read; a full disk drops it rather than refuse the download."""
    write_unless_full(
        v.db,
        lambda db: events.record(
            db, user.id, "download", file_id=entry.id, file_name=entry.name, owner_id=entry.owner_id
        ),
    )


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
    with PartFile(dest_dir) as part:
        entry = download_into(v, user, ref, part.fd, part.label, version, progress)
        return part.keep(entry.name)


class PartFile:
    """The hidden temp file a download fills in its destination folder, then names.

    Made, made durable and named by whoever may write into the folder: the person's own
    process, also in daemon mode, where the daemon only fills the open descriptor
    (`download_into`). Closing it without `keep` removes it.
    """

    def __init__(self, dest_dir: str | os.PathLike[str]) -> None:
        self.folder = Path(dest_dir)
        self.label = printable(self.folder)
        """The folder as messages show it."""
        if not self.folder.is_dir():
            what = "is not a folder" if self.folder.exists() else "does not exist"
            raise DestinationError(f"{self.label} {what}; create it or choose another folder")
        self.path = self.folder / f".{secrets.token_hex(6)}.vault-part"
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise DestinationError(f"Cannot write into {self.label}: {e.strerror}") from None

    def keep(self, name: str) -> Path:
        """Make the checked bytes durable and give them the first free name (rule 9)."""
        try:
            os.fchmod(self.fd, 0o666 & ~_umask())
            os.fsync(self.fd)
        except OSError as e:
            raise DestinationError(f"Cannot write into {self.label}: {e.strerror}") from None
        return _link_free_name(self.path, self.folder, name)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> PartFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def download_into(
    v: Vault,
    user: User,
    ref: str | int,
    fd: int,
    where: str,
    version: int | None = None,
    progress: Progress = no_progress,
) -> FileEntry:
    """Copy a version the user may see into `fd` (an empty regular file), checking its hash.

    `where` names the destination in messages. The object is hashed as it is read (never
    the destination, which may belong to someone else: see `store.copy_hashing`); a corrupt
    one is moved aside and CorruptObject raised, so wrong bytes are never handed out.
    """
    try:
        # Found and copied under one pin: a delete that commits first makes this
        # NoSuchFile; one that commits later cannot remove the object until we are done.
        with v.store.pin():
            entry = resolve(v, user, ref)
            ver = version_of(v, user, entry, version)
            sha = ver.sha256
            hashed = v.store.copy_out(
                sha, fd, progress, trusted=lambda st: integrity.vouched(v.db, sha, st)
            )
            if hashed is not None:
                integrity.vouch(v.db, sha, hashed)
    except CorruptObject as e:
        if not e.missing:  # moved aside, so that the next upload of it heals the vault
            v.store.quarantine(e.sha256, e.identity)
        raise
    except OSError as e:
        raise DestinationError(f"Cannot write into {where}: {e.strerror}") from None
    _log_download(v, user, entry)
    return entry


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
