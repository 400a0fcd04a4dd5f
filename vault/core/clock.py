"""The one clock the core reads, so that tests and snapshots can freeze it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    """Seconds since the epoch (monkeypatched by snapshot tests)."""
    return time.time()


def iso(ts: float | None = None) -> str:
    """A UTC timestamp as `2026-11-25T03:40:00Z`: sortable as text, readable in the database."""
    t = now() if ts is None else ts
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
