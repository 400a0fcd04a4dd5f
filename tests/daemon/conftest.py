"""Fixtures for the daemon tests: a real daemon subprocess, and clients of both kinds.

`client_for` is parametrised: every test that uses it runs once with `LocalClient` (direct
mode, in this process) and once with `DaemonClient` (a real `python -m vault.daemon` on a
socket in tmp_path). The test body is the same, so the two modes cannot drift apart.
The daemon runs with `--accounts admin`: tests run as root, who is an admin there but has no
vault account, so "not logged in" means the same in both modes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ALICE_PW, BOB_PW

from tests.cli.conftest import out_dir, src  # noqa: F401 (the same fixtures here)
from tests.daemon.helpers import AsOsUser, Daemon, start_daemon
from vault.client.local import LocalClient
from vault.client.remote import DaemonClient
from vault.core import Vault
from vault.core.passwords import Hasher

MakeClient = Callable[[str], Any]


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """`daemon_factory(*args)` starts a daemon on tmp_path/run/vault.sock; all stop cleanly."""
    started: list[Daemon] = []

    def start(*args: str, vault_dir: Path | None = None) -> Daemon:
        d = start_daemon(
            vault_dir or tmp_path / "shared-vault",
            tmp_path / "run" / "vault.sock",
            tmp_path / f"daemon-{len(started)}.log",
            *args,
        )
        started.append(d)
        return d

    yield start
    for d in started:
        if d.proc.poll() is None:
            assert d.stop() == 0, d.log_text()
            assert "Traceback" not in d.log_text(), d.log_text()


@pytest.fixture
def daemon(daemon_factory: Callable[..., Daemon]) -> Daemon:
    return daemon_factory("--accounts", "admin")


@pytest.fixture(params=["local", "daemon"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client_for(mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MakeClient]:
    """`client_for("bob")`: a client acting for another OS user (its own token file)."""
    made: list[Any] = []
    daemon = request.getfixturevalue("daemon") if mode == "daemon" else None

    def make(os_user: str = "me") -> Any:
        if daemon is None:
            client: Any = LocalClient(Vault(tmp_path / "vault", hasher=Hasher(cheap=True)))
        else:
            client = DaemonClient(daemon.socket)
        wrapped = AsOsUser(client, tmp_path / f"state-{os_user}")
        made.append(wrapped)
        return wrapped

    yield make
    for c in made:
        c.close()


def _logged_in(make: MakeClient, name: str, password: str) -> Any:
    c = make(name)
    c.register(name, password)
    c.login(name, password)
    return c


@pytest.fixture
def alice_c(client_for: MakeClient) -> Any:
    return _logged_in(client_for, "alice", ALICE_PW)


@pytest.fixture
def bob_c(client_for: MakeClient) -> Any:
    return _logged_in(client_for, "bob", BOB_PW)
