"""Quotas: how many bytes of versions a user may own.

A user is charged the logical size of every version of every file they own, whether or not
its content is stored once for several users: dedup saves the vault's disk, never one user's
quota at another's expense (and nobody learns, from their usage, what others hold). Shared
files count for their owner only.

The check runs twice: before any byte is stored (`check`, with the size when it is known,
or chunk by chunk for a stream: `Allowance`), and again in the transaction that records the
version (`check` again), which holds the write lock, so two uploads cannot both pass on the same
free space and together overshoot.
"""

from __future__ import annotations

import re

from sqlite_utils import Database

from vault.core.errors import InvalidSize, OverQuota
from vault.core.models import User

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:I?B)?", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """`10G` → 10 GiB in bytes (K, M, G, T, P are powers of 1024; `10GB`, `10GiB` alike).

    `none` means no quota (None).
    """
    if text.strip().lower() == "none":
        return None
    m = _SIZE_RE.fullmatch(text.strip())
    if m is None:
        raise InvalidSize(f"{text!r} is not a size: write e.g. 10G, 500M, 1024 or none")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def usage(db: Database, user_id: int) -> int:
    """Bytes charged to a user: the sizes of all versions of the files they own."""
    row = db.execute(
        "SELECT coalesce(sum(v.size), 0) FROM versions v JOIN files f ON f.id = v.file_id"
        " WHERE f.owner_id = ?",
        [user_id],
    ).fetchone()
    return int(row[0])


def quota(db: Database, user_id: int) -> int | None:
    row = db.execute("SELECT quota FROM users WHERE id = ?", [user_id]).fetchone()
    return row[0] if row else None


def check(db: Database, user: User, adding: int) -> None:
    """OverQuota if `adding` more bytes would take the user past their quota."""
    limit = quota(db, user.id)
    if limit is None:
        return
    used = usage(db, user.id)
    if used + adding > limit:
        raise OverQuota(used, limit, adding)


class Allowance:
    """For a stream of unknown length: OverQuota as soon as the bytes so far would not fit.

    Read once, when the stream starts; the commit re-checks under the write lock.
    """

    def __init__(self, db: Database, user: User) -> None:
        self._limit = quota(db, user.id)
        self._used = usage(db, user.id) if self._limit is not None else 0

    def check(self, size: int) -> None:
        if self._limit is not None and self._used + size > self._limit:
            raise OverQuota(self._used, self._limit, size)
