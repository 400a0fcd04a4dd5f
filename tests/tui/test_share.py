"""Sharing: pick a user with completion, see it in their "Shared with me", revoke it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import BOB_PW
from tui.tui_support import burst, settle, upload_bytes

from vault.client import VaultClient
from vault.core import Vault, shares, users
from vault.core.models import User
from vault.tui.app import make_app
from vault.tui.screens.files import FilesScreen
from vault.tui.screens.share import ShareDialog
from vault.tui.widgets.file_table import FileTable

pytestmark = pytest.mark.anyio


async def test_share_then_bob_sees_it_then_revoke(
    client: VaultClient, v: Vault, alice: User, bob: User, alice_session: str, tmp_path: Path
) -> None:
    users.register(v, "bobby", "bobby-password")
    file_id = upload_bytes(v, alice, tmp_path, "plan.md", b"the plan")
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, ShareDialog)
        burst(app, [*"bo"])
        await settle(app, pilot)
        matches = app.screen.query_one("#matches")
        assert [str(matches.get_option_at_index(i).prompt) for i in range(2)] == ["bob", "bobby"]
        burst(app, ["b", "enter"])  # "bob": Enter shares with what was typed
        await settle(app, pilot)
        assert [u.username for u in shares.recipients(v, alice, file_id)] == ["bob"]
        assert app.screen.query_one("#recipients").get_option_at_index(0).id == str(bob.id)
        burst(app, [*"nobody", "enter"])
        await settle(app, pilot)
        assert "No user 'nobody'" in str(app.screen.query_one("#share-error").render())
        await pilot.press("escape")
        await settle(app, pilot)
        own = app.screen.query_one("#own", FileTable)
        assert own.rows[0].shared_with == ("bob",)
        await pilot.press("l")  # log out, then bob logs in
        await settle(app, pilot)
        burst(app, [*"bob", "tab", *BOB_PW, "enter"])
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        shared = app.screen.query_one("#shared", FileTable)
        assert [(e.name, e.owner) for e in shared.rows] == [("plan.md", "alice")]

    client.login("alice", "alice-password")
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        await pilot.click("#recipients")
        await pilot.press("x")  # revoke the highlighted recipient
        await settle(app, pilot)
        assert shares.recipients(v, alice, file_id) == []
        assert "Not shared" in str(
            app.screen.query_one("#recipients").get_option_at_index(0).prompt
        )
