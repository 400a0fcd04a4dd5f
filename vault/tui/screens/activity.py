"""The audit log as the user may see it: their acts, acts on their files, acts aimed at them."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

from vault.client import VaultClient
from vault.core.errors import VaultError
from vault.core.models import Event
from vault.tui.widgets.key_bar import KeyBar

LIMIT = 200


class ActivityScreen(ModalScreen[None]):
    """Newest first; Esc closes."""

    AUTO_FOCUS = "#events"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,g,q", "close", "Close", priority=True),
        Binding("ctrl+r", "reload", "Refresh"),
    ]

    def __init__(self, client: VaultClient) -> None:
        super().__init__()
        self.client = client

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="activity"):
            yield Static("Activity", classes="dialog-title")
            yield OptionList(id="events")
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="activity")
    def _load(self) -> None:
        try:
            recent = self.client.recent_events(LIMIT)
        except VaultError as e:
            self.notify(str(e), severity="error", markup=False)
            return
        self.app.call_from_thread(self._show, recent)

    def _show(self, recent: list[Event]) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Text(e.describe()) for e in recent] or [Text("Nothing yet")])

    def action_close(self) -> None:
        self.dismiss(None)
