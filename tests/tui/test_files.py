"""The files screen: listing, filter, sort, rename, delete, activity, changes made elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList
from textual.widgets import TabbedContent
from textual.widgets._footer import FooterKey
from tui.tui_support import (
    assert_footer_fits,
    burst,
    footer_keys,
    settle,
    upload_bytes,
    wait_for,
)

from vault.client import VaultClient
from vault.core import Vault, files, shares
from vault.core.models import User
from vault.tui.app import make_app
from vault.tui.screens.activity import ActivityScreen
from vault.tui.screens.confirm import ConfirmDelete
from vault.tui.screens.files import FilesScreen
from vault.tui.screens.rename import RenameDialog
from vault.tui.widgets.file_table import FileTable

pytestmark = pytest.mark.anyio


def names(app, table_id: str = "own") -> list[str]:
    return [e.name for e in app.screen.query_one(f"#{table_id}", FileTable).rows]


@pytest.fixture
def seeded(v: Vault, alice: User, bob: User, tmp_path: Path, alice_session: str) -> Vault:
    upload_bytes(v, alice, tmp_path, "report.pdf", b"r" * 3000)
    upload_bytes(v, alice, tmp_path, "notes.txt", b"n" * 10)
    upload_bytes(v, alice, tmp_path, "Zebra.png", b"z" * 700)
    shared = upload_bytes(v, bob, tmp_path, "bob-plan.md", b"plan")
    shares.share(v, bob, shared, "alice")
    return v


async def test_lists_own_and_shared_files(client: VaultClient, seeded: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert names(app) == ["notes.txt", "report.pdf", "Zebra.png"]
        assert names(app, "shared") == ["bob-plan.md"]
        own = app.screen.query_one("#own", FileTable)
        assert own._line(own._cells(own.rows[1]), 80).split()[:3] == ["report.pdf", "2.9", "KiB"]
        await pilot.press("tab")  # the other tab
        assert app.focused is app.screen.query_one("#shared")
        assert app.screen.query_one("#shared", FileTable).current.owner == "bob"


async def test_tab_and_arrows_switch_tabs_and_the_footer_says_so(
    client: VaultClient, seeded: Vault
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        tabs = app.screen.query_one(TabbedContent)
        assert footer_keys(app)["tab"] == "Shared"  # where Tab leads
        for key, tab in [("tab", "shared"), ("shift+tab", "own"), ("right", "shared"),
                         ("left", "own")]:  # fmt: skip
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == f"tab-{tab}", key
            assert app.focused is app.screen.query_one(f"#{tab}", FileTable)
        await pilot.press("tab")
        await pilot.pause()
        assert footer_keys(app)["tab"] == "My files"


async def test_footer_shows_every_key_at_80x24_and_counts_read_right(
    client: VaultClient, v: Vault, alice: User, bob: User, tmp_path: Path, alice_session: str
) -> None:
    upload_bytes(v, alice, tmp_path, "notes.txt", b"n" * 10)
    shares.share(v, bob, upload_bytes(v, bob, tmp_path, "bob-plan.md", b"plan"), "alice")
    app = make_app(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        keys = footer_keys(app)
        assert keys["o"] == "Sort" and keys["tab"] == "Shared"
        assert_footer_fits(app)
        await pilot.press("tab")
        await settle(app, pilot)
        assert footer_keys(app)["tab"] == "My files"
        assert_footer_fits(app)
        await pilot.press("tab")
        await settle(app, pilot)
        assert str(app.screen.query_one("#status").render()) == "1 file of yours · 10 B"
        await pilot.press("slash", "n")
        app.screen.apply_filter()
        assert (
            str(app.screen.query_one("#status").render())
            == "1 of 1 file shown (names containing 'n')"
        )


async def test_empty_list_says_how_to_upload(
    client: VaultClient, v: Vault, alice_session: str
) -> None:
    app = make_app(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#own", FileTable)
        assert table.total == 0
        assert "Press u to upload your first file" in table.render_line(2).text
        await pilot.pause()
        greyed = {k.key for k in app.screen.query(FooterKey) if k.has_class("-disabled")}
        assert greyed == {"d", "s", "x", "r", "v"}  # nothing to act on yet


async def test_empty_list_of_a_recipient_points_at_the_shared_tab(
    client: VaultClient, v: Vault, alice: User, bob: User, tmp_path: Path, alice_session: str
) -> None:
    shares.share(v, bob, upload_bytes(v, bob, tmp_path, "bob-plan.md", b"plan"), "alice")
    app = make_app(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        hint = app.screen.query_one("#own", FileTable).render_line(2).text
        assert "No files of your own yet (u uploads). 1 file shared with you: press Tab." in hint
        assert "No files yet" not in hint


async def test_filter_narrows_and_escape_clears(client: VaultClient, seeded: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#filter")
        await pilot.pause()
        keys = footer_keys(app)  # letters are text here: the footer leaves them out
        assert keys["escape"] == "Clear filter" and "d" not in keys and "x" not in keys
        burst(app, [*"REP"])
        await pilot.pause()
        app.screen.apply_filter()  # what the debounce timer calls once typing pauses
        assert names(app) == ["report.pdf"]
        await pilot.press("x", "enter")  # keys typed into the filter are not commands
        await pilot.pause()
        assert isinstance(app.screen, FilesScreen)
        assert app.screen.query_one("#filter").value == "REPx"
        assert names(app) == []
        await pilot.press("escape")
        assert names(app) == ["notes.txt", "report.pdf", "Zebra.png"]
        assert app.focused is app.screen.query_one("#own")


async def test_sort_by_key_and_by_header_click(client: VaultClient, seeded: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("o")  # next column: size
        assert names(app) == ["notes.txt", "Zebra.png", "report.pdf"]
        await pilot.click("#own", offset=(52, 0))  # the Size header again: descending
        assert names(app) == ["report.pdf", "Zebra.png", "notes.txt"]
        await pilot.click("#own", offset=(2, 0))  # the Name header
        assert names(app) == ["notes.txt", "report.pdf", "Zebra.png"]


async def test_delete_asks_first(client: VaultClient, seeded: Vault, alice: User) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "x")  # report.pdf
        assert isinstance(app.screen, ConfirmDelete)
        await pilot.press("n")
        await settle(app, pilot)
        assert "report.pdf" in names(app)
        await pilot.press("x", "y")
        await settle(app, pilot)
        assert names(app) == ["notes.txt", "Zebra.png"]
        assert [e.name for e in files.list_files(seeded, alice).own] == ["notes.txt", "Zebra.png"]


async def test_shared_tab_offers_only_what_applies(client: VaultClient, seeded: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert {"s", "x", "r", "v", "d"} <= set(footer_keys(app))
        await pilot.press("tab")
        await pilot.pause()
        keys = footer_keys(app)
        assert not {"s", "x", "r"} & set(keys)  # share, delete, rename: the owner's
        assert keys["d"] == "Download" and keys["v"] == "Versions"
        await pilot.press("x", "s", "r")
        await pilot.pause()
        assert isinstance(app.screen, FilesScreen)  # no dialog for someone else's file
        assert not app._notifications  # and no "File 4 is not yours"
        await pilot.press("ctrl+p")  # the palette leaves them out too
        await pilot.pause()
        await pilot.press(*"delete")
        await settle(app, pilot)
        hits = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert not any("Delete the selected file" in h for h in hits)


async def test_messages_name_the_file_not_its_id(
    client: VaultClient, seeded: Vault, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no live reload: the stale row stays listed
    monkeypatch.setattr(FilesScreen, "watch_changes", lambda self, shown: None)
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        files.delete(seeded, alice, "notes.txt")  # elsewhere, before the list refreshes
        await pilot.press("r")  # notes.txt, still listed
        await pilot.pause()
        burst(app, [*"-old", "enter"])
        await settle(app, pilot)
        error = str(app.screen.query_one("#rename-error").render())
        assert error == "notes.txt is gone: deleted, or no longer shared with you"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("x", "y")
        await settle(app, pilot)
        messages = [n.message for n in app._notifications]
        assert "notes.txt is gone: deleted, or no longer shared with you" in messages
        assert not any("File " in m or "vault ls" in m for m in messages)


async def test_rename(client: VaultClient, seeded: Vault, alice: User) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")  # notes.txt
        await pilot.pause()
        assert isinstance(app.screen, RenameDialog)
        await pilot.press("ctrl+u")
        burst(app, [*"report.pdf", "enter"])  # taken
        await settle(app, pilot)
        assert "already have a file named 'report.pdf'" in str(
            app.screen.query_one("#rename-error").render()
        )
        await pilot.press("ctrl+u")
        burst(app, [*"journal.txt", "enter"])
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert names(app) == ["journal.txt", "report.pdf", "Zebra.png"]
        assert files.resolve(seeded, alice, "journal.txt").size == 10


async def test_activity_log(client: VaultClient, seeded: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("g")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityScreen)
        lines = [str(o.prompt) for o in app.screen.query_one("#events").options]
        assert any("bob share 'bob-plan.md'" in line and "with alice" in line for line in lines)
        assert any("alice upload 'notes.txt'" in line for line in lines)
        await pilot.press("escape")
        assert isinstance(app.screen, FilesScreen)


async def test_changes_elsewhere_appear_without_a_key(
    client: VaultClient, other_client: VaultClient, seeded: Vault, alice: User, tmp_path: Path
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        shown: list[object] = []  # every reload ends in _show: count them
        real_show = app.screen._show
        app.screen._show = lambda *args: (shown.append(args), real_show(*args))
        src = tmp_path / "from-cli.txt"
        src.write_bytes(b"cli")
        other_client.upload(src)  # `vault upload` in another terminal
        await wait_for(pilot, lambda: "from-cli.txt" in names(app), "the upload to be listed")
        other_client.delete("from-cli.txt")
        await wait_for(pilot, lambda: "from-cli.txt" not in names(app), "the delete to show")
        await settle(app, pilot)
        assert len(shown) == 2  # one reload per change, none while nothing changes
        upload_bytes(seeded, alice, tmp_path, "later.txt", b"l")  # through the core
        await pilot.press("ctrl+r")  # a reload by hand still works
        await wait_for(pilot, lambda: "later.txt" in names(app), "the reload")


async def test_command_palette_runs_actions(client: VaultClient, seeded: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")  # the command palette
        await pilot.pause()
        await pilot.press(*"activity")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityScreen)
