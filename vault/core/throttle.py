"""Slowing down password guessing without locking owners out: counts, waits, trusted devices.

The scheme is OWASP's "device cookie" one (Slow Down Online Guessing Attacks with Device
Cookies). A client that has logged in as a user before is a *trusted device* of that user:
for a local front end the OS user running it (the kernel vouches for its uid), for HTTP a
random device token the server handed out after the login (kept hashed in the database).

- A trusted device's attempts at its user count against that device alone, so nobody else's
  guessing slows it down, and its own failures slow down only itself.
- Every other attempt counts against the *account* (whoever makes it, from wherever) and
  against the *address* it comes from (across usernames, to slow down a sweep of many names).
  The whole loopback range and ::1 are one address, and an IPv6 address counts as its /64.

Each count is a sliding window: an attempt is forgotten WINDOW seconds after it was made. The
first FREE attempts in the window cost nothing; after that, each attempt must wait FIRST_WAIT,
doubling with every further attempt up to LONGEST_WAIT, after the latest one. So whoever tries
as fast as allowed gets at most 12 wrong guesses per account per hour (27 per address across
names); tests/core/test_accounts.py checks those numbers. A refused attempt is not counted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import os
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from vault.core import clock
from vault.core.errors import TooManyAttempts
from vault.core.names import printable

WINDOW = 3600.0
"""Seconds an attempt keeps counting: counts decay over an hour."""
FIRST_WAIT = 30.0
"""The wait after the first attempt beyond the free ones; it doubles with each further one…"""
LONGEST_WAIT = 900.0
"""…up to this (15 minutes)."""
ACCOUNT_FREE = 5
"""Attempts per hour at one account from untrusted clients (all of them together)."""
DEVICE_FREE = 5
"""Attempts per hour at one account from one of its trusted devices."""
ADDRESS_FREE = 20
"""Attempts per hour from one untrusted address, across usernames."""
REGISTER_FREE = 5
"""Registrations per hour from one network address (HTTP)."""
DEVICE_EXPIRY = 90 * 24 * 3600.0
"""A device not used to log in for this long is no longer trusted."""


@dataclass(frozen=True)
class Client:
    """Where a login or registration comes from, as far as the vault can tell."""

    label: str
    """Shown in `vault sessions` and the audit log: `cli uid 1000`, `http 127.0.0.1`."""
    address: str
    """Counted across usernames: `uid 1000`, `loopback`, `10.0.0.5`, `2001:db8::/64`."""
    device: str | None
    """What may make this client a trusted device: `uid 1000`, or `token <SHA-256 of the device
    token it presented>`; None if it presented none."""
    new_token: str | None = None
    """HTTP only: the fresh device token to hand the client if its login succeeds."""

    @property
    def next_device(self) -> str | None:
        """The device this client is trusted as after a success (a new token each login)."""
        return _token_key(self.new_token) if self.new_token else self.device


def local_client(kind: str) -> Client:
    """A front end run by a local OS user (`kind`: "cli", "tui"): its device is its uid."""
    uid = f"uid {os.getuid()}"
    return Client(label=f"{kind} {uid}", address=uid, device=uid)


def http_client(host: str | None, device_token: str | None) -> Client:
    """An HTTP client at `host`, presenting `device_token` (from its device cookie) or None."""
    token = device_token if device_token and len(device_token) <= 256 else None
    return Client(
        label=f"http {printable(host or 'unknown')}",
        address=network_of(host),
        device=_token_key(token) if token else None,
        new_token=secrets.token_urlsafe(32),
    )


def as_client(client: Client | str) -> Client:
    """A plain name (in-process callers, tests) is a client that is its own address and device."""
    if isinstance(client, Client):
        return client
    name = printable(client)
    return Client(label=name, address=name, device=name)


def network_of(host: str | None) -> str:
    """The address a host counts as: all of loopback is one, an IPv6 address is its /64."""
    try:
        ip = ipaddress.ip_address(host or "")
    except ValueError:
        return printable(host or "unknown")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _token_key(token: str) -> str:
    return "token " + hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


# -- counting -----------------------------------------------------------------------------------


def wait_after(count: int, free: int) -> float:
    """Seconds to wait after the latest of `count` attempts in the window."""
    if count < free:
        return 0.0
    return min(FIRST_WAIT * 2.0 ** min(count - free, 32), LONGEST_WAIT)


def admit(
    db: Database, buckets: list[tuple[str, int]], refuse: type[TooManyAttempts] = TooManyAttempts
) -> list[int]:
    """Check each (key, free) bucket and count this attempt in all of them.

    Call inside one write transaction with whatever decided the buckets, so that parallel
    attempts are serialised and cannot slip past. Raises `refuse(seconds)` without counting
    if any bucket makes this attempt wait; returns the rowids recorded (see `forgive`).
    """
    now = clock.now()
    db.execute("DELETE FROM attempts WHERE at <= ?", [now - WINDOW])
    wait = 0.0
    for key, free in buckets:
        count, last = db.execute(
            "SELECT count(*), max(at) FROM attempts WHERE key = ?", [key]
        ).fetchone()
        if count:
            wait = max(wait, last + wait_after(count, free) - now)
    if wait > 0:
        raise refuse(max(1, math.ceil(wait)))
    return [
        db.execute("INSERT INTO attempts (key, at) VALUES (?, ?)", [key, now]).lastrowid or 0
        for key, _ in buckets
    ]


def forgive(db: Database, rowids: list[int], key: str | None = None) -> None:
    """Uncount these attempts (they succeeded) and, with `key`, that bucket's past failures."""
    db.execute(f"DELETE FROM attempts WHERE rowid IN ({','.join('?' * len(rowids))})", rowids)
    if key is not None:
        db.execute("DELETE FROM attempts WHERE key = ?", [key])


# -- trusted devices ----------------------------------------------------------------------------


def is_trusted(db: Database, device: str | None, user_id: int) -> bool:
    if device is None:
        return False
    row = db.execute(
        "SELECT 1 FROM trusted_devices WHERE device = ? AND user_id = ? AND last_used > ?",
        [device, user_id, clock.now() - DEVICE_EXPIRY],
    ).fetchone()
    return row is not None


def trust(db: Database, client: Client, user_id: int) -> None:
    """After a success: the client becomes (or stays) a trusted device of the user.

    An HTTP client gets a new token each time; whatever its old token was trusted for moves
    to the new one, so one browser stays trusted for every account that logged in from it,
    and a token copied off it stops working at the owner's next login.
    """
    device = client.next_device
    if device is None:
        return
    now = clock.now()
    if client.device is not None and client.device != device:
        db.execute(
            "UPDATE trusted_devices SET device = ? WHERE device = ?", [device, client.device]
        )
    db.execute(
        "INSERT INTO trusted_devices (device, user_id, created_at, last_used) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (device, user_id) DO UPDATE SET last_used = excluded.last_used",
        [device, user_id, now, now],
    )
    db.execute("DELETE FROM trusted_devices WHERE last_used <= ?", [now - DEVICE_EXPIRY])
