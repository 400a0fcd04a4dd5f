"""Every error the core raises on purpose, in one place.

Front ends (TUI, CLI, HTTP) map these classes at their edge and never inspect messages. Each
message is one line that tells a person what to do next; fields carry what a front end needs
to build its own wording (an HTTP status, a Retry-After header).
"""

from __future__ import annotations

from vault.format import human_size


class VaultError(Exception):
    """Base class: an expected failure the user can act on (CLI exit code 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidName(VaultError):
    """A file name breaks the naming rule (see `vault.core.names`)."""


class InvalidUsername(VaultError):
    """A username breaks the username rule."""


class InvalidPassword(VaultError):
    """A password breaks the password rule."""


class UsernameTaken(VaultError):
    """Registration with a name that exists (compared case-insensitively)."""

    def __init__(self, username: str) -> None:
        super().__init__(f"Username {username!r} is already taken; choose another")
        self.username = username


class LoginFailed(VaultError):
    """Wrong username or password; deliberately does not say which."""

    def __init__(self) -> None:
        super().__init__("Wrong username or password")


class TooManyAttempts(VaultError):
    """Failed logins are being throttled for this username or client."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed logins, retry in {retry_after} s")
        self.retry_after = retry_after


class NotLoggedIn(VaultError):
    """No session, or the session expired or was revoked."""

    def __init__(self, message: str = "Not logged in: run `vault login USER`") -> None:
        super().__init__(message)


class NoSuchUser(VaultError):
    """A username or user id that does not exist."""

    def __init__(self, who: str | int) -> None:
        super().__init__(f"No user {who!r}")
        self.who = who


class NoSuchFile(VaultError):
    """The file does not exist *or* the caller may not see it: the two are indistinguishable."""

    def __init__(self, ref: str | int) -> None:
        super().__init__(f"No file {ref!r} that you can access (see `vault ls`)")
        self.ref = ref


class AmbiguousFile(VaultError):
    """A name matches several files the caller can see; an id is needed."""

    def __init__(self, name: str, ids: list[int]) -> None:
        listed = ", ".join(f"#{i}" for i in ids)
        super().__init__(f"{name!r} could mean several files ({listed}); give one as #ID")
        self.name = name
        self.ids = ids


class NoSuchVersion(VaultError):
    """A version number the file does not have."""

    def __init__(self, file_id: int, version: int) -> None:
        super().__init__(f"File {file_id} has no version {version} (see `vault versions`)")


class NotOwner(VaultError):
    """The caller can see the file (it was shared with them) but does not own it."""

    def __init__(self, file_id: int) -> None:
        super().__init__(f"File {file_id} is not yours; only its owner may do that")
        self.file_id = file_id


class ShareWithSelf(VaultError):
    """Sharing a file with its own owner."""

    def __init__(self) -> None:
        super().__init__("Cannot share a file with yourself")


class NameTaken(VaultError):
    """Renaming onto a name the owner already uses."""

    def __init__(self, name: str) -> None:
        super().__init__(f"You already have a file named {name!r}; pick another name")
        self.name = name


class SourceError(VaultError):
    """A local file to upload is missing, unreadable or not a regular file."""


class DestinationError(VaultError):
    """A local folder to download into does not exist or cannot be written."""


class StorageFull(VaultError):
    """The disk holding the vault ran out of space; nothing was stored."""

    def __init__(self) -> None:
        super().__init__(
            "Not enough disk space for the vault; nothing was stored. Free space and retry"
        )


