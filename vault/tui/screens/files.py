"""The main screen: my files and files shared with me, and every action on them."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from vault.client import VaultClient
from vault.core.errors import NotLoggedIn, VaultError
from vault.core.models import FileEntry, Listing, User
from vault.format import human_size
from vault.tui.commands import FileCommands
from vault.tui.messages import LoggedOut
from vault.tui.screens.activity import ActivityScreen
from vault.tui.screens.confirm import ConfirmDelete
from vault.tui.screens.download import DownloadDialog
from vault.tui.screens.rename import RenameDialog
from vault.tui.screens.share import ShareDialog
from vault.tui.screens.upload import UploadScreen
from vault.tui.screens.versions import VersionsDialog
from vault.tui.widgets.file_table import FileTable
from vault.tui.widgets.key_bar import KeyBar
from vault.tui.wording import count, error_text

WAIT_SECONDS = 1.0
"""How long one wait for a change lasts. A change ends it at once; the next wait starts at
once too, so this only bounds how long a quit waits for the watching thread."""
FILTER_DELAY = 0.12
"""Filter after typing pauses this long, so a burst of keys costs one pass over the rows."""

SESSION_ENDED = "Your session ended (logged out elsewhere or expired)"
EMPTY_OWN = "No files yet. Press u to upload your first file."
EMPTY_OWN_BUT_SHARED = "No files of your own yet (u uploads). {shared} with you: press Tab."
EMPTY_SHARED = "Nothing is shared with you yet. Files others share with you appear here."


OWNER_ONLY = frozenset({"share", "delete", "rename"})
"""Actions the shared tab does not offer (the core refuses them to anyone but the owner)."""
ON_A_FILE = frozenset({"download", "share", "delete", "rename", "versions"})
"""Actions on the highlighted file: shown greyed while the list is empty."""
TYPED_KEYS = frozenset(
    {"upload", "download", "share", "delete", "rename", "versions", "filter", "sort"}
    | {"activity", "logout", "quit"}
)
"""Actions bound to keys that are text in the filter box (priority bindings would steal them)."""


class FilesScreen(Screen[None]):
    """Two tabs of files; the actions below, also in the command palette."""

    COMMANDS = {FileCommands}
    AUTO_FOCUS = "#own"
    # Priority: a key is acted on the moment it arrives, and an action that opens a dialog
    # waits for it to mount, so keys typed after it land in the dialog (not on this screen).
    # The table's own keys are priority too, so they keep their order with these.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "upload", "Upload", priority=True),
        Binding("d", "download", "Download", priority=True),
        Binding("enter", "download", "Download", show=False, priority=True),
        Binding("s", "share", "Share", priority=True),
        Binding("x", "delete", "Delete", priority=True),
        Binding("r", "rename", "Rename", priority=True),
        Binding("v", "versions", "Versions", priority=True),
        Binding("slash", "filter", "Filter", priority=True),
        Binding("o", "sort", "Sort", priority=True),
        Binding("g", "activity", "Activity", priority=True),
        # Two actions, one shown at a time, so the footer names the tab the key leads to.
        Binding("tab,shift+tab,right,left", "show_tab('shared')", "Shared"),
        Binding("tab,shift+tab,right,left", "show_tab('own')", "My files"),
        Binding("escape", "clear_filter", "Clear filter"),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("l", "logout", "Logout", priority=True),
        Binding("q", "quit", "Quit", priority=True),
    ]

    ACTIONS: ClassVar[list[tuple[str, str, str]]] = [
        ("upload", "Upload files", "Pick local files and store them in the vault"),
        ("download", "Download the selected file", "Save it into a local folder"),
        ("share", "Share the selected file", "Let another user download it; revoke shares"),
        ("delete", "Delete the selected file", "Remove it and all its versions"),
        ("rename", "Rename the selected file", "Give it a new name"),
        ("versions", "Versions of the selected file", "List and download earlier versions"),
        ("filter", "Filter files by name", "Narrow the list as you type"),
        ("sort", "Sort by the next column", "Name, size, upload time, shared with / owner"),
        ("activity", "Activity log", "Recent uploads, downloads and shares"),
        ("other_tab", "Switch tab", "My files / Shared with me (Tab, or ← →)"),
        ("refresh", "Refresh", "Reload the lists from the vault"),
        ("logout", "Log out", "End this session and return to the login screen"),
        ("quit", "Quit", "Leave vault (the session stays saved)"),
    ]
    """(action, palette title, help): the command palette lists these."""

    def __init__(self, client: VaultClient, user: User) -> None:
        super().__init__()
        self.client = client
        self.user = user
        self.signature: int | None = None
        """The vault's latest event id when the shown lists were loaded (every change to
        files, versions or shares writes an event)."""
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("My files", id="tab-own"):
                yield FileTable(own=True, empty_text=EMPTY_OWN, id="own")
            with TabPane("Shared with me", id="tab-shared"):
                yield FileTable(own=False, empty_text=EMPTY_SHARED, id="shared")
        yield Input(placeholder="Filter by name (Esc clears)", id="filter")
        yield Static("Loading…", id="status", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = self.user.username
        self.query_one("#filter").display = False
        self.reload()

    # -- loading --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="files-load")
    def reload(self) -> None:
        """Read both lists (and the signature they match) off the event loop."""
        try:
            signature = self.client.latest_event_id()
            listing = self.client.list_files()
        except NotLoggedIn:
            self.post_message(LoggedOut(SESSION_ENDED))
            return
        except VaultError as e:
            self.notify(str(e), severity="error", markup=False)
            return
        self.app.call_from_thread(self._show, listing, signature)

    def _show(self, listing: Listing, signature: int) -> None:
        self.signature = signature
        own = self.query_one("#own", FileTable)
        own.empty_text = (
            EMPTY_OWN_BUT_SHARED.format(shared=count(len(listing.shared), "file") + " shared")
            if listing.shared
            else EMPTY_OWN
        )
        for table_id, entries in (("own", listing.own), ("shared", listing.shared)):
            table = self.query_one(f"#{table_id}", FileTable)
            table.set_entries(entries)
        self._update_status()
        self.watch_changes(signature)

    @work(thread=True, exclusive=True, group="files-watch")
    def watch_changes(self, shown: int) -> None:
        """Reload as soon as the vault changes past what is shown (the CLI, HTTP or another
        TUI wrote), and notice a session ended elsewhere. Each load starts a new watch."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            try:
                latest = self.client.wait_for_change(shown, WAIT_SECONDS)
            except NotLoggedIn:
                if not worker.is_cancelled:  # a newer watch (or the reload) tells it
                    self.post_message(LoggedOut(SESSION_ENDED))
                return
            except VaultError as e:  # the daemon went away: Ctrl+R tries again
                if not worker.is_cancelled:
                    self.notify(str(e), severity="error", markup=False)
                return
            if latest > shown and not worker.is_cancelled:
                self.app.call_from_thread(self.reload)
                return

    # -- what is selected -----------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        """`own` or `shared`: which list is on screen."""
        return "shared" if self.query_one(TabbedContent).active == "tab-shared" else "own"

    @property
    def active_table(self) -> FileTable:
        return self.query_one(f"#{self.active_tab}", FileTable)

    def _selected(self) -> FileEntry | None:
        entry = self.active_table.current
        if entry is None:
            self.notify("No file selected", severity="warning")
        return entry

    def _update_status(self) -> None:
        """The counts below the list, and the keys that apply to what it now shows."""
        self.refresh_bindings()
        table = self.active_table
        what = "of yours" if table.own else "shared with you"
        if table.filter_text:
            shown = f"{table.row_count} of {count(table.total, 'file')} shown"
            text = f"{shown} (names containing {table.filter_text!r})"
        else:
            total = sum(e.size for e in table.rows)
            text = f"{count(table.total, 'file')} {what} · {human_size(total)}"
        self.query_one("#status", Static).update(text)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.active_table.focus()
        self._update_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what cannot apply: owner-only actions on the shared tab, Tab to this tab, and
        the letter keys while the filter is being typed (the letters are text there); grey out
        the actions on a file while no file is highlighted."""
        if action in TYPED_KEYS and isinstance(self.focused, Input):
            return False
        if action == "show_tab":
            return parameters[0] != self.active_tab
        if action in OWNER_ONLY and self.active_tab != "own":
            return False
        if action == "clear_filter":
            return self.query_one("#filter").display
        if action in ON_A_FILE and self.active_table.current is None:
            return None
        return True

    @on(FileTable.Activated)
    async def _activated(self, event: FileTable.Activated) -> None:
        await self.action_download()

    # -- filter and sort ------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.set_focus(box)  # now: the keys typed next go into it
        self.refresh_bindings()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self.apply_filter)

    def apply_filter(self) -> None:
        text = self.query_one("#filter", Input).value
        for table in self.query(FileTable):
            table.set_filter(text)
        self._update_status()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.apply_filter()
        self.active_table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.apply_filter()
        self.active_table.focus()

    def action_sort(self) -> None:
        table = self.active_table
        keys = [c.key for c in table.columns]
        table.sort_by(keys[(keys.index(table.sort_key) + 1) % len(keys)])

    def action_show_tab(self, which: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{which}"

    def action_other_tab(self) -> None:
        self.action_show_tab("own" if self.active_tab == "shared" else "shared")

    # -- actions --------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.reload()

    def action_quit(self) -> None:
        self.app.exit(0)

    async def action_activity(self) -> None:
        await self.app.push_screen(ActivityScreen(self.client))

    async def action_upload(self) -> None:
        def done(stored: int | None) -> None:
            if stored:
                self.notify(f"Uploaded {count(stored, 'file')}")
            self.reload()

        await self.app.push_screen(UploadScreen(self.client, Path.cwd()), done)

    async def action_download(self) -> None:
        entry = self._selected()
        if entry is None:
            return

        def done(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Saved to {path}", markup=False)

        await self.app.push_screen(DownloadDialog(self.client, entry, Path.cwd()), done)

    async def action_share(self) -> None:
        entry = self._selected()
        if entry is not None:
            dialog = ShareDialog(self.client, self.user, entry)
            await self.app.push_screen(dialog, lambda _: self.reload())

    async def action_rename(self) -> None:
        entry = self._selected()
        if entry is None:
            return

        def done(renamed: FileEntry | None) -> None:
            if renamed is not None:
                self.notify(f"Renamed to {renamed.name}", markup=False)
                self.reload()

        await self.app.push_screen(RenameDialog(self.client, entry), done)

    async def action_versions(self) -> None:
        entry = self._selected()
        if entry is not None:
            await self.app.push_screen(VersionsDialog(self.client, self.user, entry))

    async def action_delete(self) -> None:
        entry = self._selected()
        if entry is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(entry)

        await self.app.push_screen(ConfirmDelete(entry), confirmed)

    @work(thread=True, exclusive=True, group="files-change")
    def _delete(self, entry: FileEntry) -> None:
        try:
            self.client.delete(entry.id)
        except VaultError as e:
            self.notify(error_text(e, entry), severity="error", markup=False)
            return
        self.app.call_from_thread(self._deleted, entry)

    def _deleted(self, entry: FileEntry) -> None:
        self.notify(f"Deleted {entry.name}", markup=False)
        self.reload()

    def action_logout(self) -> None:
        self._logout()

    @work(thread=True, exclusive=True, group="files-change")
    def _logout(self) -> None:
        try:
            self.client.logout()
        except VaultError as e:
            self.notify(str(e), severity="error", markup=False)
        self.post_message(LoggedOut())
