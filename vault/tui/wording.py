"""What the TUI says: counted nouns."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """`1 file`, `2 files`, `0 files`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
