"""Every version of one of my files, each downloadable."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from vault.core import Vault, files
from vault.core.errors import VaultError
from vault.core.models import FileEntry, User, Version
from vault.format import human_size, short_time
from vault.tui.screens.download import DownloadDialog
from vault.tui.wording import error_text


class VersionsDialog(ModalScreen[None]):
    """Newest version first, as the core lists them; Enter or `d` downloads the highlighted one.

    The owner sees every version; someone the file is shared with sees only the current one
    (the core's rule), and is told so.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "download", "Download version"),
        Binding("escape,v", "close", "Close"),
    ]

    def __init__(self, vault: Vault, user: User, entry: FileEntry) -> None:
        super().__init__()
        self.vault = vault
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
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Version", key="number")
        table.add_column("Size", key="size")
        table.add_column("Uploaded (UTC)", key="uploaded")
        table.add_column("SHA-256", key="sha")
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="versions")
    def _load(self) -> None:
        try:
            found = files.versions(self.vault, self.user, self.entry.id)
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

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_download()

    def action_download(self) -> None:
        table = self.query_one(DataTable)
        if not self.versions:
            return
        ver = self.versions[table.cursor_row]

        def done(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Saved version {ver.number} to {path}", markup=False)

        self.app.push_screen(
            DownloadDialog(
                self.vault, self.user, self.entry, Path.cwd(), version=ver.number, size=ver.size
            ),
            done,
        )

    def action_close(self) -> None:
        self.dismiss(None)
