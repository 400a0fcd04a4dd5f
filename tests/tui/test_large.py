"""100,000 files load into the list, filter and reach the last row.

How fast is for bench/bench_tui.py: a test on a shared, loaded machine asserts behaviour only.
"""

from __future__ import annotations

import pytest
from tui.tui_support import settle

from vault.client import VaultClient
from vault.core import Vault
from vault.core.db import write
from vault.core.models import User
from vault.tui.app import make_app
from vault.tui.widgets.file_table import FileTable

pytestmark = pytest.mark.anyio

N = 100_000


def seed_rows(v: Vault, owner: User) -> None:
    """Rows straight into the tables (test set-up only; uploading 100,000 files takes minutes)."""
    with write(v.db) as db:
        db.conn.executemany(
            "INSERT INTO files (id, owner_id, name, created_at) VALUES (?, ?, ?, ?)",
            [(i + 1, owner.id, f"file-{i:06d}.txt", "2026-01-01T00:00:00Z") for i in range(N)],
        )
        db.conn.executemany(
            "INSERT INTO versions (file_id, number, sha256, size, uploaded_at)"
            " VALUES (?, 1, ?, ?, ?)",
            [(i + 1, "0" * 64, i * 37, "2026-01-01T00:00:00Z") for i in range(N)],
        )


async def test_100k_files_load_and_filter(
    client: VaultClient, v: Vault, alice: User, alice_session: str
) -> None:
    seed_rows(v, alice)
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#own", FileTable)
        assert table.total == N
        assert table.rows[0].name == "file-000000.txt"

        await pilot.press("slash", *"9999")
        app.screen.apply_filter()  # what the debounce timer calls once typing pauses
        assert table.row_count == 19  # file-x9999x and file-09999x (099999 counted once)
        assert all("9999" in e.name for e in table.rows)
        await pilot.press("enter", "end")  # back to the table, then its last row
        assert table.current is not None and table.current.name == table.rows[-1].name
