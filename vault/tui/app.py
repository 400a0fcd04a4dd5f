"""Wiring: the App, the `make_app` factory (tests, CLI) and `run` (the CLI's entry point)."""

from __future__ import annotations

from textual import work
from textual.app import App

from vault.client import VaultClient
from vault.core.errors import NotLoggedIn, VaultError
from vault.tui.messages import LoggedIn, LoggedOut
from vault.tui.screens.files import FilesScreen
from vault.tui.screens.login import LoginScreen


class VaultApp(App[int]):
    """Opens on the login screen, or straight on the files if the saved session is valid."""

    CSS_PATH = "vault.tcss"
    TITLE = "vault"

    def __init__(self, client: VaultClient) -> None:
        super().__init__()
        self.client = client
        """Where the vault is (in this process, or a daemon): screens receive it from here."""

    def on_mount(self) -> None:
        # The form is there from the first frame, so typed-ahead keys land in it.
        self.push_screen(LoginScreen(self.client))
        self._restore_session()

    @work(thread=True, exclusive=True, group="session")
    def _restore_session(self) -> None:
        try:
            user = self.client.whoami()
        except NotLoggedIn:
            return
        except VaultError as e:
            self.notify(str(e), severity="error", markup=False)
            return
        self.post_message(LoggedIn(user))

    def on_logged_in(self, message: LoggedIn) -> None:
        if isinstance(self.screen, LoginScreen):
            self.switch_screen(FilesScreen(self.client, message.user))

    def on_logged_out(self, message: LoggedOut) -> None:
        if isinstance(self.screen, LoginScreen):
            return  # already out: the watch and a reload can both notice a session ended
        while len(self.screen_stack) > 2:  # close dialogs above the files screen
            self.pop_screen()
        self.switch_screen(LoginScreen(self.client))
        if message.reason:
            self.notify(message.reason, severity="warning", markup=False)


def make_app(client: VaultClient) -> VaultApp:
    """The app for a client, direct or daemon (the CLI and the tests both build it here)."""
    return VaultApp(client)


def run(client: VaultClient) -> int:
    """Run the TUI until the user quits; returns the process exit code."""
    app = make_app(client)
    app.run()
    return app.return_code or 0
