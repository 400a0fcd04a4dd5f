"""The content-addressed object store: every distinct content is one read-only file.

Terms, layout and rules are in docs/ARCHITECTURE.md ("Store"). In short: an object is named by
the SHA-256 of its bytes and lives at `objects/<first two hex digits>/<all 64 hex digits>`. It is
written to `tmp/` first, fsynced, then renamed into place, so a visible object is always
complete. Only `gc` deletes objects, under an exclusive lock that publishers share.

Memory stays flat whatever the size: bytes move by `copy_file_range` (kernel to kernel) or
through one fixed buffer, and are hashed through fixed-size windows.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import mmap
import os
import queue
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from vault.core import clock
from vault.core.atomic import fsync_dir
from vault.core.errors import (
    CorruptObject,
    SourceError,
    StorageFull,
    TooLarge,
    UnreadableObject,
    VaultUnavailable,
)
from vault.core.locations import VaultPaths

Progress = Callable[[int], None]
"""Called with the bytes done so far; it may raise `Cancelled` to stop the transfer."""

WINDOW = 16 << 20
"""Bytes hashed or copied per step: big enough for speed, small enough for a flat RSS."""

BUFFER = 1 << 20
"""The buffer for sources that cannot be copied in the kernel (pipes, sockets)."""

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


OnError = Callable[[Path, OSError], None]
"""Told about a path in the store this process may not read; the caller reports it."""


def no_progress(done: int) -> None:
    return None


def unreadable(path: Path, e: OSError) -> UnreadableObject:
    return UnreadableObject(str(path), e.strerror or str(e))


def _storage_error(e: OSError) -> Exception:
    return StorageFull() if e.errno in _FULL else e


_sync_file_range: Callable[[int, int, int, int], int] | None = None


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing this range to disk now, without waiting (Linux).

    Writeback then overlaps the copy, and the final fsync has little left to wait for: on
    these machines copy + fsync of 1 GiB went from 0.53 s to 0.35 s. A no-op elsewhere.
    """
    global _sync_file_range
    if _sync_file_range is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            fn = libc.sync_file_range
            fn.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
            _sync_file_range = fn
        except (OSError, AttributeError):
            _sync_file_range = lambda *args: 0  # noqa: E731 (not Linux: nothing to start)
    _sync_file_range(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE


def hash_fd(fd: int, size: int, progress: Progress = no_progress) -> str:
    """SHA-256 of the first `size` bytes of `fd` (SourceError if it holds fewer).

    Read through a buffer rather than mapped: a file that someone truncates while it is being
    hashed must give an error, not a SIGBUS.
    """
    sha, _ = copy_loop_hashing(fd, None, size, progress)
    return sha


def copy_hashing(
    src_fd: int,
    dst_fd: int,
    size: int,
    progress: Progress = no_progress,
    *,
    hash_source: bool = False,
) -> str:
    """Copy `size` bytes from `src_fd` to `dst_fd` in the kernel; return the SHA-256 of the copy.

    The hash is taken from the *destination* as each window lands, in a second thread, so it
    describes exactly the bytes stored even if the source changes meanwhile, and hashing
    overlaps copying. `dst_fd` must be opened read-write.

    With `hash_source`, the windows are hashed from the source instead (read, not mapped):
    for copies out of the store, whose objects do not change, into a file that belongs to
    someone else (the daemon's client), which must never be mapped: its owner could truncate
    it under the mapping, and a SIGBUS would kill the daemon for everyone.
    """
    if size == 0:
        return hashlib.sha256().hexdigest()
    h = hashlib.sha256()
    windows: queue.Queue[tuple[int, int] | None] = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def hasher() -> None:
        try:
            while (item := windows.get()) is not None:
                off, n = item
                if hash_source:
                    _hash_range(src_fd, off, n, h)
                    continue
                with mmap.mmap(dst_fd, n, offset=off, access=mmap.ACCESS_READ) as m:
                    h.update(m)
        except BaseException as e:  # handed to the copying thread, which re-raises it
            failure.append(e)
            while windows.get() is not None:
                pass

    thread = threading.Thread(target=hasher, name="vault-hash", daemon=True)
    thread.start()
    try:
        off = 0
        while off < size:
            n = min(WINDOW, size - off)
            done = 0
            while done < n:
                k = os.copy_file_range(src_fd, dst_fd, n - done, off + done, off + done)
                if k == 0:
                    raise SourceError("The file got shorter while it was being read; try again")
                done += k
            start_writeback(dst_fd, off, n)
            windows.put((off, n))
            off += n
            progress(off)
    finally:
        windows.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return h.hexdigest()


def _hash_range(fd: int, off: int, n: int, h: hashlib._Hash) -> None:
    end = off + n
    while off < end:
        data = os.pread(fd, min(BUFFER, end - off), off)
        if not data:
            raise SourceError("The file got shorter while it was being read; try again")
        h.update(data)
        off += len(data)


def copy_loop_hashing(
    src_fd: int, dst_fd: int | None, size: int | None, progress: Progress = no_progress
) -> tuple[str, int]:
    """Read into one buffer, hash it, write it (unless `dst_fd` is None): (sha256, size).

    The portable path, for pipes and where the kernel copy is not offered. With `size`, reads
    from the start (positioned reads) and insists on that many bytes.
    """
    h = hashlib.sha256()
    total = 0
    with mmap.mmap(-1, BUFFER) as buf, memoryview(buf) as view:
        while size is None or total < size:
            want = BUFFER if size is None else min(BUFFER, size - total)
            with view[:want] as target:
                if size is None:
                    k = os.readv(src_fd, [target])
                else:
                    k = os.preadv(src_fd, [target], total)
            if k == 0:
                if size is not None:
                    raise SourceError("The file got shorter while it was being read; try again")
                break
            with view[:k] as chunk:
                h.update(chunk)
                if dst_fd is not None:
                    _write_all(dst_fd, chunk)
            total += k
            progress(total)
    return h.hexdigest(), total


def _write_all(fd: int, data: bytes | memoryview) -> None:
    # Views are released on the way out, even on error: a view left in a traceback would
    # stop the caller from closing its mmap buffer and hide the real error (ENOSPC).
    with memoryview(data) as view:
        done = 0
        while done < len(view):
            with view[done:] as rest:
                done += os.write(fd, rest)


def copy_plain(src_fd: int, dst_fd: int, size: int, progress: Progress = no_progress) -> None:
    """Copy `size` bytes in the kernel without hashing (content already known intact)."""
    off = 0
    try:
        while off < size:
            n = min(WINDOW, size - off)
            k = os.copy_file_range(src_fd, dst_fd, n, off, off)
            if k == 0:
                raise SourceError("The stored file got shorter while it was being read")
            start_writeback(dst_fd, off, k)
            off += k
            progress(off)
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP) or off:
            raise
        copy_file(src_fd, dst_fd, size, progress)


