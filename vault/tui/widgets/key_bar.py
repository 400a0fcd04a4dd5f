"""A footer that wraps its keys onto a second row instead of cutting them off at 80 columns."""

from __future__ import annotations

from math import ceil

from textual.app import ComposeResult
from textual.widgets import Footer


class KeyBar(Footer):
    """Footer laid out as a grid of equal cells, two rows high.

    The keys fill both rows (as many columns as half the keys, at least `min_columns`), so the
    fewer keys a screen offers, the wider each cell and the less any description is cut. Two
    rows also cover a two-row footer beneath a dialog entirely.
    """

    DEFAULT_CSS = """
    KeyBar {
        layout: grid;
        grid-gutter: 0 0;
        height: 2;
    }
    KeyBar FooterKey { width: 1fr; }
    KeyBar FooterKey.-command-palette { dock: none; border-left: none; padding: 0; }
    """

    def __init__(self, min_columns: int = 4, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True)
        self.min_columns = min_columns
        """Cells per row however few the keys (a lone key does not stretch across the row)."""

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        # Footer sets one column per key; override it after it has
        self.styles.grid_size_columns = max(self.min_columns, ceil(len(keys) / 2))
        yield from keys
