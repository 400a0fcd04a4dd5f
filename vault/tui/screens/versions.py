"""Every version of one of my files, each downloadable."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from vault.client import VaultClient
from vault.core.errors import VaultError
from vault.core.models import FileEntry, User, Version
from vault.format import human_size, short_time
from vault.tui.screens.download import DownloadDialog
from vault.tui.widgets.key_bar import KeyBar
from vault.tui.wording import error_text


class VersionsDialog(ModalScreen[None]):
    """Newest version first, as the core lists them; Enter or `d` downloads the highlighted one.

    The owner sees every version; someone the file is shared with sees only the current one
    (the core's rule), and is told so.
    """

    AUTO_FOCUS = "#version-table"
    # Priority, and the download dialog awaited: keys typed after d or Enter go to that dialog.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "download", "Download version", priority=True),
        Binding("enter", "download", "Download version", show=False, priority=True),
        Binding("escape,v", "close", "Close", priority=True),
        # The table's moves at the same priority, so they keep their order with d and Enter.
        Binding("up,k", "move('up')", "Up", show=False, priority=True),
        Binding("down,j", "move('down')", "Down", show=False, priority=True),
    ]

    def __init__(self, client: VaultClient, user: User, entry: FileEntry) -> None:
        super().__init__()
        self.client = client
        self.user = user
        self.entry = entry
        self.versions: list[Version] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="versions"):
            yield Static(f"Versions of {self.entry.name}", classes="dialog-title", markup=False)
            yield DataTable(id="version-table", cursor_type="row")
            if not self.entry.is_owned_by(self.user):
                yield Static(f"{self.entry.owner} shares only the current version with you.")
            yield Static("Enter or d downloads · Esc closes", classes="dialog-hint")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Version", key="number")
        table.add_column("Size", key="size")
        table.add_column("Uploaded (UTC)", key="uploaded")
        table.add_column("SHA-256", key="sha")
        self._load()

    @work(thread=True, exclusive=True, group="versions")
    def _load(self) -> None:
        try:
            found = self.client.versions(self.entry.id)
        except VaultError as e:
            self.notify(error_text(e, self.entry), severity="error", markup=False)
            return
        self.app.call_from_thread(self._show, found)

    def _show(self, found: list[Version]) -> None:
        self.versions = found
        current = max((ver.number for ver in found), default=None)
        table = self.query_one(DataTable)
        table.clear()
        for ver in self.versions:
            table.add_row(
                f"{ver.number} (current)" if ver.number == current else str(ver.number),
                human_size(ver.size),
                short_time(ver.uploaded_at),
                ver.sha256[:12],
                key=str(ver.number),
            )

    def action_move(self, direction: str) -> None:
        table = self.query_one(DataTable)
        if direction == "up":
            table.action_cursor_up()
        else:
            table.action_cursor_down()

    async def action_download(self) -> None:
        table = self.query_one(DataTable)
        if not self.versions:
            return
        ver = self.versions[table.cursor_row]

        def done(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Saved version {ver.number} to {path}", markup=False)

        await self.app.push_screen(
            DownloadDialog(self.client, self.entry, Path.cwd(), version=ver.number, size=ver.size),
            done,
        )

    def action_close(self) -> None:
        self.dismiss(None)
