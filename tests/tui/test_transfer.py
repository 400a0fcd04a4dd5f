"""Upload through the browser or a typed path; download (never overwriting); versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import BOB_PW
from textual.widgets import Static
from tui.tui_support import assert_footer_fits, burst, footer_keys, settle, upload_bytes

from vault.client import VaultClient
from vault.core import Vault, files, shares
from vault.core.models import User
from vault.tui.app import make_app
from vault.tui.screens.download import DownloadDialog
from vault.tui.screens.files import FilesScreen
from vault.tui.screens.upload import UploadScreen
from vault.tui.screens.versions import VersionsDialog
from vault.tui.widgets.file_table import FileTable
from vault.tui.widgets.pick_tree import PickTree

pytestmark = pytest.mark.anyio


def own_names(app) -> list[str]:
    return [e.name for e in app.screen.query_one("#own", FileTable).rows]


async def test_upload_several_marked_in_the_browser(
    client: VaultClient, v: Vault, alice: User, alice_session: str, local: Path
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, UploadScreen)
        tree = app.screen.query_one(PickTree)
        assert [c.label.plain for c in tree.root.children] == [
            "notes.txt",
            "photo.jpg",
            "report.pdf",
        ]
        await pilot.press("down", "space", "down", "down", "space")  # notes.txt, report.pdf
        assert set(app.screen.chosen) == {local / "notes.txt", local / "report.pdf"}
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert own_names(app) == ["notes.txt", "report.pdf"]
    stored = files.resolve(v, alice, "report.pdf")
    assert stored.size == (local / "report.pdf").stat().st_size


async def test_upload_a_typed_path(
    client: VaultClient, v: Vault, alice: User, alice_session: str, local: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere" / "budget 2026.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text("a,b\n1,2\n")
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("ctrl+l")  # the path field
        burst(app, [*str(tmp_path / "nope.txt"), "enter"])
        await pilot.pause()
        assert "No such file" in str(app.screen.query_one("#upload-error").render())
        await pilot.press("ctrl+u")
        burst(app, [*str(elsewhere), "enter"])  # a pasted path, spaces and all
        await pilot.pause()
        assert list(app.screen.chosen) == [elsewhere]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert own_names(app) == ["budget 2026.csv"]


async def test_download_never_overwrites_and_reports_bad_folder(
    client: VaultClient, v: Vault, alice: User, alice_session: str, local: Path, tmp_path: Path
) -> None:
    upload_bytes(v, alice, tmp_path, "notes.txt", b"from the vault")
    app = make_app(client)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, DownloadDialog)
        folder = app.screen.query_one("#folder")
        assert folder.value == str(local)  # the current folder by default
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        # local/notes.txt existed: the vault copy lands beside it
        assert (local / "notes.txt").read_text() == "some notes\n"
        assert (local / "notes (1).txt").read_bytes() == b"from the vault"
        assert any(str(local / "notes (1).txt") in n.message for n in app._notifications)

        await pilot.press("enter")  # Enter on a row downloads too
        await settle(app, pilot)
        bad = local / "notes.txt" / "sub"  # under a regular file: never writable, even for root
        app.screen.query_one("#folder").value = str(bad)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DownloadDialog)  # stays open, says why
        assert "does not exist" in str(app.screen.query_one("#download-error").render())
        assert app.focused is app.screen.query_one("#folder")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FilesScreen)
    assert sorted(p.name for p in local.iterdir()) == [
        "notes (1).txt", "notes.txt", "photo.jpg", "report.pdf"
    ]  # fmt: skip


async def test_versions_download_an_old_one(
    client: VaultClient, v: Vault, alice: User, alice_session: str, local: Path, tmp_path: Path
) -> None:
    upload_bytes(v, alice, tmp_path, "plan.md", b"first draft")
    upload_bytes(v, alice, tmp_path, "plan.md", b"second, longer draft")
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        assert isinstance(app.screen, VersionsDialog)
        table = app.screen.query_one("#version-table")
        assert [table.get_row_at(i)[0] for i in range(2)] == ["2 (current)", "1"]  # newest first
        await pilot.press("down", "d")  # version 1
        await settle(app, pilot)
        assert isinstance(app.screen, DownloadDialog)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, VersionsDialog)
    assert (local / "plan.md").read_bytes() == b"first draft"


async def test_upload_footer_fits_80x24(
    client: VaultClient, v: Vault, alice: User, alice_session: str, local: Path
) -> None:
    app = make_app(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert set(footer_keys(app).values()) >= {"Mark", "Upload", "Type a path"}
        assert_footer_fits(app)


async def test_a_recipient_sees_only_the_current_version(
    client: VaultClient, v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    file_id = upload_bytes(v, alice, tmp_path, "plan.md", b"first draft")
    upload_bytes(v, alice, tmp_path, "plan.md", b"second, longer draft")
    shares.share(v, alice, file_id, "bob")
    client.login("bob", BOB_PW)
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("tab", "v")  # the shared tab: plan.md from alice
        await settle(app, pilot)
        assert isinstance(app.screen, VersionsDialog)
        table = app.screen.query_one("#version-table")
        assert table.row_count == 1 and table.get_row_at(0)[0] == "2 (current)"
        texts = [str(w.render()) for w in app.screen.query(Static)]
        assert "alice shares only the current version with you." in texts


async def test_upload_reports_a_failed_file_and_stores_the_rest(
    client: VaultClient, v: Vault, alice: User, alice_session: str, local: Path
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("down", "space", "down", "down", "space")  # notes.txt, report.pdf
        (local / "notes.txt").unlink()  # gone before the upload starts
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, UploadScreen)  # stays open, says what happened
        status = str(app.screen.query_one("#overall-status").render())
        assert status == "1 stored, 1 failed; Ctrl+S retries, Esc closes"
        assert [str(s.render()) for s in app.screen.query(".transfer-status")] == [
            "failed", "stored"
        ]  # fmt: skip
        assert any(n.message.startswith("notes.txt: ") for n in app._notifications)
    assert [e.name for e in files.list_files(v, alice).own] == ["report.pdf"]
