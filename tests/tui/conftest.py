"""TUI fixtures: async tests run on anyio's pytest plugin, with the asyncio backend.

`client` is parametrised: every test that uses it runs once in direct mode (`LocalClient`
on the test's vault) and once against a real daemon (`python -m vault.daemon` on the same
vault folder, `DaemonClient`), so the TUI cannot behave differently by mode without a test
failing. Tests seed data through the core on that folder, in this process; the daemon sees
it as it would see another process's writes. The daemon runs with `--accounts admin`, as in
tests/daemon: root (who runs the tests) has no vault account, so "not logged in" means the
same in both modes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ALICE_PW
from textual.dom import DOMNode
from textual.widget import Widget

from tests.daemon.helpers import start_daemon
from vault.client import VaultClient
from vault.client.local import LocalClient
from vault.client.remote import DaemonClient
from vault.core import Vault
from vault.core.models import User
from vault.tui.screens import files as files_screen


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


@pytest.fixture(params=["direct", "daemon"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(mode: str, v: Vault, tmp_path: Path) -> Iterator[VaultClient]:
    """The client the app is built on: the test's vault in this process, or through a daemon."""
    if mode == "direct":
        yield LocalClient(v, "tui")
        return
    daemon = start_daemon(
        v.root, tmp_path / "run" / "vault.sock", tmp_path / "daemon.log", "--accounts", "admin"
    )
    remote = DaemonClient(daemon.socket, "tui")
    try:
        yield remote
    finally:
        remote.close()
        assert daemon.stop() == 0, daemon.log_text()
        assert "Traceback" not in daemon.log_text(), daemon.log_text()


@pytest.fixture
def other_client(mode: str, v: Vault, client: VaultClient) -> Iterator[VaultClient]:
    """Another client of the same mode and OS user (the CLI in another terminal)."""
    other = LocalClient(v, "cli") if mode == "direct" else DaemonClient(client.place, "cli")
    yield other
    if mode == "daemon":
        other.close()  # a LocalClient's vault is the test's, closed by `v`


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A watching thread ends this soon after its app: a test's teardown waits for it."""
    monkeypatch.setattr(files_screen, "WAIT_SECONDS", 0.1)


@pytest.fixture
def alice_session(client: VaultClient, alice: User) -> User:
    """alice logged in through the client (its token file), so the app opens on her files."""
    return client.login("alice", ALICE_PW)


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
