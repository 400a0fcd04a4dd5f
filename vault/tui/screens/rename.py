"""Rename one of my files; the core's naming rules answer inline."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from vault.client import VaultClient
from vault.core.errors import VaultError
from vault.core.models import FileEntry
from vault.tui.widgets.key_bar import KeyBar
from vault.tui.wording import error_text


class RenameDialog(ModalScreen[FileEntry | None]):
    """Dismisses with the renamed entry, or None when cancelled."""

    AUTO_FOCUS = "#new-name"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", priority=True)]

    def __init__(self, client: VaultClient, entry: FileEntry) -> None:
        super().__init__()
        self.client = client
        self.entry = entry

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rename"):
            yield Static(f"Rename {self.entry.name}", classes="dialog-title", markup=False)
            yield Input(self.entry.name, id="new-name")
            yield Static("", classes="dialog-error", id="rename-error", markup=False)
            yield Static("Enter renames · Esc cancels", classes="dialog-hint")
        yield KeyBar()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if event.value == self.entry.name:
            self.dismiss(None)
        else:
            self._rename(event.value)

    @work(thread=True, exclusive=True, group="rename")
    def _rename(self, name: str) -> None:
        try:
            renamed = self.client.rename(self.entry.id, name)
        except VaultError as e:
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self.dismiss, renamed)

    def _failed(self, error: VaultError) -> None:
        self.query_one("#rename-error", Static).update(error_text(error, self.entry))

    def action_cancel(self) -> None:
        self.dismiss(None)
