"""Upload several local files: pick them in a browser or type paths, watch each one land."""

from __future__ import annotations

import os
import shlex
from functools import partial
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlparse

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, ProgressBar, Static

from vault.client import VaultClient
from vault.core.errors import Cancelled, VaultError
from vault.tui.widgets.pick_tree import PickTree
from vault.tui.widgets.transfer import ProgressRelay, Rate, TransferRow
from vault.tui.wording import count


def split_paths(text: str, base: Path) -> list[Path]:
    """One pasted path (spaces and all), or several quoted the way a shell or a drop would."""
    text = text.strip()
    if not text:
        return []
    one = Path(os.path.expanduser(text))
    if (base / one).exists():
        return [Path(os.path.abspath(base / one))]
    try:
        words = shlex.split(text)
    except ValueError:
        words = [text]
    found = []
    for word in words:
        if word.startswith("file://"):
            word = unquote(urlparse(word).path)
        found.append(Path(os.path.abspath(base / os.path.expanduser(word))))
    return found


class UploadScreen(Screen[int]):
    """Dismisses with how many files were stored."""

    AUTO_FOCUS = "#picker"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Upload"),
        Binding("escape", "cancel", "Cancel / close"),
        Binding("ctrl+l", "focus_path", "Type a path"),
    ]

    def __init__(self, client: VaultClient, folder: Path) -> None:
        super().__init__()
        self.client = client
        self.folder = Path(os.path.abspath(folder))
        self.chosen: dict[Path, int] = {}
        """Files picked, with their size, in the order picked."""
        self.stored: set[Path] = set()
        """Files already uploaded by this screen (not sent twice)."""
        self.uploading = False

    def compose(self) -> ComposeResult:
        yield Static(
            "Upload — space marks files, Enter adds a typed path, Ctrl+S uploads",
            id="upload-title",
        )
        with Horizontal(id="upload-body"):
            yield PickTree(self.folder, id="picker")
            with Vertical(id="upload-side"):
                yield Static("Chosen files", classes="pane-title")
                yield VerticalScroll(id="chosen")
                yield ProgressBar(total=1, show_eta=False, id="overall")
                yield Static("Nothing chosen yet", id="overall-status", markup=False)
                yield Button("Upload", variant="primary", id="upload-start")
        yield Input(placeholder="Type or paste a path (or several, quoted), Enter adds", id="path")
        yield Static("", classes="dialog-error", id="upload-error", markup=False)
        yield Footer()

    # -- choosing -------------------------------------------------------------------------------

    @on(PickTree.Toggled)
    def _toggled(self, event: PickTree.Toggled) -> None:
        path = Path(os.path.abspath(event.path))
        if path in self.chosen:
            self.unchoose(path)
        else:
            self.choose([path])

    @on(Input.Submitted, "#path")
    def _typed(self, event: Input.Submitted) -> None:
        paths = split_paths(event.value, self.folder)
        if self.choose(paths):
            event.input.value = ""

    def choose(self, paths: list[Path]) -> bool:
        """Add files to the list; a missing one or a folder is refused with a reason."""
        error = self.query_one("#upload-error", Static)
        if self.uploading:
            error.update("Wait for the upload to finish (or Esc to cancel it)")
            return False
        for path in paths:
            if path.is_dir():
                error.update(f"{path} is a folder; mark the files in it")
                return False
            if not path.is_file():
                error.update(f"No such file: {path}")
                return False
        error.update("")
        rows = self.query_one("#chosen", VerticalScroll)
        for path in paths:
            if path not in self.chosen:
                self.chosen[path] = path.stat().st_size
                rows.mount(TransferRow(path.name, self.chosen[path], id=self._row_id(path)))
        self._chosen_changed()
        return bool(paths)

    def unchoose(self, path: Path) -> None:
        if self.uploading or path in self.stored:
            return
        self.chosen.pop(path, None)
        self.query_one(f"#{self._row_id(path)}").remove()
        self._chosen_changed()

    def _row_id(self, path: Path) -> str:
        return f"row-{abs(hash(path))}"

    def _chosen_changed(self) -> None:
        self.query_one(PickTree).set_marked(self.chosen)
        pending = [p for p in self.chosen if p not in self.stored]
        total = sum(self.chosen[p] for p in pending)
        self.query_one("#overall-status", Static).update(
            f"{count(len(pending), 'file')} to upload" if pending else "Nothing chosen yet"
        )
        self.query_one("#overall", ProgressBar).update(total=total or 1, progress=0)

    def action_focus_path(self) -> None:
        self.query_one("#path", Input).focus()

    # -- uploading ------------------------------------------------------------------------------

    @on(Button.Pressed, "#upload-start")
    def action_start(self) -> None:
        pending = [(p, self.chosen[p]) for p in self.chosen if p not in self.stored]
        if self.uploading:
            return
        if not pending:
            self.query_one("#upload-error", Static).update(
                "Mark files with space, or type a path and press Enter"
            )
            return
        self.uploading = True
        self.query_one("#upload-error", Static).update("")
        self._upload(pending)

    @work(thread=True, exclusive=True, group="upload")
    def _upload(self, pending: list[tuple[Path, int]]) -> None:
        """One file after another; a failure is reported and the next file still goes.

        Only the client is called here; every widget and `stored` change is made by the
        methods handed to `call_from_thread`, on the event loop.
        """
        total = sum(size for _, size in pending)
        rate = Rate()
        base = 0
        failed = 0
        cancelled = False
        for path, size in pending:
            update = partial(self._progress, path, base, total, rate)
            try:
                self.client.upload(path, progress=ProgressRelay(self.app, update))
            except Cancelled:
                self.app.call_from_thread(self._file_done, path, base, "cancelled")
                cancelled = True
                break
            except VaultError as e:
                failed += 1
                self.notify(f"{path.name}: {e}", severity="error", markup=False)
                self.app.call_from_thread(self._file_done, path, base + size, "failed")
            else:
                self.app.call_from_thread(self._file_done, path, base + size, "stored")
            base += size
        self.app.call_from_thread(self._finished, failed, cancelled)

    def _row(self, path: Path) -> TransferRow:
        return self.query_one(f"#{self._row_id(path)}", TransferRow)

    def _progress(self, path: Path, base: int, total: int, rate: Rate, done: int) -> None:
        self._row(path).advance_to(done)
        self.query_one("#overall", ProgressBar).update(progress=base + done)
        self.query_one("#overall-status", Static).update(rate.describe(base + done, total))

    def _file_done(self, path: Path, base: int, status: str) -> None:
        """`status` is `stored`, `failed` or `cancelled`; `base`: bytes of the files done."""
        if status == "stored":
            self.stored.add(path)
        self._row(path).finish(status, ok=status == "stored")
        self.query_one("#overall", ProgressBar).update(progress=base)

    def _finished(self, failed: int, cancelled: bool) -> None:
        self.uploading = False
        if cancelled:
            self.query_one("#overall-status", Static).update(
                f"Cancelled; {len(self.stored)} stored, the rest not uploaded"
            )
        elif failed:
            self.query_one("#overall-status", Static).update(
                f"{len(self.stored)} stored, {failed} failed; Ctrl+S retries, Esc closes"
            )
        else:
            self.dismiss(len(self.stored))

    def action_cancel(self) -> None:
        if self.uploading:
            self.query_one("#overall-status", Static).update("Cancelling…")
            self.workers.cancel_group(self, "upload")
        else:
            self.dismiss(len(self.stored))
