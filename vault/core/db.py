"""Opening the SQLite database the way every process must: WAL, busy timeout, foreign keys.

Several processes (TUI, CLI, HTTP server) share one vault. WAL lets readers run beside a
writer; every write transaction starts with BEGIN IMMEDIATE so that it waits for the write
lock up front (busy timeout) instead of failing with "database is locked" on upgrade.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from vault.core.migrations import migrations

BUSY_TIMEOUT_S = 60.0


def connect(path: Path) -> Database:
    """A sqlite-utils Database on its own connection, for use on one thread only."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return Database(conn, execute_plugins=False)


def migrate(db: Database) -> None:
    """Apply pending migrations, serialised across processes by the write lock."""
    if not migrations.pending(db):
        return
    with write(db):
        migrations.apply(db)


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock first (BEGIN IMMEDIATE); nests as savepoint."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")
