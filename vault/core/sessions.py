"""Sessions: random tokens handed to clients, only their hashes kept in the database.

A token is 256 random bits. The database stores SHA-256(token), so a copy of the database
cannot be used to log in. Sessions end on logout (server side), after IDLE_EXPIRY without use,
or ABSOLUTE_EXPIRY after login, whichever comes first. The CLI and TUI keep the token in a
per-OS-user, per-vault token file (mode 0600, written atomically): see `locations.token_file`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from vault.core import atomic, clock, events, users
from vault.core.db import write, write_unless_full
from vault.core.errors import NoSuchSession, NotLoggedIn, SessionFileError
from vault.core.locations import token_file
from vault.core.models import Session, User
from vault.core.names import printable
from vault.core.throttle import Client, as_client, local_client
from vault.core.vault import Vault

IDLE_EXPIRY = 14 * 24 * 3600.0
ABSOLUTE_EXPIRY = 30 * 24 * 3600.0
TOUCH_EVERY = 60.0
"""`last_seen` is written at most this often, to keep reads from turning into writes."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def login(v: Vault, username: str, password: str, client: Client | str = "cli") -> tuple[User, str]:
    """Check the password and open a session; returns the user and the new token."""
    client = as_client(client)
    user = users.authenticate(v, username, password, client=client)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with write(v.db) as db:
        db.execute(
            "INSERT INTO sessions (user_id, token_hash, client, created_at, last_seen)"
            " VALUES (?, ?, ?, ?, ?)",
            [user.id, _digest(token), client.label, now, now],
        )
        events.record(db, user.id, "login", detail=client.label)
    return user, token


def _live_row(v: Vault, token: str) -> tuple[int, int, str, float] | None:
    if not isinstance(token, str) or not token:
        return None
    now = clock.now()
    return v.db.execute(
        """
        SELECT s.id, u.id, u.username, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.last_seen > ? AND s.created_at > ?
        """,
        [_digest(token), now - IDLE_EXPIRY, now - ABSOLUTE_EXPIRY],
    ).fetchone()


def resolve(v: Vault, token: str | None) -> User:
    """The user a token belongs to; raises NotLoggedIn if it is unknown, expired or revoked."""
    row = _live_row(v, token or "")
    if row is None:
        raise NotLoggedIn()
    session_id, user_id, username, last_seen = row
    now = clock.now()
    if now - last_seen > TOUCH_EVERY:  # on a full disk the touch is skipped, the read goes on
        write_unless_full(
            v.db,
            lambda db: db.execute(
                "UPDATE sessions SET last_seen = ? WHERE id = ?", [now, session_id]
            ),
        )
    user = User(user_id, username)
    users.refuse_disabled(v, user)
    return user


def logout(v: Vault, token: str) -> User | None:
    """Revoke the session server side; returns whose it was (None if it was not live)."""
    row = _live_row(v, token)
    if row is None:
        return None
    with write(v.db) as db:
        db.execute("UPDATE sessions SET revoked_at = ? WHERE id = ?", [clock.now(), row[0]])
        events.record(db, row[1], "logout")
    return User(row[1], row[2])


def list_sessions(v: Vault, user: User, current_token: str | None = None) -> list[Session]:
    """The user's live sessions, newest first."""
    now = clock.now()
    current = _digest(current_token) if current_token else None
    rows = v.db.execute(
        """
        SELECT id, client, created_at, last_seen, token_hash FROM sessions
        WHERE user_id = ? AND revoked_at IS NULL AND last_seen > ? AND created_at > ?
        ORDER BY id DESC
        """,
        [user.id, now - IDLE_EXPIRY, now - ABSOLUTE_EXPIRY],
    ).fetchall()
    return [
        Session(r[0], r[1], clock.iso(r[2]), clock.iso(r[3]), current=r[4] == current) for r in rows
    ]


def revoke(v: Vault, user: User, session_id: int | None = None) -> int:
    """End one of the user's sessions (by id) or, with None, all of them. Returns how many."""
    with write(v.db) as db:
        if session_id is None:
            cur = db.execute(
                "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [clock.now(), user.id],
            )
        else:
            cur = db.execute(
                "UPDATE sessions SET revoked_at = ?"
                " WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                [clock.now(), session_id, user.id],
            )
        if cur.rowcount == 0 and session_id is not None:
            raise NoSuchSession(session_id)
        which = "all" if session_id is None else str(session_id)
        events.record(db, user.id, "revoke", detail=which)
    return cur.rowcount


# -- the token file of CLI and TUI --------------------------------------------------------------
# Kept per OS user and per place: a vault folder (direct mode) or the socket of a daemon.


def _place(where: Vault | Path) -> Path:
    return where if isinstance(where, Path) else where.root


def save_token(v: Vault | Path, token: str, username: str) -> None:
    """Remember the session for this OS user and vault (0600, atomic)."""
    body = {"vault": str(_place(v).resolve()), "username": username, "token": token}
    path = token_file(_place(v))
    try:
        atomic.write_file(path, json.dumps(body).encode(), mode=0o600)
    except OSError as e:
        raise SessionFileError(
            f"Cannot save your session in {printable(path)}: {e.strerror}; "
            "check that folder (XDG_STATE_HOME)"
        ) from None


def load_token(v: Vault | Path) -> str | None:
    try:
        body = json.loads(token_file(_place(v)).read_text())
        token = body.get("token")
        return token if isinstance(token, str) else None
    except (OSError, ValueError, AttributeError):
        return None


def clear_token(v: Vault | Path) -> None:
    try:
        token_file(_place(v)).unlink(missing_ok=True)
    except OSError as e:
        raise SessionFileError(f"Cannot remove your session file: {e.strerror}") from None


def login_local(v: Vault, username: str, password: str, kind: str) -> tuple[User, str]:
    """Log in from a local front end (`kind`: "cli", "tui") and keep the token in the file.

    The new token is saved first; only then is the session it replaces ended, so a failure
    at any step leaves the user logged in (old or new), never neither, and no orphan session.
    """
    user, token = login(v, username, password, client=local_client(kind))
    old = load_token(v)
    try:
        save_token(v, token, user.username)
    except SessionFileError:
        logout(v, token)
        raise
    if old and old != token:
        logout(v, old)
    return user, token


def logout_local(v: Vault) -> User | None:
    """End this OS user's session in this vault: in the database, then the token file."""
    token = load_token(v)
    user = logout(v, token) if token else None
    clear_token(v)
    return user


def current_user(v: Vault) -> tuple[User, str]:
    """The user whose token file this OS user holds for this vault, and the token."""
    token = load_token(v)
    if token is None:
        raise NotLoggedIn()
    return resolve(v, token), token
