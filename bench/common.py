"""What both benchmarks need: random test files."""

from __future__ import annotations

import os
from pathlib import Path


def make_file(path: Path, size: int) -> None:
    """`size` random bytes (incompressible, and new content for the vault), 16 MiB at a time."""
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 16 << 20)
            f.write(os.urandom(n))
            left -= n
