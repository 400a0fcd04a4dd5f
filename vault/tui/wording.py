"""What the TUI says: counted nouns, and core errors worded with the file's name.

The core's messages name files by id (`File 3 is not yours`) and point at CLI commands, which
suits a terminal command line; on screen the person sees names, so the TUI rewords the few
errors that carry a file reference and passes every other message through.
"""

from __future__ import annotations

from vault.core.errors import NoSuchFile, NoSuchVersion, NotOwner, VaultError
from vault.core.models import FileEntry


def count(n: int, noun: str) -> str:
    """`1 file`, `2 files`, `0 files`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def error_text(error: VaultError, entry: FileEntry | None = None) -> str:
    """The one line to show for `error`, naming `entry` where the core would give its id."""
    if entry is None:
        return str(error)
    if isinstance(error, NoSuchFile):
        return f"{entry.name} is gone: deleted, or no longer shared with you"
    if isinstance(error, NotOwner):
        return f"{entry.name} belongs to {entry.owner}; only its owner may do that"
    if isinstance(error, NoSuchVersion):
        return f"{entry.name} has no such version (it may have been deleted)"
    return str(error)
