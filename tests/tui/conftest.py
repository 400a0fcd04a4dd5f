"""TUI fixtures: async tests run on anyio's pytest plugin, with the asyncio backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ALICE_PW
from textual.dom import DOMNode
from textual.widget import Widget

from vault.core import Vault, sessions
from vault.core.models import User


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def widgets_only_on_the_ui_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test whose workers look up widgets from their threads.

    Textual's widgets are not thread-safe: a thread worker calls the core and hands the result
    to the event loop (`call_from_thread`, `post_message`); only there are widgets looked up
    and changed. Watching queries and refreshes finds the code that does otherwise.
    """
    ui_thread = threading.current_thread()
    offenders: list[str] = []

    def watch(cls: type, name: str) -> None:
        original = getattr(cls, name)

        def checked(self: DOMNode, *args: object, **kwargs: object) -> object:
            if threading.current_thread() is not ui_thread:
                offenders.append(f"{type(self).__name__}.{name}{args!r}")
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, checked)

    for name in ("query", "query_one", "query_children", "query_exactly_one"):
        watch(DOMNode, name)
    watch(Widget, "refresh")  # every visible change of a widget asks for a refresh
    yield
    assert not offenders, f"widgets queried from a worker thread: {offenders}"


@pytest.fixture
def alice_session(v: Vault, alice: User) -> str:
    """alice logged in through the token file, so the app opens on her files."""
    _, token = sessions.login(v, "alice", ALICE_PW, client="tui")
    sessions.save_token(v, token, "alice")
    return token


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A local folder with a few files, made the current folder (upload browser, downloads)."""
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "notes.txt").write_text("some notes\n")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8" + bytes(5000))
    (folder / "report.pdf").write_bytes(b"%PDF" + bytes(20000))
    monkeypatch.chdir(folder)
    yield folder
