"""A local file browser where space marks files, for picking several uploads at once."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DirectoryTree
from textual.widgets.directory_tree import DirEntry
from textual.widgets.tree import TreeNode


class PickTree(DirectoryTree):
    """Posts `Toggled` for a file on space or Enter; shows `marked` files with a dot.

    The parent owns the set of chosen files and hands it back through `marked`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark"),
    ]

    ICON_MARK = "● "

    @dataclass
    class Toggled(Message):
        """A file was marked or unmarked in the tree."""

        tree: PickTree
        """The tree it happened in."""
        path: Path
        """The file (absolute)."""

        @property
        def control(self) -> PickTree:
            return self.tree

    def __init__(self, path: str | Path, *, id: str | None = None) -> None:
        super().__init__(Path(os.path.abspath(path)), id=id)
        self.marked: frozenset[Path] = frozenset()
        """Files shown as chosen (set by the parent)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")]

    def set_marked(self, marked: Iterable[Path]) -> None:
        self.marked = frozenset(marked)
        stack: list[TreeNode[DirEntry]] = [self.root]
        while stack:
            node = stack.pop()
            node.refresh()
            if node.is_expanded:
                stack.extend(node.children)

    def render_label(self, node: TreeNode[DirEntry], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        if node.data is not None and node.data.path in self.marked:
            label = Text.assemble((self.ICON_MARK, base_style + Style(bold=True)), label)
        return label

    def action_mark(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if node.allow_expand:
            self.action_toggle_node()
        else:
            self.post_message(self.Toggled(self, node.data.path))

    @on(DirectoryTree.FileSelected)
    def _selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.post_message(self.Toggled(self, event.path))
