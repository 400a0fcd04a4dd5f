"""Keys typed while a dialog opens land in the dialog, in order, never on the screen beneath.

`burst` posts every key at once, as a fast typist, a paste or a password manager would: the
dialog is not even composed when the keys after the one that opens it arrive.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer
from tui.tui_support import burst, settle, upload_bytes

from vault.client import VaultClient
from vault.core import Vault, files, shares
from vault.core.models import User
from vault.tui.app import make_app
from vault.tui.screens.files import FilesScreen
from vault.tui.screens.versions import VersionsDialog
from vault.tui.widgets.file_table import FileTable

pytestmark = pytest.mark.anyio


@pytest.fixture
def seeded(v: Vault, alice: User, bob: User, tmp_path: Path, alice_session: str) -> Vault:
    upload_bytes(v, alice, tmp_path, "notes.txt", b"n" * 10)
    upload_bytes(v, alice, tmp_path, "report.pdf", b"r" * 3000)
    upload_bytes(v, alice, tmp_path, "report.pdf", b"r" * 4000)
    return v


def own_names(app) -> list[str]:
    return [e.name for e in app.screen.query_one("#own", FileTable).rows]


async def test_rename_typed_ahead(client: VaultClient, seeded: Vault, alice: User) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        burst(app, ["r", *"journal.txt", "enter"])  # notes.txt; its name is selected: replaced
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert own_names(app) == ["journal.txt", "report.pdf"]


async def test_keys_after_closing_a_dialog_reach_the_screen(
    client: VaultClient, seeded: Vault
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        burst(app, ["x", "n", "v", "escape", "r", *"journal.txt", "enter"])  # notes.txt
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert own_names(app) == ["journal.txt", "report.pdf"]


async def test_move_then_delete_typed_ahead(
    client: VaultClient, seeded: Vault, alice: User
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        burst(app, ["down", "x", "y"])  # report.pdf: the cursor moves before x acts
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert [e.name for e in files.list_files(seeded, alice).own] == ["notes.txt"]


async def test_share_typed_ahead(client: VaultClient, seeded: Vault, alice: User) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        burst(app, ["s", *"bob", "enter"])
        await settle(app, pilot)
        assert [u.username for u in shares.recipients(seeded, alice, "notes.txt")] == ["bob"]
        assert app.screen.query_one("#recipient").value == ""


async def test_versions_then_download_typed_ahead(
    client: VaultClient, seeded: Vault, local: Path
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "v")  # report.pdf, two versions
        await settle(app, pilot)
        burst(app, ["down", "d", "enter"])  # version 1, into the current folder
        await settle(app, pilot)
        assert isinstance(app.screen, VersionsDialog)  # one download dialog, now closed
        assert (local / "report (1).pdf").read_bytes() == b"r" * 3000


async def test_a_dialog_footer_covers_the_two_row_footer(
    client: VaultClient, seeded: Vault
) -> None:
    app = make_app(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        beneath = app.screen.query_one(Footer).region
        for key in ["v", "escape", "s", "escape", "g", "escape", "r", "escape", "x", "n"]:
            await pilot.press(key)
            await settle(app, pilot)
            if app.screen is not app.screen_stack[1]:  # a dialog is open
                assert app.screen.query_one(Footer).region == beneath, key
