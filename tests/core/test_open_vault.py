"""Opening a vault: a new folder becomes a vault with a marker; a lost database is refused.

A vault folder whose database is missing, empty or unreadable must not be silently made anew
beside its old objects (then every login fails, old usernames can be taken again and `gc`
sees every object as unused).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from vault.core import Vault, upkeep, uploads, users
from vault.core.errors import (
    DatabaseLost,
    UnsafeCollect,
    VaultUnavailable,
)
from vault.core.models import User
from vault.core.passwords import Hasher


def open_vault(folder: Path) -> Vault:
    return Vault(folder, hasher=Hasher(cheap=True))


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` with its bytes (None for folders)."""
    return {
        str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def filled(v: Vault, alice: User, tmp_path: Path) -> Path:
    """A vault with one user and one uploaded file, closed (WAL checkpointed)."""
    src = tmp_path / "a.txt"
    src.write_bytes(b"precious")
    uploads.upload_path(v, alice, src)
    v.close()
    return v.root


def test_a_new_vault_gets_a_marker(vault_dir: Path) -> None:
    open_vault(vault_dir).close()
    marker = vault_dir / "vault.json"
    body = json.loads(marker.read_text())
    assert body["format"] == 1
    assert len(body["id"]) == 32 and int(body["id"], 16) >= 0
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600
    open_vault(vault_dir).close()  # opening again keeps the marker as it was
    assert json.loads(marker.read_text()) == body
    assert [p.name for p in vault_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_a_vault_made_before_markers_gets_one_on_open(filled: Path) -> None:
    marker = filled / "vault.json"
    marker.unlink()  # as the previous release left it
    v = open_vault(filled)
    assert json.loads(marker.read_text())["format"] == 1
    assert users.find(v, "alice").username == "alice"
    v.close()


def empty_db(db: Path) -> None:
    db.write_bytes(b"")


def remove_db(db: Path) -> None:
    db.unlink()


def garbage_db(db: Path) -> None:
    db.write_bytes(b"not sqlite at all " * 300)


def other_db(db: Path) -> None:
    """A valid SQLite database without the vault's tables."""
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


LOSSES = {
    "empty": (empty_db, "is empty"),
    "missing": (remove_db, "is missing"),
    "garbage": (garbage_db, "cannot be read"),
    "other": (other_db, "holds no vault tables"),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("marker", [True, False], ids=["marker", "no-marker"])
def test_a_lost_database_beside_objects_is_refused_and_nothing_changes(
    filled: Path, loss: str, marker: bool
) -> None:
    damage, problem = LOSSES[loss]
    if not marker:
        (filled / "vault.json").unlink()  # a vault made by the previous release
    damage(filled / "vault.db")
    before = snapshot(filled)
    with pytest.raises(DatabaseLost) as exc:
        open_vault(filled)
    message = str(exc.value)
    assert problem in message
    assert "restore" in message and "backup" in message
    assert ("vault.json" if marker else "objects/") in message
    assert "\n" not in message
    assert isinstance(exc.value, VaultUnavailable)  # front ends map it like any unusable vault
    assert snapshot(filled) == before  # no new database, no marker, nothing removed


def test_a_marked_vault_without_objects_is_refused_too(vault_dir: Path) -> None:
    """Accounts alone are worth keeping: old usernames must not become free to register."""
    v = open_vault(vault_dir)
    users.register(v, "alice", "alice-password")
    v.close()
    (vault_dir / "vault.db").unlink()
    with pytest.raises(DatabaseLost, match="is missing"):
        open_vault(vault_dir)
    assert not (vault_dir / "vault.db").exists()


def test_a_first_start_cut_short_is_finished(vault_dir: Path) -> None:
    """No marker and no objects: an empty database is a new vault that never got going."""
    vault_dir.mkdir()
    (vault_dir / "vault.db").write_bytes(b"")
    v = open_vault(vault_dir)
    users.register(v, "alice", "alice-password")
    assert (vault_dir / "vault.json").is_file()
    v.close()


def test_gc_never_removes_every_object_on_the_word_of_an_empty_database(
    v: Vault, tmp_path: Path
) -> None:
    """A database that references nothing while objects are stored cannot condemn them."""
    orphan = v.store.path("ab" * 32)
    orphan.parent.mkdir()
    orphan.write_bytes(b"content whose rows are gone")
    with pytest.raises(UnsafeCollect, match="1 objects are stored"):
        upkeep.gc(v)
    with pytest.raises(UnsafeCollect):
        upkeep.gc(v, dry_run=True)
    assert orphan.exists()


def test_unreadable_objects_folder_counts_as_holding_objects(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (filled / "vault.json").unlink()
    (filled / "vault.db").unlink()
    real = os.scandir

    def denied(path: object = ".") -> object:
        if Path(os.fspath(path)) == filled / "objects":  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied")
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", denied)
    with pytest.raises(DatabaseLost):
        open_vault(filled)


def test_open_reports_whether_it_made_a_new_vault(vault_dir: Path, filled_marker_free) -> None:
    v = open_vault(vault_dir)
    assert v.created
    v.close()
    v = open_vault(vault_dir)
    assert not v.created
    v.close()
    migrated = open_vault(filled_marker_free)  # gets a marker, but was a vault already
    assert not migrated.created and (filled_marker_free / "vault.json").is_file()
    migrated.close()


def test_only_the_last_level_of_a_named_folder_is_created(tmp_path: Path) -> None:
    with pytest.raises(VaultUnavailable, match=f"the folder {tmp_path / 'no' / 'such'} does not"):
        open_vault(tmp_path / "no" / "such" / "vault")
    assert not (tmp_path / "no").exists()


@pytest.fixture
def filled_marker_free(tmp_path: Path) -> Path:
    """A vault with a user, as the release before markers left it."""
    folder = tmp_path / "old-vault"
    v = open_vault(folder)
    users.register(v, "alice", "alice-password")
    v.close()
    (folder / "vault.json").unlink()
    return folder


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    from vault.core.errors import VaultUnavailable

    folder = tmp_path / "v"
    folder.mkdir()
    (folder / "vault.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(VaultUnavailable, match="not a usable vault database"):
        Vault(folder)