def copy_file(
    src_fd: int,
    dst_fd: int,
    size: int,
    progress: Progress = no_progress,
    *,
    hash_source: bool = False,
) -> str:
    """`copy_hashing`, falling back to the buffer loop where the kernel copy is not offered."""
    try:
        return copy_hashing(src_fd, dst_fd, size, progress, hash_source=hash_source)
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
    os.lseek(dst_fd, 0, os.SEEK_SET)
    os.ftruncate(dst_fd, 0)
    sha, _ = copy_loop_hashing(src_fd, dst_fd, size, progress)
    return sha


@dataclass
class ObjectWriter:
    """A new object being written to `tmp/`: stream bytes in, then `publish` it.

    The temp file is flock'ed for its whole life, which is how `gc` tells a live upload
    from one whose process died.
    """

    store: ObjectStore
    path: Path
    fd: int
    max_size: int | None = None
    size: int = 0
    sha256: str | None = None
    published: os.stat_result | None = None
    """The object file's stat once published (its bytes were hashed as they were written)."""
    _hash: hashlib._Hash | None = None

    def write(self, data: bytes | memoryview) -> None:
        """Append bytes (streaming sources: HTTP bodies, pipes)."""
        if self._hash is None:
            self._hash = hashlib.sha256()
        n = len(data)
        if self.max_size is not None and self.size + n > self.max_size:
            raise TooLarge(self.max_size)
        self._hash.update(data)
        try:
            _write_all(self.fd, data)
        except OSError as e:
            raise _storage_error(e) from e
        self.size += n

    def copy_from(self, src_fd: int, size: int, progress: Progress = no_progress) -> None:
        """Fill the object from a regular file, in the kernel where possible."""
        if self.max_size is not None and size > self.max_size:
            raise TooLarge(self.max_size)
        try:
            self.sha256 = copy_file(src_fd, self.fd, size, progress)
        except OSError as e:
            raise _storage_error(e) from e
        self.size = size

    def copy_stream(self, src_fd: int, progress: Progress = no_progress) -> None:
        """Fill the object from a pipe or other stream of unknown length."""
        try:
            self.sha256, self.size = copy_loop_hashing(src_fd, self.fd, None, progress)
        except OSError as e:
            raise _storage_error(e) from e
        if self.max_size is not None and self.size > self.max_size:
            raise TooLarge(self.max_size)

    def finish(self) -> str:
        """Flush the bytes to disk; return the content's SHA-256."""
        if self.sha256 is None:
            self.sha256 = (self._hash or hashlib.sha256()).hexdigest()
        try:
            os.fsync(self.fd)
        except OSError as e:
            raise _storage_error(e) from e
        return self.sha256

    def publish(self) -> str:
        """Move the finished object into place.

        The caller must hold `store.pin()` from before this call until the database row that
        references the object is committed, so that `gc` cannot remove it in between.
        The new bytes replace an object of the same name if one is there: they were hashed as
        they were written, so they are known good, while the old copy may have rotted since.
        Either way the name keeps meaning the same content, so readers are unaffected.
        """
        sha = self.sha256 or self.finish()
        final = self.store.paths.object_path(sha)
        try:
            final.parent.mkdir(mode=0o700, exist_ok=True)
            os.fchmod(self.fd, 0o400)
            os.rename(self.path, final)
            fsync_dir(final.parent)
        except OSError as e:
            if e.errno in _FULL:
                raise StorageFull() from e
            raise VaultUnavailable(
                f"Cannot store content in {final.parent}: {e.strerror}; give the OS user "
                "running vault write access to the vault folder (chown or chmod it), then retry"
            ) from e
        self.published = os.fstat(self.fd)  # the fingerprint integrity.vouch records
        os.close(self.fd)
        self.fd = -1
        return sha

    def discard(self) -> None:
        """Drop the temp file (idempotent); a cancelled or failed upload leaves nothing."""
        if self.fd >= 0:
            try:
                self.path.unlink(missing_ok=True)
            finally:
                os.close(self.fd)
                self.fd = -1

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


