"""Constants and small helpers that tests import (conftest.py holds only fixtures)."""

from __future__ import annotations

import time
from pathlib import Path

from pytest import MonkeyPatch

from vault.core import Vault, clock, throttle, uploads, users
from vault.core.errors import LoginFailed, TooManyAttempts
from vault.core.models import FileEntry, User

ALICE_PW = "alice-password"
BOB_PW = "bob-password"


def seed_guesses(v: Vault, last_ago: float, name: str = "alice") -> int:
    """Guess `name`'s password in-process as fast as the throttle allows for an hour, as an
    untrusted web client, with the core's clock moved so that the latest guess was `last_ago`
    seconds ago; returns how many guesses were checked. Real processes (the server, the CLI)
    then meet the counts as if that hour had just passed."""
    span = 2730  # 30+60+120+240+480+900+900 s: the waits of a greedy guesser within an hour
    start = time.time() - last_ago - span
    t = [start]
    checked = 0
    with MonkeyPatch.context() as m:
        m.setattr(clock, "now", lambda: t[0])
        while t[0] <= start + span and checked < 100:
            client = throttle.http_client("::1", None)
            try:
                users.authenticate(v, name, "wrong-password", client=client)
            except LoginFailed:
                checked += 1
            except TooManyAttempts as e:
                t[0] += e.retry_after
    return checked


def upload_bytes(v: Vault, user: User, tmp_path: Path, name: str, data: bytes) -> FileEntry:
    """Upload `data` as `name` through a scratch file in `tmp_path`."""
    src = tmp_path / "upload-source.bin"
    src.write_bytes(data)
    return uploads.upload_path(v, user, src, name=name)
