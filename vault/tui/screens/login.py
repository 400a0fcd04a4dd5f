"""Log in, or create an account: the first screen unless a saved session is still valid."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from vault.client import VaultClient
from vault.core.errors import VaultError
from vault.tui.messages import LoggedIn


class LoginScreen(Screen[None]):
    """Username and password; Enter in the password field submits."""

    AUTO_FOCUS = "#username"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "toggle_mode", "Log in / new account"),
        Binding("ctrl+q", "app.quit", "Quit"),
        # Priority: handled the moment the key arrives, before keys typed after it are routed,
        # so a password manager's `name<Tab>password<Enter>` burst lands in the right fields.
        Binding("tab", "move_focus(1)", "Next field", show=False, priority=True),
        Binding("shift+tab", "move_focus(-1)", "Previous field", show=False, priority=True),
        Binding("enter", "enter", "Next field / submit", show=False, priority=True),
    ]

    registering: reactive[bool] = reactive(False)
    """Create an account instead of logging in."""

    def __init__(self, client: VaultClient) -> None:
        super().__init__()
        self.client = client

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static("vault", id="login-title")
            yield Static("Log in to your vault", id="login-subtitle")
            yield Input(placeholder="Username", id="username")
            yield Input(placeholder="Password", password=True, id="password")
            yield Input(placeholder="Repeat the password", password=True, id="repeat")
            yield Static("", id="login-error", markup=False)
            with Horizontal(id="login-buttons"):
                yield Button("Log in", variant="primary", id="submit")
                yield Button("Create an account", id="switch")
        yield Footer()

    def watch_registering(self, registering: bool) -> None:
        repeat = self.query_one("#repeat", Input)
        repeat.value = ""
        repeat.display = registering
        self.query_one("#login-subtitle", Static).update(
            "Create an account" if registering else "Log in to your vault"
        )
        # The rules as placeholders: the form stays short enough for 80x24.
        self.query_one("#username", Input).placeholder = (
            "Username (letters, digits, . _ -)" if registering else "Username"
        )
        self.query_one("#password", Input).placeholder = (
            "Password (6 characters or more)" if registering else "Password"
        )
        self.query_one("#submit", Button).label = "Create account" if registering else "Log in"
        self.query_one("#switch", Button).label = (
            "I have an account" if registering else "Create an account"
        )
        self.show_error("")

    def action_toggle_mode(self) -> None:
        self.registering = not self.registering

    @on(Button.Pressed, "#switch")
    def _switch(self) -> None:
        self.action_toggle_mode()

    def action_move_focus(self, direction: int) -> None:
        if direction > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def action_enter(self) -> None:
        """Enter in a field before the last moves on at once; in the last it submits.

        In the last field Enter must wait behind the characters typed before it, so it goes
        the ordinary way (Input.Submitted), in order with them.
        """
        focused = self.focused
        if focused is self.query_one("#username"):
            self.set_focus(self.query_one("#password", Input))  # now, not after a refresh
        elif focused is self.query_one("#password") and self.registering:
            self.set_focus(self.query_one("#repeat", Input))
        else:
            raise SkipAction()

    @on(Input.Submitted, "#password")
    @on(Input.Submitted, "#repeat")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        name = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not name:
            self.show_error("Enter your username")
            return
        if self.registering and self.query_one("#repeat", Input).value != password:
            for field in self.query("#password, #repeat").results(Input):
                field.value = ""
            self.set_focus(self.query_one("#password", Input))
            self.show_error("The two passwords differ; type the same password twice")
            return
        self.show_error("Creating your account…" if self.registering else "Logging in…", busy=True)
        self._authenticate(name, password, self.registering)

    def show_error(self, text: str, busy: bool = False) -> None:
        error = self.query_one("#login-error", Static)
        error.update(text)
        error.set_class(busy, "-busy")

    @work(thread=True, exclusive=True, group="login")
    def _authenticate(self, name: str, password: str, register: bool) -> None:
        """argon2 is slow on purpose: keep it off the event loop."""
        try:
            if register:
                self.client.register(name, password)
            user = self.client.login(name, password)
        except VaultError as e:
            self.app.call_from_thread(self.show_error, str(e))
            return
        self.post_message(LoggedIn(user))
