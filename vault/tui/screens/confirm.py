"""Ask before deleting: a file and all its versions go, and its recipients lose it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from vault.core.models import FileEntry
from vault.tui.widgets.key_bar import KeyBar


class ConfirmDelete(ModalScreen[bool]):
    """Dismisses with True to delete."""

    AUTO_FOCUS = "#no"

    # Priority (as for every dialog's closing keys): the dialog closes the moment the key
    # arrives, so the keys typed after it reach the screen beneath, in order.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Delete", priority=True),
        Binding("n,escape", "answer(False)", "Keep", priority=True),
    ]

    def __init__(self, entry: FileEntry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        e = self.entry
        versions = f"all {e.versions} versions" if e.versions > 1 else "its only version"
        shared = f" {', '.join(e.shared_with)} will lose access." if e.shared_with else ""
        with Vertical(classes="dialog", id="confirm-delete"):
            yield Static(f"Delete {e.name}?", classes="dialog-title", markup=False)
            yield Static(f"This removes {versions}.{shared}", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete (y)", variant="error", id="yes")
                yield Button("Keep (n)", id="no")
        yield KeyBar()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
