"""The operations the front ends need, named once: `VaultClient`.

Two implementations: `LocalClient` opens a personal vault in this process (today's direct
mode) and `DaemonClient` talks to `vault daemon` over its Unix socket. Both return the core's
frozen dataclasses and raise the core's typed errors with the same messages, so the CLI and
the TUI never know where the data lives (libpq and Docker's CLI work the same way).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from vault.core.admin import Account, Usage
from vault.core.models import Event, FileEntry, Listing, Session, User, Version
from vault.core.store import Progress, no_progress
from vault.core.upkeep import GcReport, VerifyReport

FileRef = str | int
"""A file as a person typed it: an id (`12`, `#12`) or a name (docs/ARCHITECTURE.md, rule 11)."""
UserRef = str | int
"""A user: a username, or an id as `#4`."""


class VaultClient(Protocol):
    """One person's view of a vault: who they are, their files, their shares, their sessions.

    The session (if any) is kept in this OS user's token file for the vault or the socket,
    as `vault login` leaves it; a client reads it on first use and keeps it while it lives.
    """

    place: Path
    """The vault folder or the daemon's socket: what messages name."""

    # -- accounts and sessions ------------------------------------------------------------------

    def register(self, username: str, password: str) -> User:
        """Make an account (the caller then logs in, as after any registration)."""
        ...

    def login(self, username: str, password: str) -> User:
        """Check the password, open a session and keep its token in the token file."""
        ...

    def logout(self) -> User | None:
        """End this OS user's session for this place; whose it was, or None if none was live."""
        ...

    def whoami(self) -> User:
        """The user this client acts as; NotLoggedIn if the session ended."""
        ...

    def sessions(self) -> list[Session]:
        """The user's live sessions, newest first; `current` marks this client's."""
        ...

    def revoke_session(self, session_id: int | None) -> int:
        """End one of the user's sessions, or all of them (None); how many ended."""
        ...

    def usernames(self, prefix: str = "", limit: int = 20) -> list[str]:
        """Usernames that start with `prefix`, ignoring case (the share dialog's completion)."""
        ...

    # -- files ----------------------------------------------------------------------------------

    def list_files(self) -> Listing:
        """Own files and files shared with the user, each sorted by name."""
        ...

    def find_file(self, ref: FileRef, *, own: bool = False) -> FileEntry:
        """A file the user can see (NoSuchFile otherwise); with `own`, NotOwner unless theirs."""
        ...

    def upload(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        progress: Progress = no_progress,
    ) -> FileEntry:
        """Upload a local file, a pipe (`/dev/stdin`) or a device, opened by this process.

        `progress` may raise Cancelled: then nothing is stored (unless the upload had
        already been stored, in which case its entry is returned).
        """
        ...

    def download(
        self,
        ref: FileRef,
        folder: str | os.PathLike[str],
        version: int | None = None,
        progress: Progress = no_progress,
    ) -> Path:
        """Write a file into `folder` under its first free name; returns the path written."""
        ...

    def download_stream(
        self,
        ref: FileRef,
        out_fd: int,
        version: int | None = None,
        progress: Progress = no_progress,
    ) -> FileEntry:
        """Write a file's bytes to an open descriptor (stdout); short, never wrong, if corrupt."""
        ...

    def rename(self, ref: FileRef, new_name: str) -> FileEntry: ...

    def delete(self, ref: FileRef) -> FileEntry: ...

    def versions(self, ref: FileRef) -> list[Version]:
        """Newest first; the owner sees all of them, a recipient only the current one."""
        ...

    # -- sharing --------------------------------------------------------------------------------

    def share(self, ref: FileRef, target: UserRef) -> tuple[FileEntry, User]: ...

    def unshare(self, ref: FileRef, target: UserRef) -> tuple[FileEntry, User]: ...

    def recipients(self, ref: FileRef) -> list[User]:
        """Whom one of the user's files is shared with, sorted by name."""
        ...

    # -- activity -------------------------------------------------------------------------------

    def recent_events(self, limit: int = 50) -> list[Event]:
        """The user's acts, acts on their files and acts aimed at them, newest first."""
        ...

    def latest_event_id(self) -> int:
        """Grows whenever anything changes in the vault: a cheap "reload?" test for the TUI."""
        ...

    def wait_for_change(self, after: int, timeout: float) -> int:
        """Wait until `latest_event_id` passes `after`, or `timeout` seconds; return it.

        The daemon answers the moment a write commits (no polling); direct mode looks
        every `local.CHANGE_POLL` seconds. Vault-wide, as `latest_event_id` is.
        """
        ...

    # -- upkeep ---------------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Re-hash every object (an admin's task through the daemon)."""
        ...

    def gc(self, dry_run: bool = False) -> GcReport:
        """Remove what nothing uses (an admin's task through the daemon)."""
        ...

    # -- accounts: admins' upkeep, one's own usage and password -------------------------------
    # Admin means: through the daemon, root, its account or a member of its admin group
    # (NotPermitted otherwise); in direct mode, whoever can open the vault folder.

    def admin_users(self) -> list[Account]:
        """Every account with its files, bytes, last use, state and quota (admins only)."""
        ...

    def admin_disable(self, user: UserRef) -> User:
        """Refuse the account everywhere and end its sessions (admins only)."""
        ...

    def admin_enable(self, user: UserRef) -> User: ...

    def admin_quota(self, user: UserRef, quota: int | None) -> User:
        """Bytes the user may own (None: no limit) (admins only)."""
        ...

    def admin_reset_password(self, user: UserRef) -> tuple[User, str]:
        """A new random password (shown once) and the account's sessions ended (admins only)."""
        ...

    def usage(self) -> Usage:
        """The user's own files, bytes charged and quota."""
        ...

    def passwd(self, new: str, current: str | None = None) -> None:
        """Set the user's password (for HTTP); `current` is needed if they already have one."""
        ...

    def close(self) -> None:
        """Release connections; the session stays in the token file."""
        ...