class TooLarge(VaultError):
    """An upload exceeds the configured size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"File is larger than the limit of {limit} bytes")
        self.limit = limit


class Cancelled(VaultError):
    """The caller cancelled an upload or download; nothing was stored or written."""

    def __init__(self) -> None:
        super().__init__("Cancelled; nothing was stored")


class CorruptObject(VaultError):
    """Stored content no longer matches its hash, or is missing: refuse to hand out wrong bytes."""

    def __init__(
        self, sha256: str, missing: bool = False, identity: tuple[int, int] | None = None
    ) -> None:
        what = "is missing" if missing else "is corrupt"
        super().__init__(
            f"Stored content {sha256[:12]}… {what}; run `vault verify`, then upload the file again"
        )
        self.sha256 = sha256
        self.missing = missing
        self.identity = identity
        """(device, inode) of the corrupt file, so only that file is moved aside."""


class VaultUnavailable(VaultError):
    """The vault folder cannot be created or opened."""


class NoSuchSession(VaultError):
    """Revoking a session id the user does not have (or that already ended)."""

    def __init__(self, session_id: int) -> None:
        super().__init__(f"You have no live session {session_id} (see `vault sessions`)")


class AmbiguousUser(VaultError):
    """A string of digits that is one user's name and another user's id."""

    def __init__(self, ref: str, name_id: int) -> None:
        super().__init__(
            f"{ref!r} is the name of user #{name_id} and the id of user #{ref}; "
            f"write #{name_id} or #{ref}"
        )


class NotPermitted(VaultError):
    """The caller may not do this here: an admin's task, or a name kept for another OS user."""


class SessionFileError(VaultError):
    """The session token file cannot be written or removed."""


class DatabaseLost(VaultUnavailable):
    """The folder holds a vault, but its database is missing, empty or unreadable.

    Opening it anyway would start an empty vault beside the old content: every login would
    fail, old usernames could be taken again and `gc` would see every object as unused.
    """

    remedies: tuple[str, ...] = ("restore {db} from a backup of the vault folder",)
    """What a person can do, joined with "or" (a later rebuild command adds itself here)."""

    def __init__(self, db: str, problem: str, evidence: str) -> None:
        todo = " or ".join(r.format(db=db) for r in self.remedies)
        super().__init__(
            f"The vault database {db} {problem}, but the folder holds a vault ({evidence}); "
            f"nothing was changed. To recover, {todo}"
        )
        self.db = db
        self.problem = problem


class UnreadableObject(VaultError):
    """A stored object (or a folder of them) that this process may not read.

    Typically written by another OS user or by root with a mode that shuts this user out;
    said as such, rather than as a corrupt object or a destination error.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"The stored object at {path} cannot be read ({reason}); give the OS user running "
            "vault read access to it (chown or chmod it), then retry"
        )
        self.path = path
        self.reason = reason


class UnsafeCollect(VaultError):
    """`gc` was asked to remove every stored object on the word of a database that names none."""

    def __init__(self, objects: int) -> None:
        super().__init__(
            f"The database refers to no stored content, yet {objects} objects are stored, so gc "
            "removed nothing: if vault.db was replaced or emptied, restore it from a backup; "
            "if every file was deleted on purpose, remove the objects/ folder by hand"
        )
        self.objects = objects


class TooManyRegistrations(TooManyAttempts):
    """Registrations from one address are being rate-limited (HTTP: 429 like failed logins)."""

    def __init__(self, retry_after: int) -> None:
        VaultError.__init__(self, f"Too many new accounts from here, retry in {retry_after} s")
        self.retry_after = retry_after


class AccountDisabled(NotLoggedIn):
    """An admin disabled this account: no login, no session, no peer login, on any front end."""

    def __init__(self, username: str) -> None:
        super().__init__(f"The vault account {username!r} is disabled; ask an admin to enable it")
        self.username = username


class OverQuota(VaultError):
    """An upload would take the owner past their quota; nothing was stored."""

    def __init__(self, usage: int, quota: int, adding: int) -> None:
        super().__init__(
            f"Over quota: you use {human_size(usage)} of {human_size(quota)} and this upload "
            f"adds {human_size(adding)}; nothing was stored. Delete files you no longer need "
            "(`vault ls`, then `vault rm FILE`: every version of a file counts) and retry"
        )
        self.usage = usage
        self.quota = quota
        self.adding = adding


class InvalidSize(VaultError):
    """A quota that is not a size (`10G`, `500M`, `1024`) nor `none`."""


class PasswordNeeded(VaultError):
    """Changing the password of an account that has one needs the current one."""

    def __init__(self) -> None:
        super().__init__("Your account has a password: give the current one to change it")
