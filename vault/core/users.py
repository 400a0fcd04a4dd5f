"""Accounts: registration, password checks with throttling, and looking users up."""

from __future__ import annotations

import math
import os
import sqlite3

from vault.core import clock, events
from vault.core.db import write
from vault.core.errors import (
    AmbiguousUser,
    LoginFailed,
    NoSuchUser,
    TooManyAttempts,
    UsernameTaken,
)
from vault.core.models import User
from vault.core.names import MAX_ID, USERNAME_RE, clean_username, parse_id, printable
from vault.core.passwords import check_password_rule
from vault.core.vault import Vault

MAX_FAILURES = 5
"""Failed logins allowed per username within FAILURE_WINDOW…"""
MAX_CLIENT_FAILURES = 20
"""…and per client (across usernames: a guesser trying many names). Higher, because on one
machine many people share a client identity (every HTTP client is 127.0.0.1)…"""
FAILURE_WINDOW = 300.0
LOCKOUT = 30.0
"""…after which further attempts wait this long after the latest failure."""


def register(v: Vault, username: str, password: str) -> User:
    """Create an account; the name is unique ignoring case, the password stored as argon2id."""
    clean_username(username)
    check_password_rule(password)
    hashed = v.hasher.hash(password)  # slow on purpose: outside the write lock
    try:
        with write(v.db) as db:
            cur = db.execute(
                "INSERT INTO users (username, username_key, password_hash, created_at)"
                " VALUES (?, ?, ?, ?)",
                [username, username.lower(), hashed, clock.iso()],
            )
            user = User(cur.lastrowid or 0, username)
            events.record(db, user.id, "register")
    except sqlite3.IntegrityError:
        raise UsernameTaken(username) from None
    return user


def authenticate(v: Vault, username: str, password: str, client: str = "local") -> User:
    """Check a password; raise LoginFailed or TooManyAttempts. Re-hashes outdated hashes.

    `client` names where the attempt comes from (`local_client("cli")`, `http 127.0.0.1`):
    failures are counted per username and per client.
    """
    # a name that breaks the rule cannot exist; it is still counted and still costs the time
    valid = isinstance(username, str) and USERNAME_RE.fullmatch(username) is not None
    name = username.lower() if valid else printable(username)
    user_key = f"user:{name}"
    keys = [user_key, f"client:{printable(client)}"]
    pending = _count_attempt(v, keys)  # counted before the slow check: bursts cannot slip past
    row = None
    if valid:
        row = v.db.execute(
            "SELECT id, username, password_hash FROM users WHERE username_key = ?", [name]
        ).fetchone()
    stored = row[2] if row else None
    if not isinstance(password, str) or not v.hasher.verify(stored, password):
        raise LoginFailed()  # the attempt stays counted as a failure
    user = User(row[0], row[1])
    new_hash = v.hasher.hash(password) if v.hasher.needs_rehash(stored) else None
    with write(v.db) as db:
        # success forgives this name's failures, not the client's (a guesser cannot reset
        # its count by logging into an account of its own)
        db.execute("DELETE FROM login_failures WHERE key = ?", [user_key])
        db.execute(
            f"DELETE FROM login_failures WHERE rowid IN ({','.join('?' * len(pending))})",
            pending,
        )
        if new_hash:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [new_hash, user.id])
    return user


def _count_attempt(v: Vault, keys: list[str]) -> list[int]:
    """Check the throttle and record this attempt as a failure, in one write transaction.

    Returns the rowids recorded, which a successful login removes again.
    """
    now = clock.now()
    with write(v.db) as db:
        _check_throttle(v, keys)
        db.execute("DELETE FROM login_failures WHERE at < ?", [now - FAILURE_WINDOW])
        return [
            db.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", [key, now]).lastrowid
            or 0
            for key in keys
        ]


def _check_throttle(v: Vault, keys: list[str]) -> None:
    since = clock.now() - FAILURE_WINDOW
    worst = 0.0
    for key in keys:
        count, last = v.db.execute(
            "SELECT count(*), max(at) FROM login_failures WHERE key = ? AND at > ?", [key, since]
        ).fetchone()
        limit = MAX_FAILURES if key.startswith("user:") else MAX_CLIENT_FAILURES
        if count >= limit:
            worst = max(worst, last + LOCKOUT - clock.now())
    if worst > 0:
        raise TooManyAttempts(max(1, math.ceil(worst)))


def local_client(kind: str) -> str:
    """The client name of a front end run by a local OS user: OS users do not share a count."""
    return f"{kind} uid {os.getuid()}"


def find(v: Vault, ref: str | int) -> User:
    """A user by id (an int, or `#4`) or by username (any case).

    A string of digits may be a name or an id; when it is one user's name and another's id,
    AmbiguousUser asks for `#ID`.
    """
    if isinstance(ref, bool) or not isinstance(ref, (int, str)):
        raise NoSuchUser(str(ref))
    if isinstance(ref, int) or (ref.startswith("#") and parse_id(ref[1:]) is not None):
        user_id = ref if isinstance(ref, int) else parse_id(ref[1:])
        row = _by_id(v, user_id) if 0 <= (user_id or 0) <= MAX_ID else None
    else:
        row = _by_name(v, ref)
        as_id = parse_id(ref)
        by_id = _by_id(v, as_id) if as_id is not None else None
        if row is None:
            row = by_id
        elif by_id is not None and by_id[0] != row[0]:
            raise AmbiguousUser(ref, row[0])
    if row is None:
        raise NoSuchUser(ref)
    return User(row[0], row[1])


def find_by_name(v: Vault, name: str) -> User:
    """A user by username only (any case), even one made of digits."""
    row = _by_name(v, name) if isinstance(name, str) else None
    if row is None:
        raise NoSuchUser(name)
    return User(row[0], row[1])


def _by_id(v: Vault, user_id: int) -> tuple[int, str] | None:
    return v.db.execute("SELECT id, username FROM users WHERE id = ?", [user_id]).fetchone()


def _by_name(v: Vault, name: str) -> tuple[int, str] | None:
    if not isinstance(name, str) or USERNAME_RE.fullmatch(name) is None:
        return None  # no such name can exist (and odd text never reaches SQLite)
    return v.db.execute(
        "SELECT id, username FROM users WHERE username_key = ?", [name.lower()]
    ).fetchone()


def usernames(v: Vault, prefix: str = "", limit: int = 20) -> list[str]:
    """Usernames starting with `prefix` (any case): completion in the share dialog."""
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = v.db.execute(
        "SELECT username FROM users WHERE username_key LIKE ? ESCAPE '\\'"
        " ORDER BY username_key LIMIT ?",
        [escaped + "%", limit],
    ).fetchall()
    return [r[0] for r in rows]
