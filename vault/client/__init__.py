"""How front ends reach a vault: `connect` picks direct mode or the daemon, behind one interface.

    from vault.client import connect
    client = connect()                 # the daemon, or a personal vault (see `choose`)
    client.login("han", "han123")
    client.upload("Cat03.jpg")

The rule (the issue's): `--socket PATH` or VAULT_SOCKET names a daemon; `--vault DIR` or
VAULT_HOME a personal vault; with neither, the daemon's default socket if it exists, else the
personal vault in the user data folder. Flags win over the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from vault.client.protocol import VaultClient
from vault.daemon.wire import DEFAULT_SOCKET

__all__ = ["DEFAULT_SOCKET", "VaultClient", "choose", "connect"]


def choose(
    vault_dir: str | os.PathLike[str] | None = None,
    socket_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] = os.environ,
    default_socket: Path = DEFAULT_SOCKET,
) -> tuple[Literal["daemon", "direct"], Path]:
    """Where this client's vault is: ("daemon", socket) or ("direct", vault folder)."""
    from vault.core.locations import default_vault_dir

    if socket_path is not None:
        return "daemon", Path(socket_path)
    if vault_dir is not None:
        return "direct", Path(vault_dir)
    if env.get("VAULT_SOCKET"):
        return "daemon", Path(env["VAULT_SOCKET"])
    if env.get("VAULT_HOME"):
        return "direct", Path(env["VAULT_HOME"]).expanduser()
    if default_socket.is_socket():
        return "daemon", default_socket
    return "direct", default_vault_dir()


def connect(
    vault_dir: str | os.PathLike[str] | None = None,
    socket_path: str | os.PathLike[str] | None = None,
    kind: str = "cli",
) -> VaultClient:
    """A client for the vault `choose` picks; `kind` ("cli", "tui") labels its sessions."""
    mode, place = choose(vault_dir, socket_path)
    if mode == "daemon":
        from vault.client.remote import DaemonClient

        return DaemonClient(place, kind)
    from vault.client.local import LocalClient
    from vault.core import Vault

    # the folder the way `choose` found it, but only the default one gets its parents made
    return LocalClient(Vault(vault_dir), kind)
