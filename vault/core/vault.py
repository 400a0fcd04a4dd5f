"""The handle every front end opens: one vault folder, its database and its object store.

`Vault` holds no user state. Each thread gets its own SQLite connection (sqlite3 objects must
stay on the thread that made them), which suits Textual thread workers and Starlette's
threadpool alike.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from pathlib import Path

from sqlite_utils import Database

from vault.core import clock, reserve
from vault.core import db as dbmod
from vault.core.atomic import fsync_dir
from vault.core.errors import DatabaseLost, StorageFull, VaultUnavailable
from vault.core.locations import VaultPaths, vault_location
from vault.core.migrations import migrations
from vault.core.names import printable
from vault.core.passwords import Hasher
from vault.core.store import ObjectStore

FORMAT = 1
"""The layout version written into a new vault's marker file."""


def _holds_schema(db: Path) -> bool:
    """Whether the vault's migrations were applied, read without changing a byte of the file
    (a foreign or damaged database is left exactly as it was found).

    A reader needs room for SQLite's shared-memory index: on a full disk that is StorageFull
    (with the reserve's help, usually not even that), never a database taken for lost.
    """

    def read() -> bool:
        conn = sqlite3.connect(
            db.absolute().as_uri() + "?mode=ro", uri=True, timeout=dbmod.BUSY_TIMEOUT_S
        )
        try:
            return bool(migrations.applied(Database(conn)))
        except sqlite3.Error as e:
            if dbmod.out_of_space(e, db.parent):
                raise StorageFull() from e
            raise
        finally:
            conn.close()

    return reserve.spend(db.parent, read, reserve.READ_ROOM)


class Vault:
    """An open vault. Cheap to create; safe to share between threads.

    Opening never starts an empty vault beside existing content: a folder that holds a vault
    (its marker file, or stored objects) but whose database is missing, empty or unreadable
    is refused with `DatabaseLost` (docs/ARCHITECTURE.md, "Opening a vault").
    """

    def __init__(self, root: Path | str | None = None, *, hasher: Hasher | None = None) -> None:
        folder, make_parents = vault_location(root)
        self.paths = VaultPaths(folder)
        self.hasher = hasher or Hasher()
        self._local = threading.local()
        self.store = ObjectStore(self.paths)
        self.created = False
        """Whether this open made a new vault (front ends say so: a mistyped path shows)."""
        self._init(make_parents)

    def _init(self, make_parents: bool) -> None:
        try:
            self._make_folder(make_parents)
            marked = self.paths.marker.exists()
            fresh = self._check_database(marked)
            for folder in (self.paths.objects, self.paths.tmp):
                folder.mkdir(mode=0o700, exist_ok=True)
            if not self.paths.db.exists():
                fd = os.open(self.paths.db, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            dbmod.migrate(self.db)
            if not marked:  # a new vault, or one made before vaults had a marker
                self.created = self._write_marker() and fresh
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

    def _make_folder(self, make_parents: bool) -> None:
        """Create the vault folder if needed: only its last level, unless `make_parents`."""
        root = self.paths.root
        if make_parents:
            root.parent.mkdir(parents=True, exist_ok=True)
        try:
            root.mkdir(mode=0o700)
        except FileExistsError:
            pass  # if it is not a folder, the next steps say so
        except FileNotFoundError:
            raise VaultUnavailable(
                f"Cannot create a vault at {printable(root)}: the folder "
                f"{printable(root.parent)} does not exist; create it first or check the path"
            ) from None

    def _check_database(self, marked: bool) -> bool:
        """Refuse a vault whose database is gone; True if the folder is to become a new vault.

        Nothing is created before this check passes, so a refused folder stays as it was.
        """
        db = self.paths.db
        try:
            size: int | None = db.stat().st_size
        except FileNotFoundError:
            size = None
        problem = "is missing" if size is None else "is empty" if size == 0 else None
        unreadable: sqlite3.DatabaseError | None = None
        if problem is None:
            try:
                if _holds_schema(db):
                    return False
                problem = "holds no vault tables"
            except sqlite3.DatabaseError as e:
                problem, unreadable = f"cannot be read ({e})", e
        if marked:
            evidence = f"its marker {self.paths.marker.name} says so"
        elif self.store.holds_objects():
            evidence = f"{self.paths.objects.name}/ holds stored content"
        elif unreadable is not None:
            raise unreadable  # not a vault's database, and nothing here to protect
        else:
            return True  # nothing here yet, or a first start cut short: initialise it
        raise DatabaseLost(printable(db), problem, evidence)

    def _write_marker(self) -> bool:
        """Write the marker once: atomically, and never over one another process wrote.

        False if another process opening the same vault wrote it first.
        """
        body = {"format": FORMAT, "id": uuid.uuid4().hex, "created_at": clock.iso()}
        tmp = self.paths.root / f".{self.paths.marker.name}.{uuid.uuid4().hex[:8]}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, self.paths.marker)  # unlike rename, fails if it exists
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(self.paths.root)
        return True

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
