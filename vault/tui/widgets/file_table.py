"""A table of vault files that draws only the rows on screen.

Textual's DataTable measures every cell as rows are added: 100,000 rows take about ten
seconds. This widget keeps the `FileEntry` list as it is and renders the visible lines on
demand (the Line API), so loading, sorting and filtering cost a list operation each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vault.core.models import FileEntry
from vault.core.names import sort_key
from vault.format import human_size, short_time


@dataclass(frozen=True)
class Column:
    key: str
    """What the column sorts by: `name`, `size`, `uploaded` or `other`."""
    label: str
    """Header text."""
    width: int
    """Cells; 0 means "share what is left"."""
    right: bool = False
    """Right-align (numbers)."""


def _other(entry: FileEntry, own: bool) -> str:
    if own:
        return ", ".join(entry.shared_with) or "—"
    return entry.owner


_SORT_KEYS: dict[str, Callable[[FileEntry, bool], Any]] = {
    "name": lambda e, own: (*sort_key(e.name), e.id),
    "size": lambda e, own: (e.size, *sort_key(e.name)),
    "uploaded": lambda e, own: (e.uploaded_at, *sort_key(e.name)),
    "other": lambda e, own: (*sort_key(_other(e, own)), *sort_key(e.name)),
}


def _fit(text: str, width: int, right: bool = False) -> str:
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


class FileTable(ScrollView, can_focus=True):
    """Files as rows (name, size, uploaded, shared with / owner), sortable and filterable."""

    # Priority: moves happen as keys arrive, in order with a screen's priority keys (an action
    # typed right after a move applies to the row moved to).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False, priority=True),
        Binding("down,j", "cursor(1)", "Down", show=False, priority=True),
        Binding("pageup", "page(-1)", "Page up", show=False, priority=True),
        Binding("pagedown", "page(1)", "Page down", show=False, priority=True),
        Binding("home", "jump(0)", "First", show=False, priority=True),
        Binding("end", "jump(-1)", "Last", show=False, priority=True),
        Binding("enter", "activate", "Download", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "file-table--header",
        "file-table--cursor",
        "file-table--row",
        "file-table--hint",
    }

    DEFAULT_CSS = """
    FileTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        & > .file-table--header { text-style: bold; background: $panel; }
        & > .file-table--cursor { background: $block-cursor-blurred-background; }
        & > .file-table--hint { color: $text-muted; }
        &:focus > .file-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index into the visible rows."""

    @dataclass
    class Activated(Message):
        """Enter or a double click on a row."""

        table: FileTable
        """The table the row is in."""
        entry: FileEntry
        """The file on that row."""

        @property
        def control(self) -> FileTable:
            return self.table

    def __init__(
        self, own: bool, empty_text: str = "", *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.empty_text = empty_text
        """Shown when there are no files at all (how to get the first one)."""
        self.own = own
        """My files (last column: shared with) or shared with me (last column: owner)."""
        self.columns = (
            Column("name", "Name", 0),
            Column("size", "Size", 10, right=True),
            Column("uploaded", "Uploaded (UTC)", 16),
            Column("other", "Shared with" if own else "Owner", 0),
        )
        self.sort_key = "name"
        self.reverse = False
        self.filter_text = ""
        self._entries: list[FileEntry] = []
        self._sorted: list[FileEntry] = []
        self._folded: list[str] = []
        self._rows: list[FileEntry] = []

    # -- data in --------------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Files loaded, before filtering."""
        return len(self._entries)

    @property
    def row_count(self) -> int:
        """Rows shown, after filtering."""
        return len(self._rows)

    @property
    def rows(self) -> list[FileEntry]:
        return self._rows

    @property
    def current(self) -> FileEntry | None:
        """The file under the cursor."""
        if 0 <= self.cursor < len(self._rows):
            return self._rows[self.cursor]
        return None

    def set_entries(self, entries: list[FileEntry]) -> None:
        """Replace the files shown, keeping the cursor on the same file when it is still there."""
        self._entries = entries
        self._resort()

    def set_filter(self, text: str) -> None:
        """Show only files whose name contains `text` (ignoring case)."""
        self.filter_text = text
        self._refilter()

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        """Sort by a column; sorting by the current column again flips the order."""
        if reverse is None:
            reverse = not self.reverse if key == self.sort_key else False
        self.sort_key = key
        self.reverse = reverse
        self._resort()

    def select_id(self, file_id: int) -> bool:
        """Move the cursor to a file; False if it is not among the visible rows."""
        for i, entry in enumerate(self._rows):
            if entry.id == file_id:
                self.cursor = i
                return True
        return False

    def _resort(self) -> None:
        keyfn = _SORT_KEYS[self.sort_key]
        own = self.own
        self._sorted = sorted(self._entries, key=lambda e: keyfn(e, own), reverse=self.reverse)
        self._folded = [e.name.casefold() for e in self._sorted]
        self._refilter()

    def _refilter(self) -> None:
        keep = self.current.id if self.current is not None else None
        needle = self.filter_text.casefold()
        if needle:
            self._rows = [e for e, f in zip(self._sorted, self._folded, strict=True) if needle in f]
        else:
            self._rows = list(self._sorted)
        self.virtual_size = Size(0, len(self._rows) + 1)
        if keep is None or not self.select_id(keep):
            self.cursor = min(self.cursor, max(0, len(self._rows) - 1))
        self.refresh()

    # -- moving ---------------------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._rows) - 1)) if self._rows else 0

    def watch_cursor(self, value: int) -> None:
        page = self._page
        top = round(self.scroll_y)
        if value < top:
            self.scroll_to(y=value, animate=False, immediate=True)
        elif value >= top + page:
            self.scroll_to(y=value - page + 1, animate=False, immediate=True)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * self._page

    def action_jump(self, where: int) -> None:
        self.cursor = 0 if where == 0 else len(self._rows) - 1

    def action_activate(self) -> None:
        if self.current is not None:
            self.post_message(self.Activated(self, self.current))

    def on_resize(self) -> None:
        self.cursor = self.cursor

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x)
            if column is not None:
                self.sort_by(column.key)
            return
        row = round(self.scroll_y) + offset.y - 1
        if row < len(self._rows):
            self.cursor = row
            if event.chain == 2 and self.current is not None:
                self.post_message(self.Activated(self, self.current))

    # -- drawing --------------------------------------------------------------------------------

    def _widths(self, width: int) -> list[int]:
        fixed = sum(c.width for c in self.columns) + len(self.columns)  # one space before each
        rest = max(0, width - fixed)
        other = min(24, max(8, rest // 3))
        name = max(4, rest - other)
        return [
            name if c.key == "name" else other if c.width == 0 else c.width for c in self.columns
        ]

    def _column_at(self, x: int) -> Column | None:
        left = 0
        for column, w in zip(self.columns, self._widths(self.size.width), strict=True):
            if left <= x < left + w + 1:
                return column
            left += w + 1
        return None

    def _cells(self, entry: FileEntry) -> tuple[str, ...]:
        return (
            entry.name,
            human_size(entry.size),
            short_time(entry.uploaded_at),
            _other(entry, self.own),
        )

    def _line(self, cells: tuple[str, ...], width: int) -> str:
        parts = [
            " " + _fit(text, w, column.right)
            for text, w, column in zip(cells, self._widths(width), self.columns, strict=True)
        ]
        return _fit("".join(parts), width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            arrow = " ▼" if self.reverse else " ▲"
            labels = tuple(
                c.label + (arrow if c.key == self.sort_key else "") for c in self.columns
            )
            style = self.get_component_rich_style("file-table--header")
            return Strip([Segment(self._line(labels, width), style)], width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._rows):
            if y == 2 and not self._rows:
                hint = (
                    self.empty_text
                    if not self._entries
                    else (f"No file names contain {self.filter_text!r} (Esc clears the filter)")
                )
                style = self.rich_style + self.get_component_rich_style("file-table--hint")
                return Strip([Segment(_fit("  " + hint, width), style)], width)
            return Strip.blank(width, self.rich_style)
        text = self._line(self._cells(self._rows[index]), width)
        cls = "file-table--cursor" if index == self.cursor else "file-table--row"
        return Strip([Segment(text, self.rich_style + self.get_component_rich_style(cls))], width)
