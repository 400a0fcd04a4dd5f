"""Fixtures for end-to-end tests of the `vault` command: the real program in a subprocess.

`run` is a `Cli` (tests/cli/helpers.py): calling it runs `python -m vault ARGS...` with the
test's isolated environment (XDG_* inside tmp_path), captures stdout/stderr as text, never
inherits the terminal, and times out. Every test that uses it runs twice: in direct mode
(VAULT_HOME names the vault) and in daemon mode (a real `vault daemon` serves that folder and
VAULT_SOCKET names its socket), the same body both times, so the modes cannot drift apart.
A test about direct mode by nature is marked `@pytest.mark.direct_only`, with the reason.

`Cli.as_os_user(name)` is the same vault seen by another OS user: a different
XDG_STATE_HOME, hence a different token file. `alice_cli` and `bob_cli` register through the
real command (default argon2 cost, so once per user per test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import Cli
from tests.daemon.helpers import start_daemon
from tests.support import ALICE_PW, BOB_PW

MODES = ("direct", "daemon")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "direct_only: a CLI test about the vault folder itself, run in direct mode only"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cli_mode" in metafunc.fixturenames:
        direct_only = metafunc.definition.get_closest_marker("direct_only") is not None
        metafunc.parametrize("cli_mode", MODES[:1] if direct_only else MODES)


@pytest.fixture
def run(
    isolated_env: dict[str, str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    cli_mode: str,
) -> Iterator[Cli]:
    """The `vault` command for the test's default OS user (XDG_STATE_HOME of isolated_env).

    In daemon mode the daemon runs with `--accounts admin`: root, who runs the tests, is an
    admin there without a vault account, so it registers and logs in with passwords as in
    direct mode. The daemon's socket and log are outside tmp_path, which holds only what
    the test made; this process's environment names the daemon too, for in-process `main`.
    """
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = dict(os.environ)
    env.update(isolated_env)
    env.pop("PYTHONBREAKPOINT", None)
    vault_dir = Path(isolated_env["VAULT_HOME"])
    state = Path(isolated_env["XDG_STATE_HOME"])
    if cli_mode == "direct":
        yield Cli(env, cwd, state, tmp_path, vault_dir)
        return
    folder = tmp_path_factory.mktemp("daemon")
    daemon = start_daemon(
        vault_dir, folder / "vault.sock", folder / "daemon.log", "--accounts", "admin"
    )
    del env["VAULT_HOME"]
    env["VAULT_SOCKET"] = str(daemon.socket)
    monkeypatch.delenv("VAULT_HOME")
    monkeypatch.setenv("VAULT_SOCKET", str(daemon.socket))
    try:
        yield Cli(env, cwd, state, tmp_path, vault_dir, cli_mode)
    finally:
        assert daemon.stop() == 0, daemon.log_text()
    assert "Traceback" not in daemon.log_text(), daemon.log_text()


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
