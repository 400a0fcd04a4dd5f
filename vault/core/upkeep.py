"""Keeping the store honest: `verify` re-hashes every object, `gc` removes what nothing uses.

Both run without a session (they only read file metadata and object bytes) and beside live
uploads: `gc` holds the store's exclusive lock while it decides and deletes, and publishers
hold the shared lock from "object in place" until "row committed", so no referenced object
is ever removed. Temp files are removed only when no process holds their flock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vault.core import events, integrity
from vault.core.db import write
from vault.core.errors import UnsafeCollect
from vault.core.vault import Vault


@dataclass(frozen=True)
class BrokenFile:
    """A file version whose content is missing or corrupt."""

    file_id: int
    name: str
    owner: str
    version: int
    sha256: str


@dataclass
class VerifyReport:
    checked: int = 0
    corrupt: list[str] = field(default_factory=list)
    """Objects whose bytes no longer match their name; each was moved to quarantine/."""
    missing: list[str] = field(default_factory=list)
    """Objects that files refer to but that are not in the store."""
    broken: list[BrokenFile] = field(default_factory=list)
    moved_to: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.corrupt or self.missing)


@dataclass
class GcReport:
    objects: list[str] = field(default_factory=list)
    bytes: int = 0
    temps: list[Path] = field(default_factory=list)


def _referenced(v: Vault) -> set[str]:
    return {r[0] for r in v.db.execute("SELECT DISTINCT sha256 FROM versions").fetchall()}


def verify(v: Vault, on_object: Callable[[str], None] | None = None) -> VerifyReport:
    """Re-hash every object; move corrupt ones aside; list what is missing and what it breaks."""
    report = VerifyReport()
    good: list[tuple[str, Path]] = []
    for sha, path in v.store.iter_objects():
        if on_object:
            on_object(sha)
        try:
            intact, identity = v.store.check(sha, path)
        except FileNotFoundError:  # removed meanwhile by gc or a delete: nothing to check
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
        report.missing = sorted(
            s for s in _referenced(v) if s not in gone and not v.store.exists(s)
        )
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
    with v.store.exclusive():
        referenced = _referenced(v)
        stored = list(v.store.iter_objects())
        if stored and not referenced:
            # Deleting a file collects its objects, so stored objects and no references at
            # all mean a database emptied or replaced, far likelier than a crash leftover:
            # its word must not condemn every object.
            raise UnsafeCollect(len(stored))
        for sha, path in stored:
            if sha in referenced:
                continue
            report.objects.append(sha)
            report.bytes += path.stat().st_size
            if not dry_run:
                path.unlink(missing_ok=True)
        report.temps = v.store.stale_temps()
        if not dry_run:
            for tmp in report.temps:
                tmp.unlink(missing_ok=True)
    return report


def collect(v: Vault, shas: Iterable[str]) -> None:
    """Remove these objects now if nothing refers to them (after a delete)."""
    with v.store.exclusive():
        for sha in shas:
            still = v.db.execute("SELECT 1 FROM versions WHERE sha256 = ? LIMIT 1", [sha])
            if still.fetchone() is None:
                v.store.path(sha).unlink(missing_ok=True)
