"""Accounts: registration, password checks (throttled: see throttle.py), looking users up."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

from vault.core import clock, events, throttle
from vault.core.db import write
from vault.core.errors import (
    AccountDisabled,
    AmbiguousUser,
    LoginFailed,
    NoSuchUser,
    TooManyRegistrations,
    UsernameTaken,
)
from vault.core.models import User
from vault.core.names import MAX_ID, USERNAME_RE, clean_username, parse_id, printable
from vault.core.passwords import check_password_rule
from vault.core.throttle import Client
from vault.core.vault import Vault


def register(v: Vault, username: str, password: str, client: Client | None = None) -> User:
    """Create an account; the name is unique ignoring case, the password stored as argon2id.

    `client` is where a registration over the network comes from: its address is
    rate-limited (REGISTER_FREE an hour, then growing waits) and it becomes a trusted device
    of the new account. Local front ends pass None and log in right after: whoever can run
    them on a vault can write its database anyway, so a limit would only hinder its owner.
    """
    clean_username(username)
    check_password_rule(password)
    if client is not None:
        with write(v.db) as db:  # counted before the slow hash: bursts cannot slip past
            key = f"register {client.address}"
            throttle.admit(db, [(key, throttle.REGISTER_FREE)], refuse=TooManyRegistrations)
    hashed = v.hasher.hash(password)  # slow on purpose: outside the write lock
    try:
        with write(v.db) as db:
            user = insert_account(db, username, hashed)
            if client is not None:
                throttle.trust(db, client, user.id)
    except sqlite3.IntegrityError:
        raise UsernameTaken(username) from None
    return user


def insert_account(db: Database, username: str, password_hash: str, *, peer: bool = False) -> User:
    """The one way an account row is written (in the caller's write transaction): the name
    unique ignoring case (sqlite3.IntegrityError if taken), and its "register" event."""
    cur = db.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at, peer)"
        " VALUES (?, ?, ?, ?, ?)",
        [username, username.lower(), password_hash, clock.iso(), int(peer)],
    )
    user = User(cur.lastrowid or 0, username)
    events.record(db, user.id, "register", detail="peer" if peer else None)
    return user


def authenticate(v: Vault, username: str, password: str, client: Client | str = "local") -> User:
    """Check a password; raise LoginFailed or TooManyAttempts. Re-hashes outdated hashes.

    `client` (see `throttle.local_client`, `throttle.http_client`) decides which counts the
    attempt goes to: a trusted device of the user is counted on its own, anyone else against
    the account and their address (vault/core/throttle.py). A success makes the client a
    trusted device of the user.
    """
    client = throttle.as_client(client)
    # a name that breaks the rule cannot exist; it is still counted and still costs the time
    valid = isinstance(username, str) and USERNAME_RE.fullmatch(username) is not None
    name = username.lower() if valid else printable(username)
    with write(v.db) as db:  # counted before the slow check: bursts cannot slip past
        row = None
        if valid:
            row = db.execute(
                "SELECT id, username, password_hash FROM users WHERE username_key = ?", [name]
            ).fetchone()
        own = None
        if row is not None and throttle.is_trusted(db, client.device, row[0]):
            own = f"device {row[0]} {client.device}"
            buckets = [(own, throttle.DEVICE_FREE)]
        else:
            buckets = [
                (f"account {name}", throttle.ACCOUNT_FREE),
                (f"address {client.address}", throttle.ADDRESS_FREE),
            ]
        pending = throttle.admit(db, buckets)
    stored = row[2] if row else None
    if not isinstance(password, str) or not v.hasher.verify(stored, password):
        raise LoginFailed()  # the attempt stays counted as a failure
    user = User(row[0], row[1])
    refuse_disabled(v, user)  # said only to whoever knows the password
    new_hash = v.hasher.hash(password) if v.hasher.needs_rehash(stored) else None
    with write(v.db) as db:
        # a trusted device's success forgives its own failures; the account's and the
        # address's stay (a guesser cannot reset its count by logging into its own account)
        throttle.forgive(db, pending, own)
        throttle.trust(db, client, user.id)
        if new_hash:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [new_hash, user.id])
    return user


def refuse_disabled(v: Vault, user: User) -> None:
    """AccountDisabled if an admin disabled the account (every way in asks this)."""
    row = v.db.execute("SELECT disabled_at FROM users WHERE id = ?", [user.id]).fetchone()
    if row is not None and row[0] is not None:
        raise AccountDisabled(user.username)


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
