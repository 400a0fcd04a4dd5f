"""Progress of one transfer: a callback for the core, and a row to show it."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar
from textual.worker import get_current_worker

from vault.core.errors import Cancelled
from vault.format import human_rate, human_size


class ProgressRelay:
    """The core's `Progress` callback, for a thread worker.

    Forwards bytes done to the event loop at most every `every` seconds (a callback per 16 MiB
    window would be fine, but pipes report far more often), and raises `Cancelled` once the
    worker is cancelled so the core discards what it wrote.
    """

    def __init__(self, app: App[object], update: Callable[[int], None], every: float = 0.05):
        self._app = app
        self._update = update
        self._every = every
        self._last = 0.0
        self._worker = get_current_worker()

    def __call__(self, done: int) -> None:
        if self._worker.is_cancelled:
            raise Cancelled()
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._app.call_from_thread(self._update, done)


class Rate:
    """Throughput since `start`, for "12 MiB of 40 MiB · 85 MiB/s" lines."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def describe(self, done: int, total: int) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-6)
        return f"{human_size(done)} of {human_size(total)} · {human_rate(done / elapsed)}"


class TransferRow(Vertical):
    """One file: its name, a bar, and a status (size, done, or what went wrong)."""

    DEFAULT_CSS = """
    TransferRow { height: 2; }
    TransferRow > Horizontal { height: 1; }
    TransferRow .transfer-name { width: 1fr; text-style: bold; }
    TransferRow .transfer-status { width: auto; padding-left: 1; color: $text-muted; }
    TransferRow ProgressBar { width: 100%; }
    TransferRow ProgressBar Bar { width: 1fr; }
    """

    def __init__(self, name: str, total: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.file_name = name
        """What is being transferred (shown as is, never as markup)."""
        self.total = total
        """Bytes expected."""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.file_name, classes="transfer-name", markup=False)
            yield Label(human_size(self.total), classes="transfer-status", markup=False)
        yield ProgressBar(total=self.total or 1, show_eta=False)

    def advance_to(self, done: int) -> None:
        self.query_one(ProgressBar).update(progress=done if self.total else 0)

    def finish(self, status: str, ok: bool = True) -> None:
        if ok:
            self.query_one(ProgressBar).update(progress=self.total or 1)
        self.query_one(".transfer-status", Label).update(status)
        self.set_class(not ok, "-failed")
