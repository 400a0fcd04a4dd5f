"""Password rules and hashing (argon2id), behind one small wrapper.

Only argon2id hashes ever reach the database. Tests swap in cheap parameters through
`Hasher(cheap=True)`; one test keeps the real ones.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from vault.core.errors import InvalidPassword

MIN_PASSWORD = 6
MAX_PASSWORD = 1024


def check_password_rule(password: str) -> None:
    """Raise InvalidPassword unless 6-1024 characters (the documented `han123` must work)."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidPassword(f"A password is {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
    if "\x00" in password:
        raise InvalidPassword("A password cannot contain a NUL character")
    if not _encodable(password):
        raise InvalidPassword("A password must be valid text (it holds a lone surrogate)")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Hasher:
    """argon2id with argon2-cffi's recommended parameters (RFC 9106 low-memory profile)."""

    def __init__(self, cheap: bool = False) -> None:
        if cheap:
            self._ph = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        else:
            self._ph = argon2.PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True if `password` matches `stored`; with no stored hash, spend the same time."""
        if not isinstance(password, str) or not _encodable(password):
            password, stored = "", None  # cannot match; still spend the time
        if stored is not None and not stored.startswith("$argon2"):
            stored = None  # a sentinel such as `peers.PEER_HASH`: never matches, same time
        if stored is None and self._dummy is None:
            # Verifying against this when a user does not exist keeps timing alike for both
            # cases. Made on first need: hashing costs 64 MiB and ~0.1 s, too much for start-up.
            self._dummy = self._ph.hash("not a real password")
        try:
            return self._ph.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._ph.check_needs_rehash(stored)
