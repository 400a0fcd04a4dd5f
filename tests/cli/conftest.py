"""Fixtures for end-to-end tests of the `vault` command: the real program in a subprocess.

`run` is a `Cli` (tests/cli/helpers.py): calling it runs `python -m vault ARGS...` with the
test's isolated environment (VAULT_HOME, XDG_* inside tmp_path), captures stdout/stderr as
text, never inherits the terminal, and times out. `Cli.as_os_user(name)` is the same vault
seen by another OS user: a different XDG_STATE_HOME, hence a different token file.
`alice_cli` and `bob_cli` register through the real command (default argon2 cost, so once
per user per test).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.helpers import Cli
from tests.support import ALICE_PW, BOB_PW


@pytest.fixture
def run(isolated_env: dict[str, str], tmp_path: Path) -> Cli:
    """The `vault` command for the test's default OS user (XDG_STATE_HOME of isolated_env)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = dict(os.environ)
    env.update(isolated_env)
    env.pop("PYTHONBREAKPOINT", None)
    return Cli(env, cwd, Path(isolated_env["XDG_STATE_HOME"]), tmp_path)


@pytest.fixture
def alice_cli(run: Cli) -> Cli:
    """alice, registered and logged in through the real command, as the default OS user."""
    run.register("alice", ALICE_PW)
    return run


@pytest.fixture
def bob_cli(run: Cli) -> Cli:
    """bob, registered and logged in through the real command, as another OS user."""
    bob = run.as_os_user("bob")
    bob.register("bob", BOB_PW)
    return bob


@pytest.fixture
def src(tmp_path: Path):
    """`src(name, data)` writes a local file to upload and returns its path."""
    folder = tmp_path / "src"
    folder.mkdir()

    def make(name: str, data: bytes) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty folder to download into."""
    d = tmp_path / "out"
    d.mkdir()
    return d
