"""`LocalClient`: a personal vault opened in this process (direct mode), as before the daemon."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from vault.client.protocol import FileRef, UserRef
from vault.client.transfer import write_chunks
from vault.core import (
    Vault,
    admin,
    downloads,
    events,
    files,
    sessions,
    shares,
    upkeep,
    uploads,
    users,
)
from vault.core.admin import Account, Usage
from vault.core.errors import NotLoggedIn
from vault.core.models import Event, FileEntry, Listing, Session, User, Version
from vault.core.store import Progress, no_progress
from vault.core.throttle import local_client
from vault.core.upkeep import GcReport, VerifyReport

CHANGE_POLL = 0.25
"""Seconds between looks at the newest event id while waiting for a change (one cheap query)."""


class LocalClient:
    """Every operation is a direct call into vault.core; the session is this OS user's token file.

    The token is read on first use and kept, so a long-lived client (the TUI) keeps acting
    as the user it started as even if another process logs in meanwhile.
    """

    def __init__(self, vault: Vault, kind: str = "cli") -> None:
        self.vault = vault
        self.kind = kind
        """What opens sessions: `cli` or `tui` (shown in `vault sessions`)."""
        self.place: Path = vault.root
        self._token: str | None = None

    def _user(self) -> User:
        if self._token is None:
            self._token = sessions.load_token(self.vault)
        if self._token is None:
            raise NotLoggedIn()
        return sessions.resolve(self.vault, self._token)

    # -- accounts and sessions ------------------------------------------------------------------

    def register(self, username: str, password: str) -> User:
        return users.register(self.vault, username, password)

    def login(self, username: str, password: str) -> User:
        user, self._token = sessions.login_local(self.vault, username, password, self.kind)
        return user

    def logout(self) -> User | None:
        self._token = None
        return sessions.logout_local(self.vault)

    def whoami(self) -> User:
        return self._user()

    def sessions(self) -> list[Session]:
        user = self._user()
        return sessions.list_sessions(self.vault, user, current_token=self._token)

    def revoke_session(self, session_id: int | None) -> int:
        return sessions.revoke(self.vault, self._user(), session_id)

    def usernames(self, prefix: str = "", limit: int = 20) -> list[str]:
        self._user()
        return users.usernames(self.vault, prefix, limit)

    # -- files ----------------------------------------------------------------------------------

    def list_files(self) -> Listing:
        return files.list_files(self.vault, self._user())

    def find_file(self, ref: FileRef, *, own: bool = False) -> FileEntry:
        return (files.owned if own else files.resolve)(self.vault, self._user(), ref)

    def upload(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        progress: Progress = no_progress,
    ) -> FileEntry:
        return uploads.upload_path(self.vault, self._user(), path, name, progress)

    def download(
        self,
        ref: FileRef,
        folder: str | os.PathLike[str],
        version: int | None = None,
        progress: Progress = no_progress,
    ) -> Path:
        return downloads.download_to(self.vault, self._user(), ref, folder, version, progress)

    def download_stream(
        self,
        ref: FileRef,
        out_fd: int,
        version: int | None = None,
        progress: Progress = no_progress,
    ) -> FileEntry:
        content = downloads.open_content(self.vault, self._user(), ref, version)
        with contextlib.closing(downloads.verified_chunks(self.vault, content)) as chunks:
            write_chunks(chunks, out_fd, progress)
        return content.entry

    def rename(self, ref: FileRef, new_name: str) -> FileEntry:
        return files.rename(self.vault, self._user(), ref, new_name)

    def delete(self, ref: FileRef) -> FileEntry:
        return files.delete(self.vault, self._user(), ref)

    def versions(self, ref: FileRef) -> list[Version]:
        return files.versions(self.vault, self._user(), ref)

    # -- sharing --------------------------------------------------------------------------------

    def share(self, ref: FileRef, target: UserRef) -> tuple[FileEntry, User]:
        return shares.share(self.vault, self._user(), ref, target)

    def unshare(self, ref: FileRef, target: UserRef) -> tuple[FileEntry, User]:
        return shares.unshare(self.vault, self._user(), ref, target)

    def recipients(self, ref: FileRef) -> list[User]:
        return shares.recipients(self.vault, self._user(), ref)

    # -- activity -------------------------------------------------------------------------------

    def recent_events(self, limit: int = 50) -> list[Event]:
        return events.recent(self.vault.db, self._user(), limit)

    def latest_event_id(self) -> int:
        self._user()
        return events.latest_id(self.vault.db)

    def wait_for_change(self, after: int, timeout: float) -> int:
        self._user()
        deadline = time.monotonic() + timeout
        while (latest := events.latest_id(self.vault.db)) <= after:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(CHANGE_POLL, left))
        return latest

    # -- upkeep ---------------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        return upkeep.verify(self.vault)

    def gc(self, dry_run: bool = False) -> GcReport:
        return upkeep.gc(self.vault, dry_run=dry_run)

    # -- accounts: in direct mode whoever can open the vault folder is its admin ---------------
    # (they can write its database anyway, so a check here would stop nobody)

    @property
    def _admin(self) -> str:
        return f"admin uid {os.getuid()}"

    def admin_users(self) -> list[Account]:
        return admin.accounts(self.vault)

    def admin_disable(self, user: UserRef) -> User:
        return admin.disable(self.vault, user, self._admin)

    def admin_enable(self, user: UserRef) -> User:
        return admin.enable(self.vault, user, self._admin)

    def admin_quota(self, user: UserRef, quota: int | None) -> User:
        return admin.set_quota(self.vault, user, quota, self._admin)

    def admin_reset_password(self, user: UserRef) -> tuple[User, str]:
        return admin.reset_password(self.vault, user, self._admin)

    def usage(self) -> Usage:
        return admin.usage(self.vault, self._user())

    def passwd(self, new: str, current: str | None = None) -> None:
        client = local_client(self.kind)
        admin.set_password(self.vault, self._user(), new, current, client=client)

    def close(self) -> None:
        self.vault.close()
