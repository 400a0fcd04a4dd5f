"""Which objects are known intact, so that a download need not hash them again.

Every download must refuse wrong bytes. Hashing a whole object on each download costs as much
as the copy itself, so the vault remembers, per object, the file it last saw intact: when the
bytes were hashed (written by an upload, checked by `verify`, or hashed by a download) it
records the object file's fingerprint: device, inode, size, mtime and ctime in nanoseconds.
A later download whose object still has that fingerprint is copied without hashing.

Any change made through the filesystem (a write, truncate, rename over it, chmod) moves the
ctime, which user space cannot set back, so such a change makes the object hashed again on
its next download. What a fingerprint cannot see is rot below the filesystem (a flipped bit
on the medium): `vault verify` re-hashes everything and is the check for that.
"""

from __future__ import annotations

import os

from sqlite_utils import Database

from vault.core import clock
from vault.core.db import write_unless_full

Fingerprint = tuple[int, int, int, int, int]


def fingerprint(st: os.stat_result) -> Fingerprint:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def vouched(db: Database, sha256: str, st: os.stat_result) -> bool:
    """Whether the object file described by `st` is the very one last seen intact."""
    row = db.execute(
        "SELECT dev, ino, size, mtime_ns, ctime_ns FROM intact WHERE sha256 = ?", [sha256]
    ).fetchone()
    return row is not None and tuple(row) == fingerprint(st)


def vouch(db: Database, sha256: str, st: os.stat_result) -> None:
    """Record that the object file described by `st` was just hashed and found intact.

    Only a cache: on a full disk nothing is recorded and the object is hashed again next time.
    """
    write_unless_full(
        db,
        lambda db: db.execute(
            "INSERT OR REPLACE INTO intact (sha256, dev, ino, size, mtime_ns, ctime_ns, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [sha256, *fingerprint(st), clock.iso()],
        ),
    )
