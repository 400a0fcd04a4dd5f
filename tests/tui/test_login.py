"""Login and registration: inline errors, typing ahead, sessions kept and ended."""

from __future__ import annotations

import pytest
from support import ALICE_PW
from tui.tui_support import burst, settle, wait_for

from vault.client import VaultClient
from vault.core import Vault, sessions, throttle, users
from vault.core.errors import NoSuchUser, NotLoggedIn
from vault.core.models import User
from vault.tui.app import make_app
from vault.tui.screens.files import FilesScreen
from vault.tui.screens.login import LoginScreen

pytestmark = pytest.mark.anyio


def error_text(app) -> str:
    return str(app.screen.query_one("#login-error").render())


async def test_register_opens_files_and_saves_session(client: VaultClient, v: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        await pilot.press("ctrl+n")  # switch to registering
        await pilot.press(*"han", "tab", *"han123", "enter", *"han123", "enter")  # twice
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert app.screen.sub_title == "han"
        assert users.find(v, "han").username == "han"
        assert sessions.load_token(client.place) is not None
        assert client.whoami().username == "han"


async def test_login(client: VaultClient, v: Vault, alice: User) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#username")
        burst(app, [*"alice", "enter", *ALICE_PW, "enter"])  # Enter moves on, too
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert app.screen.user == alice
        assert sessions.load_token(client.place) is not None


async def test_wrong_password_shows_inline_and_keeps_focus(
    client: VaultClient, v: Vault, alice: User
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, [*"alice", "tab", *"not-her-password", "enter"])
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "Wrong username or password" in error_text(app)
        assert app.focused is app.screen.query_one("#password")
        assert sessions.load_token(client.place) is None


async def test_register_errors_inline(client: VaultClient, v: Vault, alice: User) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+n")
        burst(app, [*"ALICE", "tab", *"whatever1", "tab", *"whatever1", "enter"])  # taken
        await settle(app, pilot)
        assert "already taken" in error_text(app)
        await pilot.press("shift+tab", "shift+tab", "ctrl+u")  # back to the username
        burst(app, [*"no spaces", "enter", "enter", "enter"])  # on to the end, then submit
        await settle(app, pilot)
        assert "username is 1 to 64 characters" in error_text(app)
        await pilot.press("shift+tab", "shift+tab", "ctrl+u")  # back to the username
        burst(app, [*"carol", "tab"])
        await pilot.press("ctrl+u")
        burst(app, [*"abc", "tab"])
        await pilot.press("ctrl+u")
        burst(app, [*"abc", "enter"])
        await settle(app, pilot)
        assert "6 to 1024 characters" in error_text(app)
        assert app.focused is app.screen.query_one("#repeat")
        assert isinstance(app.screen, LoginScreen)


async def test_register_asks_twice_and_refuses_a_mismatch(client: VaultClient, v: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        assert not app.screen.query_one("#repeat").display  # logging in: one password
        await pilot.press("ctrl+n")
        assert app.screen.query_one("#repeat").display
        burst(app, [*"han", "tab", *"han123", "tab", *"han124", "enter"])
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        assert error_text(app) == "The two passwords differ; type the same password twice"
        assert app.screen.query_one("#password").value == ""
        assert app.screen.query_one("#repeat").value == ""
        assert app.focused is app.screen.query_one("#password")
        with pytest.raises(NoSuchUser):
            users.find(v, "han")
        burst(app, [*"han123", "enter", *"han123", "enter"])
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert users.find(v, "han").username == "han"


async def test_too_many_attempts(client: VaultClient, v: Vault, alice: User) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, [*"alice", "tab"])
        for _ in range(throttle.ACCOUNT_FREE):
            await pilot.press("ctrl+u")
            burst(app, [*"wrong-pw", "enter"])
            await settle(app, pilot)
        await pilot.press("ctrl+u")
        burst(app, [*ALICE_PW, "enter"])
        await settle(app, pilot)
        assert "Too many failed logins" in error_text(app)
        assert isinstance(app.screen, LoginScreen)


async def test_typing_ahead_lands_in_the_right_fields(
    client: VaultClient, v: Vault, alice: User
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, [*"alice", "tab", *ALICE_PW, "enter"])
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen), error_text(app)
        assert app.screen.user.username == "alice"


async def test_session_kept_across_restarts_then_logout(
    client: VaultClient, v: Vault, alice: User
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, [*"alice", "tab", *ALICE_PW, "enter"])
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
    token = sessions.load_token(client.place)
    assert token is not None

    app = make_app(client)  # a new run: straight to the files
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        assert app.screen.user.username == "alice"
        await pilot.press("l")  # log out
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
    assert sessions.load_token(client.place) is None
    with pytest.raises(NotLoggedIn):
        sessions.resolve(v, token)


async def test_session_revoked_elsewhere_returns_to_login(
    client: VaultClient, v: Vault, alice: User, alice_session: str
) -> None:
    app = make_app(client)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, FilesScreen)
        sessions.revoke(v, alice)  # e.g. `vault sessions revoke --all` in another terminal
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")


async def test_register_form_fits_80x24(client: VaultClient, v: Vault) -> None:
    app = make_app(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        box = app.screen.query_one("#login-box")
        assert box.region.y >= 0 and box.region.bottom <= 23  # above the footer
        assert box.max_scroll_y == 0  # nothing scrolled out of sight
