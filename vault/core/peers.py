"""Peer accounts: the vault accounts of OS users who reach the vault through the daemon's socket.

Over the daemon's Unix socket the kernel says who is connecting (SO_PEERCRED), the way
PostgreSQL's `peer` method works, so an OS user is logged in as the vault account of the same
name without a password. Such an account is made on first use (`--accounts auto`), marked
`peer` in the users table, and stores PEER_HASH where a password hash would be. It is not an
argon2 hash, so no password ever verifies against it (`passwords.Hasher.verify` spends the
usual time and says no): nobody logs into a peer account by password, over the socket, over
HTTP or in direct mode, until its OS user sets one with `vault passwd` (for HTTP); it stays
their peer account.

Peer login only ever enters a peer account whose name is exactly the OS user's. An account of
that name made by `vault register` (not marked `peer`) is not entered: whoever registered it
knows its password, so an OS user put into it without noticing would hand them every file
they upload. For the same reason a registration over the socket may not take the name of
another OS user, and names are compared exactly, so OS users `alice` and `Alice` (one vault
name, ignoring case) never share an account.
"""

from __future__ import annotations

import grp
import os
import pwd
import sqlite3
from dataclasses import dataclass

from vault.core import users
from vault.core.db import write
from vault.core.errors import NotLoggedIn, NotPermitted
from vault.core.models import User
from vault.core.names import USERNAME_RE
from vault.core.vault import Vault

PEER_HASH = "!peer"
"""Stored in `users.password_hash` for peer accounts (like `!` in /etc/shadow: no password)."""

AUTO = "auto"
"""`--accounts auto`: an OS user's account is made on first use; anyone may register."""
ADMIN = "admin"
"""`--accounts admin`: no account is made on first use; only an admin may register."""
MODES = (AUTO, ADMIN)
ADMIN_GROUP = "vault-admin"
"""Members of this OS group are admins of the daemon's vault (`--admin-group` changes it)."""


@dataclass(frozen=True)
class Peer:
    """Who is on the other end of a daemon connection, as the kernel says (never the client)."""

    uid: int
    name: str | None
    """The OS user name of `uid`, or None if the system has no entry for it."""
    admin: bool
    """root, the account the daemon runs as (both can read the vault folder anyway), or a
    member of the admin group (`--admin-group`)."""

    @classmethod
    def from_uid(cls, uid: int, admin_group: str | None = ADMIN_GROUP) -> Peer:
        try:
            entry: pwd.struct_passwd | None = pwd.getpwuid(uid)
        except KeyError:
            entry = None
        admin = uid in (0, os.getuid()) or _in_group(entry, admin_group)
        return cls(uid, entry.pw_name if entry else None, admin)


def _in_group(entry: pwd.struct_passwd | None, group: str | None) -> bool:
    """Whether the OS user is a member of `group` (primary or supplementary), read now."""
    if entry is None or not group:
        return False
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        return False  # no such group on this machine: nobody is in it
    return gid in os.getgrouplist(entry.pw_name, entry.pw_gid)


def account(v: Vault, peer: Peer, mode: str) -> User:
    """The peer account of this OS user; with `mode` AUTO it is made if it does not exist.

    NotLoggedIn (with what to do instead) if there is none, or if the account of that name
    is not a peer account or differs in case.
    """
    name = peer.name
    if name is None or USERNAME_RE.fullmatch(name) is None:
        raise NotLoggedIn(
            f"OS user {peer.uid} cannot have a vault account of the same name; "
            "log in with `vault login USER`"
        )
    row = _by_name(v, name)
    if row is None and mode == AUTO:
        row = _create(v, name)
    if row is None:
        raise NotLoggedIn(
            f"There is no vault account for OS user {name!r} here: ask an admin to make one, "
            "or log in with `vault login USER`"
        )
    user_id, username, is_peer = row
    if username != name or not is_peer:
        raise NotLoggedIn(
            f"The vault account {username!r} has a password (it is not {name!r}'s peer "
            f"account): log in with `vault login {username}`"
        )
    user = User(user_id, username)
    users.refuse_disabled(v, user)
    return user


def _by_name(v: Vault, name: str) -> tuple[int, str, int] | None:
    return v.db.execute(
        "SELECT id, username, peer FROM users WHERE username_key = ?", [name.lower()]
    ).fetchone()


def _create(v: Vault, name: str) -> tuple[int, str, int] | None:
    try:
        with write(v.db) as db:
            users.insert_account(db, name, PEER_HASH, peer=True)
    except sqlite3.IntegrityError:
        pass  # made meanwhile by another connection of the same OS user (or taken: see caller)
    return _by_name(v, name)


def check_register(peer: Peer, username: str, mode: str) -> None:
    """May this peer register `username` with a password over the socket? NotPermitted if not."""
    if mode == ADMIN and not peer.admin:
        raise NotPermitted("Only an admin makes accounts on this vault; ask one")
    owner = _os_owner(username)
    if owner is not None and owner != peer.uid and not peer.admin:
        raise NotPermitted(
            f"{username!r} is the name of another OS user here; register another name"
        )


def check_register_unidentified(username: str, mode: str) -> None:
    """May someone the kernel does not identify (HTTP beside the daemon) register `username`?

    Only names no OS user has: an OS user's name is theirs, made by their first use of the
    socket, so nobody can take it first and lock them out of their own account.
    """
    if mode == ADMIN:
        raise NotPermitted("Only an admin makes accounts on this vault; ask one")
    if _os_owner(username) is not None:
        raise NotPermitted(
            f"{username!r} is the name of an OS user here: that user gets it by running vault "
            "on this machine (then `vault passwd` for HTTP); register another name"
        )


def _os_owner(username: str) -> int | None:
    """The uid of the OS user whose name is `username` ignoring case, if any."""
    key = username.lower()
    for entry in pwd.getpwall():
        if entry.pw_name.lower() == key:
            return entry.pw_uid
    return None


def require_admin(peer: Peer, what: str) -> None:
    """Vault-wide upkeep over the socket is for admins: its reports name every user's files."""
    if not peer.admin:
        raise NotPermitted(
            f"Only an admin may run {what} on this vault (root, its account, or a member of "
            "its admin group)"
        )
