"""Where a vault and a person's session token file live on disk.

A vault is one folder (database, objects, temp files). The token file is per OS user (it lives
in that user's platformdirs state folder) and per vault (named by a hash of the vault's real
path), so one OS user may use several vaults and several OS users may share one vault.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "vault"


def default_vault_dir() -> Path:
    """The personal vault's folder when nothing names one: the platformdirs user data folder."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def vault_location(root: Path | str | None) -> tuple[Path, bool]:
    """The vault folder to open (`root`, else `$VAULT_HOME`, else the platformdirs user data
    folder), and whether its missing parent folders may be created.

    Only the platformdirs default (e.g. ~/.local/share/vault) gets its parents made: a folder
    someone named (`--vault`, `$VAULT_HOME`) with a typo in it must not silently become a
    new tree of folders, so there only the last level is created.
    """
    if root is not None:
        return Path(root), False
    env = os.environ.get("VAULT_HOME")
    if env:
        return Path(env).expanduser(), False
    return default_vault_dir(), True


@dataclass(frozen=True)
class VaultPaths:
    """The layout of one vault folder (docs/ARCHITECTURE.md describes it)."""

    root: Path
    """The vault folder itself."""

    @property
    def db(self) -> Path:
        return self.root / "vault.db"

    @property
    def marker(self) -> Path:
        """Written once, when the folder became a vault: tells a lost database from a new one."""
        return self.root / "vault.json"

    @property
    def objects(self) -> Path:
        return self.root / "objects"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def gc_lock(self) -> Path:
        return self.root / "gc.lock"

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256


def token_file(vault_root: Path) -> Path:
    """The session token file for this OS user and this vault (honours XDG_STATE_HOME)."""
    real = os.path.realpath(vault_root)
    key = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    state = Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))
    return state / "sessions" / f"{key}.json"
