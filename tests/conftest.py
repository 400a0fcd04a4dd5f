"""Fixtures shared by every test: a temp vault, temp XDG folders, two users.

Every test runs with VAULT_HOME and all XDG folders inside its own tmp_path (autouse), so no
test can touch a real vault or token file, and tests cannot see each other's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ALICE_PW, BOB_PW

from vault.core import Vault, users
from vault.core.models import User
from vault.core.passwords import Hasher


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point VAULT_HOME and the XDG folders into tmp_path; returns the variables set."""
    env = {
        "VAULT_HOME": str(tmp_path / "vault"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "HOME": str(tmp_path / "home"),
    }
    (tmp_path / "home").mkdir()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return env


@pytest.fixture
def vault_dir(isolated_env: dict[str, str]) -> Path:
    return Path(isolated_env["VAULT_HOME"])


@pytest.fixture
def v(vault_dir: Path) -> Iterator[Vault]:
    """An open vault with cheap argon2 parameters (one test keeps the real ones)."""
    vault = Vault(vault_dir, hasher=Hasher(cheap=True))
    yield vault
    vault.close()


@pytest.fixture
def alice(v: Vault) -> User:
    return users.register(v, "alice", ALICE_PW)


@pytest.fixture
def bob(v: Vault) -> User:
    return users.register(v, "bob", BOB_PW)
