"""Schema changes, one function each, applied in order on every open (idempotent).

Never edit a migration that has shipped: add a new one. docs/ARCHITECTURE.md shows the
resulting schema.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("vault")


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,   -- ids are never reused: shares name them
            username TEXT NOT NULL,
            username_key TEXT NOT NULL UNIQUE,      -- lower-cased: names are unique ignoring case
            password_hash TEXT NOT NULL,            -- argon2id, never a plain password
            created_at TEXT NOT NULL
        );
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL UNIQUE,        -- SHA-256 of the token; the token is not stored
            client TEXT NOT NULL,
            created_at REAL NOT NULL,
            last_seen REAL NOT NULL,
            revoked_at REAL
        );
        CREATE INDEX sessions_user ON sessions(user_id);
        CREATE TABLE files (
            id INTEGER PRIMARY KEY AUTOINCREMENT,   -- a deleted file's id never names another
            owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (owner_id, name)
        );
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            uploaded_at TEXT NOT NULL,
            UNIQUE (file_id, number)
        );
        CREATE INDEX versions_sha256 ON versions(sha256);
        CREATE INDEX versions_size ON versions(size);
        CREATE TABLE shares (
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            PRIMARY KEY (file_id, user_id)
        );
        CREATE INDEX shares_user ON shares(user_id);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor_id INTEGER,                       -- who did it (NULL: the system, e.g. verify)
            action TEXT NOT NULL,
            file_id INTEGER,                        -- no foreign key: events outlive files
            file_name TEXT,
            owner_id INTEGER,                       -- the file's owner, to show them others' reads
            target_id INTEGER,                      -- the other user (share, unshare)
            detail TEXT
        );
        CREATE INDEX events_actor ON events(actor_id);
        CREATE INDEX events_owner ON events(owner_id);
        CREATE INDEX events_target ON events(target_id);
        CREATE TABLE login_failures (
            key TEXT NOT NULL,                      -- 'user:<name>' or 'client:<address>'
            at REAL NOT NULL
        );
        CREATE INDEX login_failures_key ON login_failures(key, at);
        """
    )


@migrations()
def m002_intact(db: Database) -> None:
    """Fingerprints of objects last seen intact (see vault/core/integrity.py)."""
    db.executescript(
        """
        CREATE TABLE intact (
            sha256 TEXT PRIMARY KEY,
            dev INTEGER NOT NULL,
            ino INTEGER NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            ctime_ns INTEGER NOT NULL,
            at TEXT NOT NULL
        );
        """
    )


@migrations()
def m003_throttle(db: Database) -> None:
    """Attempts by account, device and address; trusted devices (see vault/core/throttle.py).

    The old per-name and per-client failures are dropped: they covered 5 minutes at most.
    """
    db.executescript(
        """
        DROP TABLE login_failures;
        CREATE TABLE attempts (
            key TEXT NOT NULL,          -- 'account <name>', 'address <addr>', 'register <addr>',
                                        -- 'device <user id> <device>'
            at REAL NOT NULL
        );
        CREATE INDEX attempts_key ON attempts(key, at);
        CREATE INDEX attempts_at ON attempts(at);
        CREATE TABLE trusted_devices (
            device TEXT NOT NULL,       -- 'uid <n>' (a local OS user) or 'token <SHA-256 of token>'
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            last_used REAL NOT NULL,
            PRIMARY KEY (device, user_id)
        );
        CREATE INDEX trusted_devices_last_used ON trusted_devices(last_used);
        """
    )


@migrations()
def m004_admin(db: Database) -> None:
    """Disabled accounts, quotas, and which accounts are peer accounts (see vault/core/admin.py).

    `peer` used to be read from the password hash (`!peer`); a column lets a peer account
    get a password for HTTP (`vault passwd`) and stay its OS user's peer account.
    """
    db.executescript(
        """
        ALTER TABLE users ADD COLUMN disabled_at TEXT;      -- NULL: enabled
        ALTER TABLE users ADD COLUMN quota INTEGER;         -- bytes; NULL: no quota
        ALTER TABLE users ADD COLUMN peer INTEGER NOT NULL DEFAULT 0;
        UPDATE users SET peer = 1 WHERE password_hash = '!peer';
        """
    )
