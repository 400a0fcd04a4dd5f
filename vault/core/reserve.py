"""Space set aside in the vault folder, so that a full disk cannot wedge the vault.

On a full disk SQLite can neither append to its WAL nor size its shared-memory index. Then no
transaction commits, not even the delete that would free space, and a process that opens the
vault while no other has it open cannot even read. The reserve is a pre-allocated file,
`reserve`, that the vault gives back for exactly those two: a delete (which then frees space)
and the shared-memory index a reader needs. It is made when a vault is opened and grown back
(`refill`) whenever space allows. See docs/ARCHITECTURE.md, "When the disk is full".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from vault.core.errors import StorageFull

SIZE = 4 << 20
"""Room for a delete's transaction many times over (each changed page is 4 KiB of WAL)."""

READ_ROOM = 64 << 10
"""Room for a reader: SQLite's shared-memory index takes 32 KiB (per 4,096 WAL frames)."""

_SMALLEST = 4096
"""Below this `refill` stops trying: a block is the least a file system allocates."""

T = TypeVar("T")


def path(root: Path) -> Path:
    """The reserve file of the vault folder `root`."""
    return root / "reserve"


def refill(root: Path) -> None:
    """Grow the reserve back to SIZE, or as far as free space allows. Never fails.

    A vault folder that cannot be written (read-only) simply has no reserve.
    """
    try:
        fd = os.open(path(root), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return
    try:
        size = os.fstat(fd).st_size
        want = SIZE - size
        while want >= _SMALLEST:
            try:
                os.posix_fallocate(fd, size, want)
            except OSError:  # ENOSPC, a quota, a size limit: try for less
                want //= 2
                continue
            size += want
            want = SIZE - size
    except OSError:
        pass
    finally:
        os.close(fd)


def release(root: Path, amount: int = SIZE) -> bool:
    """Give back up to `amount` bytes of the reserve; False if none was left to give.

    Shrinking a file frees its blocks and needs no space itself, so this works on a full disk.
    """
    try:
        fd = os.open(path(root), os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return False
        os.ftruncate(fd, max(0, size - amount))
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def spend(root: Path, attempt: Callable[[], T], amount: int = SIZE) -> T:
    """`attempt()`; if it finds the disk full, give back `amount` of the reserve and retry once.

    Only for work that must get through on a full disk (a delete, opening the database).
    The caller `refill`s once the work has freed space or no longer holds it.
    """
    try:
        return attempt()
    except StorageFull:
        if not release(root, amount):
            raise
    return attempt()
