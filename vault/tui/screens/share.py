"""Share one of my files: pick a user (with completion), see and revoke current recipients."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from vault.client import VaultClient
from vault.core.errors import VaultError
from vault.core.models import FileEntry, User
from vault.tui.widgets.key_bar import KeyBar
from vault.tui.wording import error_text


class RecipientList(OptionList):
    """Current recipients; `x` or Delete revokes the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x,delete,backspace", "screen.revoke", "Revoke", show=False),
    ]


class ShareDialog(ModalScreen[None]):
    """Changes apply at once; Esc closes."""

    AUTO_FOCUS = "#recipient"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", priority=True),
        # priority: the recipient Input has focus and binds ctrl+x to "cut"
        Binding("ctrl+x", "revoke", "Revoke selected", priority=True),
        Binding("down", "to_matches", "Matches", show=False),
    ]

    def __init__(self, client: VaultClient, user: User, entry: FileEntry) -> None:
        super().__init__()
        self.client = client
        self.user = user
        self.entry = entry
        self.recipients: list[User] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="share"):
            yield Static(f"Share {self.entry.name}", classes="dialog-title", markup=False)
            yield Input(placeholder="Username to share with (→ completes)", id="recipient")
            yield OptionList(id="matches")
            yield Static("", classes="dialog-error", id="share-error", markup=False)
            yield Static("Shared with:")
            yield RecipientList(id="recipients")
            yield Static(
                "Enter shares · ↓ picks a match · x in the list revokes",
                classes="dialog-hint",
            )
        yield KeyBar()

    def on_mount(self) -> None:
        self._load_recipients()
        self._complete("")

    # -- completion -----------------------------------------------------------------------------

    @on(Input.Changed, "#recipient")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#share-error", Static).update("")
        self._complete(event.value.strip())

    @work(thread=True, exclusive=True, group="share-complete")
    def _complete(self, prefix: str) -> None:
        try:
            names = self.client.usernames(prefix)
        except VaultError as e:
            self.notify(str(e), severity="error", markup=False)
            return
        names = [n for n in names if n.lower() != self.user.username.lower()]
        self.app.call_from_thread(self._show_matches, prefix, names)

    def _show_matches(self, prefix: str, names: list[str]) -> None:
        box = self.query_one("#recipient", Input)
        box.suggester = SuggestFromList(names, case_sensitive=False)
        matches = self.query_one("#matches", OptionList)
        matches.clear_options()
        matches.add_options([Option(Text(n), id=n) for n in names])
        matches.display = bool(names)

    def action_to_matches(self) -> None:
        matches = self.query_one("#matches", OptionList)
        if self.focused is self.query_one("#recipient") and matches.option_count:
            matches.focus()
            matches.highlighted = 0
        else:
            self.focus_next()

    @on(OptionList.OptionSelected, "#matches")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.query_one("#recipient", Input).focus()
            self._share(event.option.id)

    @on(Input.Submitted, "#recipient")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._share(event.value.strip())

    # -- changes --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="share-change")
    def _share(self, username: str) -> None:
        try:
            _, other = self.client.share(self.entry.id, username)
            recipients = self.client.recipients(self.entry.id)
        except VaultError as e:
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self._shared, other, recipients)

    def _shared(self, other: User, recipients: list[User]) -> None:
        self.notify(f"Shared {self.entry.name} with {other.username}", markup=False)
        self.query_one("#recipient", Input).value = ""
        self._show_recipients(recipients)

    def action_revoke(self) -> None:
        recipients = self.query_one("#recipients", RecipientList)
        index = recipients.highlighted
        if index is None or not self.recipients:
            self.query_one("#share-error", Static).update("Select a recipient to revoke")
            return
        self._revoke(self.recipients[index])

    @work(thread=True, exclusive=True, group="share-change")
    def _revoke(self, other: User) -> None:
        try:
            self.client.unshare(self.entry.id, other.id)
            recipients = self.client.recipients(self.entry.id)
        except VaultError as e:
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self._revoked, other, recipients)

    def _revoked(self, other: User, recipients: list[User]) -> None:
        self.notify(f"{other.username} can no longer see {self.entry.name}", markup=False)
        self._show_recipients(recipients)

    @work(thread=True, exclusive=True, group="share-load")
    def _load_recipients(self) -> None:
        try:
            recipients = self.client.recipients(self.entry.id)
        except VaultError as e:
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self._show_recipients, recipients)

    def _show_recipients(self, recipients: list[User]) -> None:
        self.recipients = recipients
        box = self.query_one("#recipients", RecipientList)
        box.clear_options()
        if recipients:
            box.add_options([Option(Text(u.username), id=str(u.id)) for u in recipients])
            box.highlighted = 0
        else:
            box.add_option(Option("Not shared with anyone yet", disabled=True))

    def _failed(self, error: VaultError) -> None:
        self.query_one("#share-error", Static).update(error_text(error, self.entry))

    def action_close(self) -> None:
        self.dismiss(None)
