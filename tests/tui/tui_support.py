"""Helpers the TUI tests import (tests/tui/conftest.py holds only fixtures)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey
from textual.worker import WorkerCancelled

from vault.core import Vault, uploads
from vault.core.models import User

FOREVER = frozenset({"_loader", "files-watch"})
"""Worker groups that run until something happens, not until their work is done."""
DEADLINE = 60.0
"""Seconds an awaited condition may take before the test fails (never hangs)."""


async def wait_for(pilot: Pilot[object], condition: Callable[[], object], what: str) -> None:
    """Let the app run until `condition` holds; fail saying `what` after DEADLINE seconds."""
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def settle(app: App[object], pilot: Pilot[object]) -> None:
    """Let workers finish and their results reach the screen (twice: results start workers)."""
    for _ in range(3):
        # A DirectoryTree's "_loader" worker waits for work forever, and the files screen's
        # watch for changes until one comes: never wait for them.
        pending = [w for w in app.workers if w.group not in FOREVER and not w.is_cancelled]
        try:
            if pending:  # an empty list would mean "all of them", _loader included
                await app.workers.wait_for_complete(pending)
        except WorkerCancelled:  # e.g. the palette's search, cancelled as it closed
            pass
        await pilot.pause()


def burst(app: App[object], keys: list[str]) -> None:
    """Post keys all at once, with no waiting between them: a password manager's auto-type."""
    chars = {"tab": "\t", "enter": "\r", "space": " "}
    for key in keys:
        app.post_message(events.Key(key, chars.get(key, key if len(key) == 1 else None)))


def upload_bytes(v: Vault, user: User, tmp_path: Path, name: str, data: bytes) -> int:
    """Store `data` as `name` for `user` through the core; returns the file id."""
    src = tmp_path / f"src-{name}"
    src.write_bytes(data)
    return uploads.upload_path(v, user, src, name=name).id


def footer_keys(app: App[object]) -> dict[str, str]:
    """What the footer of the current screen shows: key -> description."""
    return {k.key: k.description for k in app.screen.query(FooterKey)}


def assert_footer_fits(app: App[object]) -> None:
    """Every footer key whole, inside the terminal, none covering another."""
    keys = list(app.screen.query(FooterKey))
    width = app.size.width
    for key in keys:
        text = f"{key.key_display} {key.description}".strip()
        assert key.region.right <= width and key.region.width >= len(text), text
        assert not any(key.region.overlaps(k.region) for k in keys if k is not key), text
