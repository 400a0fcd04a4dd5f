"""The handle every front end opens: one vault folder, its database and its object store.

`Vault` holds no user state. Each thread gets its own SQLite connection (sqlite3 objects must
stay on the thread that made them), which suits Textual thread workers and Starlette's
threadpool alike.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from sqlite_utils import Database

from vault.core import db as dbmod
from vault.core import reserve
from vault.core.errors import VaultUnavailable
from vault.core.locations import VaultPaths, default_vault_dir
from vault.core.names import printable
from vault.core.passwords import Hasher
from vault.core.store import ObjectStore


class Vault:
    """An open vault. Cheap to create; safe to share between threads."""

    def __init__(self, root: Path | str | None = None, *, hasher: Hasher | None = None) -> None:
        self.paths = VaultPaths(Path(root) if root is not None else default_vault_dir())
        self.hasher = hasher or Hasher()
        self._local = threading.local()
        self._init()
        self.store = ObjectStore(self.paths)

    def _init(self) -> None:
        try:
            for folder in (self.paths.root, self.paths.objects, self.paths.tmp):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.paths.db.exists():
                fd = os.open(self.paths.db, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            dbmod.migrate(self.db)
            reserve.refill(self.paths.root)
        except OSError as e:
            raise VaultUnavailable(
                f"Cannot open the vault at {printable(self.paths.root)}: {e.strerror or e}"
            ) from e
        except sqlite3.DatabaseError as e:
            raise VaultUnavailable(
                f"{printable(self.paths.db)} is not a usable vault database ({e}); "
                "check --vault / VAULT_HOME"
            ) from e

    @property
    def root(self) -> Path:
        return self.paths.root

    @property
    def db(self) -> Database:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = dbmod.connect(self.paths.db)
            self._local.db = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection; other threads' close with their threads."""
        conn = getattr(self._local, "db", None)
        if conn is not None:
            conn.close()
            self._local.db = None
