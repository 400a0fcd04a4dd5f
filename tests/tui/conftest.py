"""TUI fixtures: async tests run on anyio's pytest plugin, with the asyncio backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ALICE_PW

from vault.core import Vault, sessions
from vault.core.models import User


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
