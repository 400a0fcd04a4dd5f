"""Account upkeep: what an admin does to accounts, and what a user sees of their own.

Who is an admin is the front end's business (the daemon: root, its own account, or a member
of `--admin-group`; direct mode: whoever can open the vault folder). These functions trust
their caller and record each act in the audit log. A disabled account is refused wherever
anyone gets in (`users.refuse_disabled`: password login, session tokens, peer login), and
its sessions are ended at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from vault.core import clock, events, quotas, users
from vault.core.db import write
from vault.core.errors import NotLoggedIn, PasswordNeeded
from vault.core.models import User
from vault.core.passwords import check_password_rule
from vault.core.peers import PEER_HASH
from vault.core.throttle import Client
from vault.core.vault import Vault


@dataclass(frozen=True)
class Account:
    """One line of `vault admin users`."""

    id: int
    username: str
    files: int
    bytes: int
    """Charged to the quota: every version of every file they own (quotas.usage)."""
    last_seen: str | None
    """The latest of their sessions' use and their acts in the audit log (UTC, ISO 8601)."""
    disabled: bool
    quota: int | None


@dataclass(frozen=True)
class Usage:
    """`vault usage`: a user's own figures."""

    files: int
    bytes: int
    quota: int | None


_ACCOUNTS = """
SELECT u.id, u.username,
       (SELECT count(*) FROM files f WHERE f.owner_id = u.id),
       (SELECT coalesce(sum(v.size), 0) FROM versions v JOIN files f ON f.id = v.file_id
        WHERE f.owner_id = u.id),
       (SELECT max(s.last_seen) FROM sessions s WHERE s.user_id = u.id),
       (SELECT max(e.at) FROM events e WHERE e.actor_id = u.id),
       u.disabled_at IS NOT NULL, u.quota
FROM users u ORDER BY u.username_key
"""


def accounts(v: Vault) -> list[Account]:
    """Every account, by name."""
    found = []
    for uid, name, nfiles, size, session_seen, acted, disabled, quota in v.db.execute(_ACCOUNTS):
        seen = [t for t in (clock.iso(session_seen) if session_seen else None, acted) if t]
        found.append(
            Account(uid, name, nfiles, size, max(seen, default=None), bool(disabled), quota)
        )
    return found


def usage(v: Vault, user: User) -> Usage:
    row = v.db.execute("SELECT count(*) FROM files WHERE owner_id = ?", [user.id]).fetchone()
    return Usage(row[0], quotas.usage(v.db, user.id), quotas.quota(v.db, user.id))


def _set(
    v: Vault, detail: str, ref: str | int, action: str, sql: str, params: list[object]
) -> User:
    """One change to one account, logged with the account as target and `detail` (who, what)."""
    user = users.find(v, ref)
    with write(v.db) as db:
        db.execute(sql, [*params, user.id])
        events.record(db, None, action, target_id=user.id, detail=detail)
    return user


def disable(v: Vault, ref: str | int, actor: str) -> User:
    """Refuse the account everywhere from now on, and end its sessions; `actor` names the admin."""
    user = _set(v, actor, ref, "disable", "UPDATE users SET disabled_at = ? WHERE id = ?",
                [clock.iso()])  # fmt: skip
    _end_sessions(v, user)
    return user


def enable(v: Vault, ref: str | int, actor: str) -> User:
    return _set(v, actor, ref, "enable", "UPDATE users SET disabled_at = NULL WHERE id = ?", [])


def set_quota(v: Vault, ref: str | int, quota: int | None, actor: str) -> User:
    """Bytes the user may own (None: no limit). Files already over it stay; uploads stop."""
    detail = f"{actor}, {'none' if quota is None else f'{quota} bytes'}"
    return _set(v, detail, ref, "quota", "UPDATE users SET quota = ? WHERE id = ?", [quota])


def reset_password(v: Vault, ref: str | int, actor: str) -> tuple[User, str]:
    """Give the account a new random password (returned once) and end its sessions."""
    password = secrets.token_urlsafe(12)
    hashed = v.hasher.hash(password)
    user = _set(v, actor, ref, "reset-password", "UPDATE users SET password_hash = ? WHERE id = ?",
                [hashed])  # fmt: skip
    _end_sessions(v, user)
    return user, password


def set_password(
    v: Vault, user: User, new: str, current: str | None, client: Client | str = "local"
) -> None:
    """`vault passwd`: a peer account without a password gets one (for HTTP); any other
    account must give its current one (checked and throttled like a login), so a session
    left open is not enough to take the account over.
    """
    check_password_rule(new)
    stored = v.db.execute("SELECT password_hash FROM users WHERE id = ?", [user.id]).fetchone()
    if stored is None:
        raise NotLoggedIn()
    if stored[0] != PEER_HASH:
        if current is None:  # asked for, not counted as a failed login
            raise PasswordNeeded()
        users.authenticate(v, user.username, current, client)
    hashed = v.hasher.hash(new)
    with write(v.db) as db:
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [hashed, user.id])
        events.record(db, user.id, "passwd")


def _end_sessions(v: Vault, user: User) -> None:
    with write(v.db) as db:
        db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            [clock.now(), user.id],
        )
