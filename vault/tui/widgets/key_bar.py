"""A footer that wraps its keys onto a second row instead of cutting them off at 80 columns."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer


class KeyBar(Footer):
    """Footer laid out as a grid of `columns` equal cells (two rows for up to 2 x columns keys)."""

    DEFAULT_CSS = """
    KeyBar {
        layout: grid;
        grid-gutter: 0 0;
        height: 2;
    }
    KeyBar FooterKey { width: 1fr; }
    KeyBar FooterKey.-command-palette { dock: none; border-left: none; padding: 0; }
    """

    def __init__(self, columns: int = 7, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True)
        self.columns = columns
        """Cells per row."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        # Footer sets one column per key; override it after it has
        self.styles.grid_size_columns = self.columns
