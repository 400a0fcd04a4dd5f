"""`vault status`, `vault daemon` and `--socket`: which vault a command reaches, and how."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import TIMEOUT, Cli, assert_one_line_error, describe, vault_argv
from tests.daemon.helpers import start_daemon
from tests.support import ALICE_PW


def test_status_names_the_place_the_mode_and_the_user(run: Cli) -> None:
    where = "socket" if run.mode == "daemon" else "vault"
    answers = ["daemon: answers"] if run.mode == "daemon" else []
    head = [f"{where}: {run.place}", f"mode: {run.mode}"]
    run.register("alice", ALICE_PW)
    assert run.ok("status").stdout.splitlines() == [*head, *answers, "user: alice"]
    run.ok("logout")
    assert run.ok("status").stdout.splitlines() == [*head, *answers, "user: not logged in"]


@pytest.mark.direct_only  # names a socket of its own: the fixture's daemon would be unused
def test_status_says_when_no_daemon_answers(run: Cli, tmp_path: Path) -> None:
    sock = tmp_path / "nobody.sock"
    r = run("status", "--socket", sock)
    line = assert_one_line_error(r)
    assert "Cannot reach the vault daemon" in line and str(sock) in line
    assert r.stdout.splitlines() == [f"socket: {sock}", "mode: daemon", "daemon: does not answer"]


@pytest.mark.direct_only  # starts a daemon of its own, through the `vault daemon` verb
def test_the_daemon_verb_serves_a_vault_every_command_reaches_by_socket(
    run: Cli, tmp_path: Path, src
) -> None:
    folder, sock = tmp_path / "shared", tmp_path / "run" / "vault.sock"
    argv = vault_argv("daemon", "--vault", folder, "--socket", sock, "--accounts", "admin")
    daemon = start_daemon(folder, sock, tmp_path / "daemon.log", argv=argv)
    try:
        via = ("--socket", sock)
        run.ok(*via, "register", "alice", "--password-stdin", input=ALICE_PW + "\n")
        assert run.ok("whoami", *via).stdout == "alice\n"
        run.ok("upload", src("a.txt", b"hello"), *via)
        listing = json.loads(run.ok(*via, "ls", "--json").stdout)
        assert [e["name"] for e in listing["your_files"]] == ["a.txt"]
        assert "daemon: answers" in run.ok("status", *via).stdout
        assert (folder / "vault.db").is_file() and not run.vault_dir.exists()
    finally:
        assert daemon.stop() == 0, daemon.log_text()
    assert "Traceback" not in daemon.log_text(), daemon.log_text()


def test_the_daemon_verb_needs_its_vault_folder(run: Cli) -> None:
    r = run.usage("daemon", "--socket", "/nonexistent/vault.sock")
    assert "--vault" in r.stderr, describe(r)


@pytest.mark.direct_only  # --socket names the daemon mode itself; nothing needs to listen
def test_serve_through_a_daemon_says_it_needs_a_folder(run: Cli, tmp_path: Path) -> None:
    line = run.fail("serve", "--port", "0", "--socket", tmp_path / "vault.sock")
    assert "works on a vault folder, not through the vault daemon" in line
    assert "--vault DIR" in line


@pytest.mark.direct_only  # opens no vault at all
def test_help_loads_no_vault_code_even_with_the_daemon_verb(run: Cli) -> None:
    """`vault --help` stays lean: the daemon verb's arguments load only when it is used."""
    probe = (
        "import sys\n"
        "from vault.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('vault.core', 'vault.daemon'))))\n"
    )
    for args in (["--help"], ["ls", "--help"]):
        r = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True, text=True, env=run.environ(), cwd=run.cwd, timeout=TIMEOUT,
        )  # fmt: skip
        assert r.returncode == 0, describe(r)  # type: ignore[arg-type]
        assert r.stdout.splitlines()[-1] == "[]", describe(r)  # type: ignore[arg-type]
