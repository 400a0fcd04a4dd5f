"""The frozen values the core hands to front ends (never raw database rows)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class User:
    id: int
    username: str
    """As registered (case preserved); uniqueness ignores case."""


@dataclass(frozen=True)
class FileEntry:
    """A file as one user sees it: its latest version, and who else sees it."""

    id: int
    name: str
    size: int
    """Bytes in the latest version."""
    sha256: str
    """SHA-256 of the latest version: also the name of its object in the store."""
    uploaded_at: str
    """When the latest version was uploaded (UTC, `2026-11-25T03:40:00Z`)."""
    owner: str
    owner_id: int
    shared_with: tuple[str, ...] = field(default=())
    """Usernames the file is shared with, sorted (only filled for the owner's own files)."""
    versions: int = 1

    def is_owned_by(self, user: User) -> bool:
        """The owner-only rule (rename, delete, share, old versions): written here only."""
        return self.owner_id == user.id

    def as_dict(self, own: bool) -> dict[str, object]:
        """The JSON object shared by `vault ls --json` and HTTP `/files?details=1`."""
        d: dict[str, object] = {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_at": self.uploaded_at,
        }
        if own:
            d["shared_with"] = list(self.shared_with)
        else:
            d["owner"] = self.owner
        return d


@dataclass(frozen=True)
class Listing:
    """What `vault ls` shows: own files and files others shared with me, each sorted by name."""

    own: list[FileEntry]
    shared: list[FileEntry]


@dataclass(frozen=True)
class Version:
    number: int
    """1 for the first upload, counting up; the highest is the current content."""
    size: int
    sha256: str
    uploaded_at: str


@dataclass(frozen=True)
class Session:
    id: int
    client: str
    """What opened it: `cli`, `tui`, `http 127.0.0.1`…"""
    created_at: str
    last_seen: str
    current: bool = False
    """True for the session the caller is using."""


@dataclass(frozen=True)
class Event:
    id: int
    at: str
    actor: str | None
    action: str
    file_id: int | None
    file_name: str | None
    target: str | None
    detail: str | None

    def describe(self) -> str:
        """One readable line, as `vault log` and the TUI show it."""
        who = self.actor or "vault"
        what = self.action
        if self.file_name is not None:
            what += f" {self.file_name!r}"
            if self.file_id is not None:
                what += f" (#{self.file_id})"
        if self.target:
            what += f" {'with' if self.action in ('share', 'unshare') else 'for'} {self.target}"
        if self.detail:
            what += f": {self.detail}"
        return f"{self.at}  {who} {what}"
