"""Opening the SQLite database the way every process must: WAL, busy timeout, foreign keys.

Several processes (TUI, CLI, HTTP server) share one vault. WAL lets readers run beside a
writer; every write transaction starts with BEGIN IMMEDIATE so that it waits for the write
lock up front (busy timeout) instead of failing with "database is locked" on upgrade.

A full disk is recognised here and only here (`out_of_space`): SQLite says so in a few
ways, and every one becomes the core's StorageFull, never a raw SQLite error.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from vault.core import reserve
from vault.core.errors import StorageFull
from vault.core.migrations import migrations

BUSY_TIMEOUT_S = 60.0

_FULL = {sqlite3.SQLITE_FULL}
"""What SQLite answers when appending to the WAL or the database file finds the disk full."""

_CANNOT_GROW = {
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_IOERR_WRITE,
    sqlite3.SQLITE_IOERR_FSYNC,
    sqlite3.SQLITE_IOERR_TRUNCATE,
    sqlite3.SQLITE_IOERR_SHMSIZE,
}
"""I/O errors SQLite reports when a file cannot grow (the shared-memory index, a size hint).
They also stand for real I/O errors, so they mean "full" only when the disk is nearly full."""

_NEARLY_FULL = 1 << 20
"""Free bytes below which a failed write is put down to space rather than to the disk."""


def out_of_space(e: sqlite3.Error, folder: Path) -> bool:
    """Whether SQLite failed because the disk holding `folder` has no room left."""
    code = getattr(e, "sqlite_errorcode", None)
    if code in _FULL:
        return True
    if code not in _CANNOT_GROW:
        return False
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < _NEARLY_FULL


def connect(path: Path) -> Database:
    """A sqlite-utils Database on its own connection, for use on one thread only.

    Opening reads the database, and a reader needs SQLite's shared-memory index, which is a
    file too: on a full disk a little of the vault's reserve is given back for it.
    """
    return reserve.spend(path.parent, lambda: _connect(path), reserve.READ_ROOM)


def _connect(path: Path) -> Database:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as e:
        conn.close()
        if out_of_space(e, path.parent):
            raise StorageFull() from e
        raise
    return Database(conn, execute_plugins=False)


def migrate(db: Database) -> None:
    """Apply pending migrations, serialised across processes by the write lock."""
    if not migrations.pending(db):
        return
    with write(db):
        migrations.apply(db)


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock first (BEGIN IMMEDIATE); nests as savepoint.

    On a full disk it rolls back and raises StorageFull (the outermost one: a savepoint's
    failure reaches it).
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                db.conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as e:
        if out_of_space(e, _folder(db)):
            raise StorageFull() from e
        raise


def write_unless_full(db: Database, change: Callable[[Database], object]) -> None:
    """`change(db)` in a write transaction that a full disk drops (rolled back, nothing raised).

    For bookkeeping a read does on the side (a session's last use, a download's audit event,
    the cache of intact objects): a full disk must not turn a read into a failure.
    """
    try:
        with write(db):
            change(db)
    except StorageFull:
        pass


def _folder(db: Database) -> Path:
    """The folder of the database file (`main`) this connection has open."""
    row = db.conn.execute("PRAGMA database_list").fetchone()
    return Path(row[2]).parent
