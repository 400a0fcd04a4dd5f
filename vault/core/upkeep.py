"""Keeping the store honest: `verify` re-hashes every object, `gc` removes what nothing uses.

Both run without a session (they only read file metadata and object bytes) and beside live
uploads: `gc` holds the store's exclusive lock while it decides and deletes, and publishers
hold the shared lock from "object in place" until "row committed", so no referenced object
is ever removed. Temp files are removed only when no process holds their flock.

A file or folder in the store that this process may not read (another OS user or root wrote
it with a narrow mode) is reported as unreadable and skipped, never taken for missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vault.core import events, integrity
from vault.core.db import write
from vault.core.errors import UnsafeCollect
from vault.core.store import OnError
from vault.core.vault import Vault


@dataclass(frozen=True)
class BrokenFile:
    """A file version whose content is missing or corrupt."""

    file_id: int
    name: str
    owner: str
    version: int
    sha256: str


@dataclass(frozen=True)
class Unreadable:
    """A path in the store this process may not read, and why (the OS's words)."""

    path: Path
    reason: str


def _unreadable(into: list[Unreadable]) -> OnError:
    return lambda path, e: into.append(Unreadable(path, e.strerror or str(e)))


@dataclass
class VerifyReport:
    checked: int = 0
    corrupt: list[str] = field(default_factory=list)
    """Objects whose bytes no longer match their name; each was moved to quarantine/."""
    missing: list[str] = field(default_factory=list)
    """Objects that files refer to but that are not in the store."""
    unreadable: list[Unreadable] = field(default_factory=list)
    """Objects, or folders of them, that could not be read: neither checked nor missing."""
    broken: list[BrokenFile] = field(default_factory=list)
    moved_to: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.corrupt or self.missing or self.unreadable)


@dataclass
class GcReport:
    objects: list[str] = field(default_factory=list)
    bytes: int = 0
    temps: list[Path] = field(default_factory=list)
    skipped: list[Unreadable] = field(default_factory=list)
    """What could not be read or removed, so was left in place."""


def _referenced(v: Vault) -> set[str]:
    return {r[0] for r in v.db.execute("SELECT DISTINCT sha256 FROM versions").fetchall()}


def verify(v: Vault, on_object: Callable[[str], None] | None = None) -> VerifyReport:
    """Re-hash every object; move corrupt ones aside; list what is missing and what it breaks."""
    report = VerifyReport()
    skip = _unreadable(report.unreadable)
    good: list[tuple[str, Path]] = []
    for sha, path in v.store.iter_objects(on_error=skip):
        if on_object:
            on_object(sha)
        try:
            intact, identity = v.store.check(sha, path)
        except FileNotFoundError:  # removed meanwhile by gc or a delete: nothing to check
            continue
        except OSError as e:
            skip(path, e)
            continue
        report.checked += 1
        if intact:
            good.append((sha, path))
        else:
            moved = v.store.quarantine(sha, identity)
            if moved:  # else a fresh upload replaced it meanwhile: that copy is good
                report.corrupt.append(sha)
                report.moved_to.append(moved)
    with write(v.db):
        for sha, path in good:
            try:
                integrity.vouch(v.db, sha, path.stat())
            except FileNotFoundError:
                continue
    with v.store.pin():
        gone = set(report.corrupt)  # moved aside just now: reported once, as corrupt
        blocked = {u.path for u in report.unreadable}
        for sha in sorted(_referenced(v) - gone):
            path = v.store.path(sha)
            try:
                path.stat()
            except (FileNotFoundError, NotADirectoryError):
                report.missing.append(sha)
            except OSError as e:
                if path.parent not in blocked:  # its folder is reported already
                    skip(path, e)
    bad = set(report.corrupt) | set(report.missing)
    if bad:
        rows = v.db.execute(
            """
            SELECT f.id, f.name, u.username, ver.number, ver.sha256, f.owner_id
            FROM versions ver JOIN files f ON f.id = ver.file_id JOIN users u ON u.id = f.owner_id
            ORDER BY f.id, ver.number
            """
        ).fetchall()
        broken = [r for r in rows if r[4] in bad]
        report.broken = [BrokenFile(*r[:5]) for r in broken]
        with write(v.db) as db:
            for file_id, name, _, version, sha, owner_id in broken:
                state = "missing" if sha in report.missing else "corrupt"
                events.record(
                    db, None, "verify", file_id=file_id, file_name=name, owner_id=owner_id,
                    detail=f"version {version} content {state}",
                )  # fmt: skip
    return report


def gc(v: Vault, dry_run: bool = False) -> GcReport:
    """Remove objects no version refers to, and temp files whose writer is gone."""
    report = GcReport()
    skip = _unreadable(report.skipped)
    with v.store.exclusive():
        referenced = _referenced(v)
        if not referenced:
            # Deleting a file collects its objects at once, so stored objects and no
            # references at all mean a database emptied or replaced, far likelier than a
            # crash leftover: its word must not condemn every object.
            stored = sum(1 for _ in v.store.iter_objects(on_error=lambda path, e: None))
            if stored:
                raise UnsafeCollect(stored)
        for sha, path in v.store.iter_objects(on_error=skip):
            if sha in referenced:
                continue
            size = _remove(path, dry_run, skip)
            if size is not None:
                report.objects.append(sha)
                report.bytes += size
    temps = remove_stale_temps(v, dry_run)
    report.temps, report.skipped = temps.temps, report.skipped + temps.skipped
    return report


def remove_stale_temps(v: Vault, dry_run: bool = False) -> GcReport:
    """Remove the temp files of dead writers (rule 6); `gc` and `vault serve` start-up call it.

    Returns a report of only temp files (and what could not be opened to tell, so was kept).
    Under the exclusive lock: a writer creates and locks its temp file under the pin, so
    none is seen here between creation and lock.
    """
    report = GcReport()
    skip = _unreadable(report.skipped)
    with v.store.exclusive():
        for tmp in v.store.stale_temps(on_error=skip):
            if _remove(tmp, dry_run, skip) is not None:
                report.temps.append(tmp)
    return report


def _remove(path: Path, dry_run: bool, skip: OnError) -> int | None:
    """Unlink `path` (unless `dry_run`) and return its size; None if gone or not removable."""
    try:
        size = path.stat().st_size
        if not dry_run:
            path.unlink()
    except FileNotFoundError:
        return None
    except OSError as e:
        skip(path, e)
        return None
    return size


def collect(v: Vault, shas: Iterable[str]) -> None:
    """Remove these objects now if nothing refers to them (after a delete)."""
    with v.store.exclusive():
        for sha in shas:
            still = v.db.execute("SELECT 1 FROM versions WHERE sha256 = ? LIMIT 1", [sha])
            if still.fetchone() is None:
                v.store.path(sha).unlink(missing_ok=True)
