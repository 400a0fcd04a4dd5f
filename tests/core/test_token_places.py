"""Token files are per OS user and per place: a vault folder, or the socket of a daemon."""

from __future__ import annotations

from pathlib import Path

from vault.core import Vault, sessions


def test_a_daemon_socket_has_its_own_token_file(v: Vault, tmp_path: Path) -> None:
    sock = tmp_path / "vault.sock"
    sessions.save_token(sock, "socket-token", "alice")
    sessions.save_token(v, "vault-token", "bob")
    assert sessions.load_token(sock) == "socket-token"
    assert sessions.load_token(v) == "vault-token"
    sessions.clear_token(sock)
    assert sessions.load_token(sock) is None
    assert sessions.load_token(v) == "vault-token"
