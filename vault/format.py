"""How front ends write sizes, times and rates: one place, so the CLI and every TUI screen agree.

Presentation only; rules live in vault.core.
"""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(n: int | float) -> str:
    """`0 B`, `999 B`, `1.5 KiB`, `12 MiB`: three significant figures at most."""
    size = float(n)
    for unit in _UNITS:
        if size < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(size)} B"
            return f"{size:.1f} {unit}" if size < 100 else f"{size:.0f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_rate(bytes_per_second: float) -> str:
    return f"{human_size(bytes_per_second)}/s"


def short_time(iso: str) -> str:
    """`2026-11-25T03:40:00Z` → `2026-11-25 03:40` (UTC, as the vault stores it)."""
    return iso.replace("T", " ")[:16]