class ObjectStore:
    """The `objects/`, `tmp/` and `quarantine/` folders of one vault."""

    def __init__(self, paths: VaultPaths) -> None:
        self.paths = paths

    # -- locking -------------------------------------------------------------------------------

    @contextmanager
    def _lock(self, kind: int) -> Iterator[None]:
        fd = os.open(self.paths.gc_lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, kind)
            yield
        finally:
            os.close(fd)

    def pin(self) -> AbstractContextManager[None]:
        """Shared lock: objects seen or published under it survive until it is released."""
        return self._lock(fcntl.LOCK_SH)

    def exclusive(self) -> AbstractContextManager[None]:
        """Exclusive lock: no publisher is between 'object in place' and 'row committed'."""
        return self._lock(fcntl.LOCK_EX)

    # -- writing -------------------------------------------------------------------------------

    def writer(self, max_size: int | None = None) -> ObjectWriter:
        name = f"{secrets.token_hex(8)}.tmp"
        path = self.paths.tmp / name
        # Created and locked under the pin: gc decides which temp files are stale under the
        # exclusive lock, so it never sees this one between creation and flock.
        with self.pin():
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            except OSError as e:
                raise _storage_error(e) from e
            fcntl.flock(fd, fcntl.LOCK_EX)
        return ObjectWriter(self, path, fd, max_size)

    # -- reading -------------------------------------------------------------------------------

    def path(self, sha256: str) -> Path:
        return self.paths.object_path(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def has(self, sha256: str, size: int) -> bool:
        """Whether a usable copy seems to be there: present, with the right size.

        Cheap enough for the dedup path; a flipped byte is found by `verify` or by the next
        download (which moves the object aside, so the following upload writes it afresh).
        """
        try:
            return self.path(sha256).stat().st_size == size
        except OSError:  # gone, or in a folder this process may not search: write it afresh
            return False

    def open(self, sha256: str) -> int:
        """A read-only descriptor of an object; CorruptObject(missing=True) if it is gone,
        UnreadableObject if this process may not read it (or its folder)."""
        path = self.path(sha256)
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise CorruptObject(sha256, missing=True) from None
        except OSError as e:
            raise unreadable(path, e) from None

    def copy_out(
        self,
        sha256: str,
        dst_fd: int,
        progress: Progress = no_progress,
        trusted: Callable[[os.stat_result], bool] | None = None,
    ) -> os.stat_result | None:
        """Copy an object into `dst_fd` (opened for writing), checking its hash on the way.

        Raises CorruptObject if the bytes do not match their name: wrong bytes are never
        handed out as if they were right. The caller moves the object aside (`quarantine`)
        once it no longer holds the pin. If `trusted(stat)` says the object file is one
        already known intact (see `integrity`), it is copied without hashing. Returns the
        object's stat if it was hashed and found intact, None if it was trusted.
        """
        src = self.open(sha256)
        try:
            st = os.fstat(src)
            if trusted is not None and trusted(st):
                copy_plain(src, dst_fd, st.st_size, progress)
                return None
            got = copy_file(src, dst_fd, st.st_size, progress, hash_source=True)
        finally:
            os.close(src)
        if got != sha256:
            raise CorruptObject(sha256, identity=(st.st_dev, st.st_ino))
        return st

    # -- upkeep --------------------------------------------------------------------------------

    def iter_objects(self, on_error: OnError | None = None) -> Iterator[tuple[str, Path]]:
        """Every object file on disk as (name, path), in no particular order.

        A folder this process may not list goes to `on_error` and is skipped (without it:
        UnreadableObject), so one folder another OS user wrote does not stop the rest.
        """
        for fan in self._listed(self.paths.objects, on_error, dirs=True):
            for path in self._listed(fan, on_error, dirs=False):
                yield path.name, path

    @staticmethod
    def _listed(folder: Path, on_error: OnError | None, dirs: bool) -> list[Path]:
        """The sub-folders (`dirs`) or files of `folder`; [] if it is gone or unreadable."""
        try:
            with os.scandir(folder) as entries:
                return [
                    Path(e.path)
                    for e in entries
                    if (e.is_dir if dirs else e.is_file)(follow_symlinks=False)
                ]
        except FileNotFoundError:
            return []
        except OSError as e:
            if on_error is None:
                raise unreadable(folder, e) from None
            on_error(folder, e)
            return []

    def holds_objects(self) -> bool:
        """Whether any object file is stored; a folder it cannot read counts as holding some."""
        blocked: list[Path] = []
        for _ in self.iter_objects(on_error=lambda path, e: blocked.append(path)):
            return True
        return bool(blocked)  # cannot look: assume content is there rather than risk it

    def check(self, sha256: str, path: Path) -> tuple[bool, tuple[int, int]]:
        """Whether the file at `path` still hashes to its name, and which file that was."""
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            return hash_fd(fd, st.st_size) == sha256, (st.st_dev, st.st_ino)
        finally:
            os.close(fd)

    def quarantine(self, sha256: str, identity: tuple[int, int] | None = None) -> Path | None:
        """Move a corrupt object aside (never delete or blank it) so an upload can heal it.

        `identity` is the (device, inode) that was found corrupt: if an upload has put a good
        copy in its place since, that copy stays. Returns where the object went, or None.
        """
        src = self.path(sha256)
        self.paths.quarantine.mkdir(mode=0o700, exist_ok=True)
        dst = self.paths.quarantine / f"{sha256}.{clock.iso().replace(':', '')}"
        with self.exclusive():
            try:
                st = os.stat(src)
            except FileNotFoundError:
                return None
            if identity is not None and (st.st_dev, st.st_ino) != identity:
                return None
            os.rename(src, dst)
            fsync_dir(src.parent)
        return dst

    def stale_temps(self, on_error: OnError) -> list[Path]:
        """Temp files whose writer is gone (their flock is free).

        Call under `exclusive()`. One this process may not open cannot be told from a live
        upload: it goes to `on_error` and is kept.
        """
        stale = []
        try:
            with os.scandir(self.paths.tmp) as listing:
                entries = list(listing)
        except OSError as e:
            on_error(self.paths.tmp, e)
            return []
        for entry in entries:
            try:
                fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            except OSError as e:
                on_error(Path(entry.path), e)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            finally:
                os.close(fd)
            stale.append(Path(entry.path))
        return stale
