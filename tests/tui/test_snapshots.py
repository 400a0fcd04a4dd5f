"""What the main screens look like, with seeded data and a frozen clock.

Direct mode only: the clock is frozen in this process, which a daemon's is not; what the
screens show in either mode is the same data (the other TUI tests run in both modes).

Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ALICE_PW
from textual.pilot import Pilot
from tui.tui_support import settle, upload_bytes

from vault.client.local import LocalClient
from vault.core import Vault, clock, sessions, shares, users
from vault.core.models import User
from vault.tui.app import VaultApp, make_app

FROZEN = 1795000000.0  # 2026-11-18 ...: every stored timestamp is this


def direct(v: Vault) -> VaultApp:
    return make_app(LocalClient(v, "tui"))


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: FROZEN)


@pytest.fixture
def seeded(frozen: None, v: Vault, alice: User, bob: User, tmp_path: Path):
    sessions.login_local(v, "alice", ALICE_PW, "tui")  # the app opens on her files
    users.register(v, "carol", "carol-password")
    report = upload_bytes(v, alice, tmp_path, "Quarterly report.pdf", b"r" * 2_400_000)
    upload_bytes(v, alice, tmp_path, "notes.txt", b"n" * 1200)
    upload_bytes(v, alice, tmp_path, "holiday-photo.jpg", b"j" * 350_000)
    shares.share(v, alice, report, "bob")
    shares.share(v, alice, report, "carol")
    plan = upload_bytes(v, bob, tmp_path, "bob-plan.md", b"plan")
    shares.share(v, bob, plan, "alice")
    return v


class TestLogin:
    def test_login_screen(self, frozen: None, v: Vault, snap_compare) -> None:
        async def type_name(pilot: Pilot) -> None:
            await pilot.press(*"han", "tab")  # the username, then on to the password

        assert snap_compare(direct(v), run_before=type_name, terminal_size=(100, 30))

    def test_login_at_80x24(self, frozen: None, v: Vault, snap_compare) -> None:
        assert snap_compare(direct(v), terminal_size=(80, 24))


class TestFiles:
    def test_files_screen(self, seeded: Vault, snap_compare) -> None:
        async def loaded(pilot: Pilot) -> None:
            await settle(pilot.app, pilot)

        assert snap_compare(direct(seeded), run_before=loaded, terminal_size=(100, 30))

    def test_files_at_80x24(self, seeded: Vault, snap_compare) -> None:
        async def loaded(pilot: Pilot) -> None:
            await settle(pilot.app, pilot)

        assert snap_compare(direct(seeded), run_before=loaded, terminal_size=(80, 24))


class TestShare:
    def test_share_dialog(self, seeded: Vault, snap_compare) -> None:
        async def open_share(pilot: Pilot) -> None:
            await settle(pilot.app, pilot)
            await pilot.press("s")  # share the first file, holiday-photo.jpg
            await settle(pilot.app, pilot)
            await pilot.press("b")  # completion: bob
            await settle(pilot.app, pilot)

        assert snap_compare(direct(seeded), run_before=open_share, terminal_size=(100, 30))


class TestUpload:
    def test_upload_screen(self, seeded: Vault, local: Path, snap_compare) -> None:
        async def mark_two(pilot: Pilot) -> None:
            await settle(pilot.app, pilot)
            await pilot.press("u")  # open the browser on the current folder
            await settle(pilot.app, pilot)
            await pilot.press("down", "space")  # mark notes.txt
            await pilot.press("down", "down", "space")  # mark report.pdf
            await settle(pilot.app, pilot)

        assert snap_compare(direct(seeded), run_before=mark_two, terminal_size=(100, 30))

    def test_upload_at_80x24(self, seeded: Vault, local: Path, snap_compare) -> None:
        async def open_browser(pilot: Pilot) -> None:
            await settle(pilot.app, pilot)
            await pilot.press("u")  # open the browser on the current folder
            await settle(pilot.app, pilot)
            await pilot.press("down", "space")  # mark notes.txt
            await settle(pilot.app, pilot)

        assert snap_compare(direct(seeded), run_before=open_browser, terminal_size=(80, 24))
