"""Download one file (or one version) into a local folder; never overwrites."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, ProgressBar, Static
from textual.worker import get_current_worker

from vault.client import VaultClient
from vault.core.errors import Cancelled, VaultError
from vault.core.models import FileEntry
from vault.tui.widgets.key_bar import KeyBar
from vault.tui.widgets.transfer import ProgressRelay, Rate
from vault.tui.wording import error_text


class FolderTree(DirectoryTree):
    """Local folders only (hidden ones left out): where a download may go."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and p.is_dir()]


class DownloadDialog(ModalScreen[Path | None]):
    """Dismisses with the path written (the core picks `name (1).ext` if taken), or None."""

    AUTO_FOCUS = "#folder"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", priority=True)]

    def __init__(
        self,
        client: VaultClient,
        entry: FileEntry,
        folder: Path,
        version: int | None = None,
        size: int | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.entry = entry
        self.folder = folder
        self.version = version
        self.total = entry.size if size is None else size

    def compose(self) -> ComposeResult:
        which = f" (version {self.version})" if self.version is not None else ""
        with Vertical(classes="dialog", id="download"):
            yield Static(f"Download {self.entry.name}{which}", classes="dialog-title", markup=False)
            yield Static("Into this folder (pick below or type a path):")
            yield Input(str(self.folder), id="folder")
            yield FolderTree(self.folder, id="folders")
            yield ProgressBar(total=self.total or 1, show_eta=False, id="download-bar")
            yield Static("", id="download-status", markup=False)
            yield Static("", classes="dialog-error", id="download-error", markup=False)
            yield Static("Enter downloads · Esc cancels", classes="dialog-hint")
        yield KeyBar()

    @on(DirectoryTree.DirectorySelected)
    def _picked(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one("#folder", Input).value = str(event.path)

    @on(Input.Submitted, "#folder")
    def start(self) -> None:
        folder = Path(self.query_one("#folder", Input).value.strip() or ".").expanduser()
        self.query_one("#download-error", Static).update("")
        self._download(folder)

    @work(thread=True, exclusive=True, group="download")
    def _download(self, folder: Path) -> None:
        """Only the client is called here; the widgets change on the event loop."""
        update = partial(self._progress, Rate())
        try:
            path = self.client.download(
                self.entry.id,
                folder,
                version=self.version,
                progress=ProgressRelay(self.app, update),
            )
        except Cancelled:
            return
        except VaultError as e:
            self.app.call_from_thread(self._failed, e)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.dismiss, path)

    def _progress(self, rate: Rate, done: int) -> None:
        self.query_one("#download-bar", ProgressBar).update(progress=done)
        self.query_one("#download-status", Static).update(rate.describe(done, self.total))

    def _failed(self, error: VaultError) -> None:
        self.query_one("#download-error", Static).update(error_text(error, self.entry))

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "download")
        self.dismiss(None)
