"""Moving bytes on the client's side: the same loops whether they come from the core or a socket."""

from __future__ import annotations

from collections.abc import Iterable

from vault.core.store import Progress


def write_chunks(chunks: Iterable[bytes], out_fd: int, progress: Progress) -> None:
    """Write every chunk to `out_fd` (all of it: a pipe may take less per write)."""
    done = 0
    with open(out_fd, "wb", closefd=False) as out:
        for chunk in chunks:
            out.write(chunk)
            done += len(chunk)
            progress(done)
