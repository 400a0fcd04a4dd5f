"""register, login, logout, whoami, sessions, token files, --vault: through the real command."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen

import pytest

from tests.cli.helpers import TIMEOUT, Cli, assert_one_line_error, describe, vault_argv
from tests.support import ALICE_PW, BOB_PW, seed_guesses
from vault.client import DEFAULT_SOCKET
from vault.core import Vault, sessions, throttle
from vault.core.errors import NotLoggedIn
from vault.core.passwords import Hasher


def resolves(vault_dir: Path, token: str) -> bool:
    """Whether the vault itself (in-process, not the token file) still accepts `token`."""
    v = Vault(vault_dir, hasher=Hasher(cheap=True))
    try:
        sessions.resolve(v, token)
        return True
    except NotLoggedIn:
        return False
    finally:
        v.close()


def session_ids(cli: Cli) -> tuple[list[int], int | None]:
    """The ids `vault sessions` lists, and which one it marks as this one."""
    out = cli.ok("sessions").stdout.splitlines()
    assert out[0].split()[0] == "ID", out
    ids, current = [], None
    for line in out[1:]:
        sid = int(line.split()[0])
        ids.append(sid)
        if line.endswith("(this one)"):
            current = sid
    return ids, current


# -- register and login -------------------------------------------------------------------------


def test_register_logs_in_and_whoami_names_the_user(run: Cli) -> None:
    r = run.register("alice", ALICE_PW)
    assert r.stdout.startswith("Registered alice (id ")
    assert run.ok("whoami").stdout == "alice\n"


def test_password_is_never_taken_from_the_arguments(run: Cli) -> None:
    run.usage("register", "alice", ALICE_PW)
    run.usage("login", "alice", ALICE_PW)
    run.usage("register", "alice", "--password", ALICE_PW)
    # nothing was registered by those attempts: the name is still free
    run.register("alice", ALICE_PW)


def test_without_a_terminal_the_password_needs_password_stdin(run: Cli) -> None:
    r = run.usage("register", "alice")  # stdin is /dev/null, not a terminal
    assert "--password-stdin" in r.stderr
    assert not (run.vault_dir / "vault.db").exists() or run("whoami").returncode == 1


def test_password_stdin_reads_only_the_first_line(run: Cli) -> None:
    run.ok("register", "alice", "--password-stdin", input=f"{ALICE_PW}\nnot-the-password\n")
    run.ok("logout")
    # the first line alone is the password; the second line was never part of it
    run.login("alice", ALICE_PW)
    assert run.ok("whoami").stdout == "alice\n"
    # and a right password on the second line is not read at all
    line = run.fail("login", "alice", "--password-stdin", input=f"not-the-password\n{ALICE_PW}\n")
    assert line == "vault: Wrong username or password"
    # no trailing newline: the whole input is the password
    run.ok("login", "alice", "--password-stdin", input=ALICE_PW)


@contextmanager
def _on_a_pty(cli: Cli, args: list[str], **pipes: int) -> Iterator[tuple[Popen[bytes], int]]:
    """`vault ARGS` with stdin, stdout and stderr on a new pseudo-terminal, except those given
    in `pipes` (e.g. `stdout=subprocess.PIPE`); yields the process and the terminal's master."""
    master, slave = os.openpty()
    streams = {name: pipes.get(name, slave) for name in ("stdin", "stdout", "stderr")}
    proc = subprocess.Popen(
        vault_argv(*args),
        env=cli.environ(),
        cwd=cli.cwd,
        start_new_session=True,  # never reach the terminal pytest may run in
        **streams,  # type: ignore[arg-type]
    )
    os.close(slave)
    try:
        yield proc, master
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _pty_run(cli: Cli, args: list[str], answers: list[bytes]) -> tuple[int, bytes]:
    """Run `vault ARGS` on a new pseudo-terminal; type each answer after each 'password:'
    (an answer is the bytes typed: end it with a newline, or type Ctrl-D: b"\x04")."""
    seen = b""
    pending = list(answers)
    with _on_a_pty(cli, args) as (proc, master):
        while True:
            ready, _, _ = select.select([master], [], [], TIMEOUT)
            assert ready, f"no output from {args} on the terminal: {seen!r}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if pending and seen.lower().count(b"password:") > len(answers) - len(pending):
                os.write(master, pending.pop(0))
        return proc.wait(timeout=TIMEOUT), seen


def test_login_asks_on_the_terminal_without_echoing_the_password(alice_cli: Cli) -> None:
    alice_cli.ok("logout")
    code, seen = _pty_run(alice_cli, ["login", "alice"], [ALICE_PW.encode() + b"\n"])
    assert code == 0, seen
    assert b"Password:" in seen
    assert b"Welcome alice" in seen
    assert ALICE_PW.encode() not in seen  # echo was off while it was typed
    assert alice_cli.ok("whoami").stdout == "alice\n"


def test_register_on_a_terminal_asks_twice_and_refuses_a_mismatch(run: Cli) -> None:
    code, seen = _pty_run(run, ["register", "alice"], [b"first-password\n", b"other-password\n"])
    assert code == 1, seen
    assert b"differ" in seen
    assert b"Traceback" not in seen
    assert b"first-password" not in seen and b"other-password" not in seen
    run.fail("whoami")


CTRL_D = b"\x04"
"""End of input, typed at the start of a line on a terminal."""


@pytest.mark.parametrize(
    ("args", "answers"),
    [(["login", "alice"], [CTRL_D]), (["register", "carol"], [b"carol-password\n", CTRL_D])],
)
def test_ctrl_d_at_a_password_prompt_is_one_line_and_exit_1(
    alice_cli: Cli, args: list[str], answers: list[bytes]
) -> None:
    code, seen = _pty_run(alice_cli, args, answers)
    assert code == 1, seen
    assert b"Traceback" not in seen and b"EOFError" not in seen
    lines = [line for line in seen.decode().splitlines() if line.startswith("vault:")]
    assert lines == ["vault: No password entered; nothing was done"], seen
    assert alice_cli.ok("whoami").stdout == "alice\n"  # nothing changed
    assert "Wrong username" in alice_cli.fail("login", "carol", "--password-stdin",
                                              input="carol-password\n")  # fmt: skip


def test_an_empty_stdin_is_no_password_not_a_failed_login(alice_cli: Cli) -> None:
    for _ in range(throttle.ACCOUNT_FREE + 1):
        line = alice_cli.fail("login", "alice", "--password-stdin", input="")
        assert line == "vault: No password on stdin: --password-stdin reads its first line"
    alice_cli.login("alice", ALICE_PW)  # none of them counted as a guess


def test_wrong_password_and_unknown_user_get_the_same_message(alice_cli: Cli) -> None:
    wrong = alice_cli.fail("login", "alice", "--password-stdin", input="not-her-password\n")
    unknown = alice_cli.fail("login", "nobody", "--password-stdin", input=ALICE_PW + "\n")
    assert wrong == unknown == "vault: Wrong username or password"
    # a failed login leaves the existing session alone
    assert alice_cli.ok("whoami").stdout == "alice\n"


def test_register_refuses_taken_and_invalid_names_and_short_passwords(alice_cli: Cli) -> None:
    other = alice_cli.as_os_user("other")
    assert "taken" in other.fail("register", "ALICE", "--password-stdin", input="whatever1\n")
    assert "username" in other.fail("register", "al ice", "--password-stdin", input="whatever1\n")
    assert "password" in other.fail("register", "carol", "--password-stdin", input="abc\n")
    other.fail("whoami")  # none of them logged anyone in
    other.fail("login", "carol", "--password-stdin", input="abc\n")


# -- logout and sessions ------------------------------------------------------------------------


def test_logout_ends_the_session_server_side(alice_cli: Cli, tmp_path: Path) -> None:
    (token_path,) = alice_cli.token_files()
    saved = tmp_path / "token-copy.json"
    shutil.copy2(token_path, saved)
    token = alice_cli.token()
    assert resolves(alice_cli.vault_dir, token)

    assert alice_cli.ok("logout").stdout == "Logged out alice\n"
    assert not token_path.exists()
    assert alice_cli.fail("whoami") == alice_cli.not_logged_in
    assert not resolves(alice_cli.vault_dir, token)

    # putting the old token file back does not bring the session back
    shutil.copy2(saved, token_path)
    assert "Not logged in" in alice_cli.fail("whoami")

    token_path.unlink()
    assert alice_cli.ok("logout").stdout == "You were not logged in\n"


def test_logging_in_again_ends_the_session_it_replaces(alice_cli: Cli) -> None:
    old = alice_cli.token()
    alice_cli.login("alice", ALICE_PW)
    new = alice_cli.token()
    assert new != old
    assert not resolves(alice_cli.vault_dir, old)
    ids, current = session_ids(alice_cli)
    assert len(ids) == 1 and current == ids[0]


def test_sessions_lists_and_revokes_one_or_all(alice_cli: Cli) -> None:
    laptop = alice_cli.as_os_user("laptop")  # alice again, from another token file
    laptop.login("alice", ALICE_PW)
    ids, current = session_ids(alice_cli)
    assert len(ids) == 2 and current in ids
    (other,) = [i for i in ids if i != current]
    assert session_ids(laptop)[1] == other

    assert alice_cli.ok("sessions", "revoke", other).stdout == "Ended 1 session\n"
    assert "Not logged in" in laptop.fail("whoami")
    assert alice_cli.ok("whoami").stdout == "alice\n"
    assert "no live session" in alice_cli.fail("sessions", "revoke", other)

    laptop.login("alice", ALICE_PW)
    assert alice_cli.ok("sessions", "revoke", "--all").stdout == "Ended 2 sessions\n"
    alice_cli.fail("whoami")
    laptop.fail("whoami")


def test_sessions_revoke_needs_exactly_one_of_id_and_all(alice_cli: Cli) -> None:
    alice_cli.usage("sessions", "revoke")
    alice_cli.usage("sessions", "revoke", "1", "--all")
    alice_cli.usage("sessions", "revoke", "abc")
    assert alice_cli.ok("whoami").stdout == "alice\n"


def test_a_user_cannot_revoke_another_users_session(alice_cli: Cli, bob_cli: Cli) -> None:
    _, bobs = session_ids(bob_cli)
    assert bobs is not None
    line = alice_cli.fail("sessions", "revoke", bobs)
    assert "no live session" in line
    assert bob_cli.ok("whoami").stdout == "bob\n"
    assert bobs not in session_ids(alice_cli)[0]


def test_commands_that_need_a_session_say_so(run: Cli, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    run.ok("verify")  # make the vault first, so the only line below is the error
    for args in (
        ["whoami"],
        ["ls", "--json"],
        ["upload", tmp_path / "f.txt"],
        ["download", "1", "-o", tmp_path],
        ["share", "1", "bob"],
        ["rename", "1", "g.txt"],
        ["log"],
        ["sessions", "revoke", "--all"],
    ):
        line = run.fail(*args)
        assert line == run.not_logged_in, args


# -- two OS users, one vault --------------------------------------------------------------------


def test_two_os_users_each_keep_their_own_session(alice_cli: Cli, bob_cli: Cli) -> None:
    assert alice_cli.state != bob_cli.state
    assert alice_cli.vault_dir == bob_cli.vault_dir
    assert alice_cli.ok("whoami").stdout == "alice\n"
    assert bob_cli.ok("whoami").stdout == "bob\n"

    for cli, name in ((alice_cli, "alice"), (bob_cli, "bob")):
        (path,) = cli.token_files()
        assert path.parent == cli.state / "vault" / "sessions"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        body = json.loads(path.read_text())
        assert body["username"] == name
        assert body["vault"] == str(cli.place.resolve())
        assert ALICE_PW not in path.read_text() and BOB_PW not in path.read_text()

    bob_cli.ok("logout")
    assert alice_cli.ok("whoami").stdout == "alice\n"
    bob_cli.fail("whoami")


def test_token_file_is_0600_whatever_the_umask(run: Cli) -> None:
    run.ok("register", "alice", "--password-stdin", input=ALICE_PW + "\n", umask=0)
    (path,) = run.token_files()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# -- which vault --------------------------------------------------------------------------------


@pytest.mark.direct_only  # --vault picks direct mode whatever VAULT_SOCKET says
def test_vault_option_before_or_after_the_command(run: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other-vault"
    run.ok("--vault", other, "register", "alice", "--password-stdin", input=ALICE_PW + "\n")
    assert (other / "vault.db").is_file()
    assert not (run.vault_dir / "vault.db").exists()
    assert run.ok("whoami", "--vault", other).stdout == "alice\n"
    assert run.ok("--vault", other, "whoami").stdout == "alice\n"
    # the session belongs to that vault only (the token file is per vault)
    r = run("whoami")
    assert r.returncode == 1, describe(r)
    assert r.stderr.splitlines() == [
        f"Created a new vault at {run.vault_dir}",
        "vault: Not logged in: run `vault login USER`",
    ]


@pytest.mark.direct_only  # about the personal vault's default folder
@pytest.mark.skipif(
    DEFAULT_SOCKET.is_socket(),
    reason=f"a vault daemon listens on {DEFAULT_SOCKET} here, and `vault` rightly picks it",
)
def test_default_vault_is_in_the_user_data_folder_without_vault_home(run: Cli) -> None:
    data = Path(run.env["XDG_DATA_HOME"])
    r = run("register", "alice", "--password-stdin", input=ALICE_PW + "\n",
            env_extra={"VAULT_HOME": None})  # fmt: skip
    assert r.returncode == 0, describe(r)
    assert (data / "vault" / "vault.db").is_file()
    assert not run.vault_dir.exists()


@pytest.mark.parametrize("args", [["bogus"], ["ls", "--bogus"], ["log", "--limit", "many"]])
def test_bad_arguments_are_usage_errors(run: Cli, args: list[str]) -> None:
    r = run.usage(*args)
    assert len(r.stderr.strip().splitlines()) <= 3


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "eighty"])
def test_a_port_out_of_range_is_a_usage_error(run: Cli, port: str) -> None:
    r = run.usage("serve", "--port", port)
    assert "--port" in r.stderr and "port" in r.stderr.splitlines()[-1]
    assert "Serving" not in r.stdout


def _tui_without_a_terminal(cli: Cli, stdin_tty: bool) -> tuple[int, bytes, bytes]:
    """Run bare `vault` with one of stdin and stdout a terminal and the other a pipe."""
    pipe = {"stdout" if stdin_tty else "stdin": subprocess.PIPE, "stderr": subprocess.PIPE}
    with _on_a_pty(cli, [], **pipe) as (proc, master):
        out, err = proc.communicate(timeout=TIMEOUT)
        os.set_blocking(master, False)
        try:
            on_terminal = os.read(master, 65536)
        except OSError:  # EIO/EAGAIN: nothing was written to the terminal
            on_terminal = b""
        return proc.returncode, (out or b"") + on_terminal, err


@pytest.mark.direct_only  # checks that no vault folder was made; a daemon makes its own
def test_the_tui_without_a_terminal_says_so_instead_of_hanging(run: Cli) -> None:
    r = run()  # stdin /dev/null, stdout a pipe
    assert r.returncode == 2, describe(r)
    assert "needs a terminal" in r.stderr and "\x1b" not in r.stdout + r.stderr
    for stdin_tty in (True, False):
        code, out, err = _tui_without_a_terminal(run, stdin_tty)
        assert code == 2, (stdin_tty, out, err)
        assert b"needs a terminal" in err and b"\x1b" not in out
    assert not run.vault_dir.exists()  # refused before opening (or creating) anything


@pytest.mark.direct_only  # about opening a vault folder (--vault)
def test_unusable_vault_folder_is_a_one_line_error(run: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = assert_one_line_error(run("verify", "--vault", blocker / "vault"))
    assert "Cannot open the vault" in line
    assert re.search(r"Not a directory|File exists", line), line


def test_commands_that_check_no_password_compute_no_argon2_hash(
    alice_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up stays lean: no argon2 hash (~0.1 s, 64 MiB) unless a password is checked.

    In-process `main` (same env as the subprocesses), counting argon2 hash calls.
    """
    import argon2

    from vault.cli import main

    calls: list[str] = []
    real = argon2.PasswordHasher.hash

    def counting(self: argon2.PasswordHasher, password: str | bytes, **kw: object) -> str:
        calls.append("hash")
        return real(self, password, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting)
    assert main(["whoami"]) == 0
    assert main(["verify"]) == 0
    assert calls == []


def test_failed_logins_for_one_name_do_not_lock_out_another_user(alice_cli: Cli) -> None:
    mallory = alice_cli.as_os_user("mallory")
    for _ in range(5):
        assert "Wrong username or password" in mallory.fail(
            "login", "mallory", "--password-stdin", input="wrong-password\n"
        )
    alice_cli.login("alice", ALICE_PW)


# -- login throttling: another OS user guessing (vault/core/throttle.py) ------------------------

OTHER_UID = ("unshare", "--map-user=1234", "--map-group=1234")
"""Run as uid 1234 in a user namespace: another OS user to the vault, same files to the kernel."""
THROTTLED = re.compile(r"vault: Too many failed logins, retry in (\d+) s")


@pytest.fixture
def other_uid() -> tuple[str, ...]:
    """The prefix that runs `vault` as another OS user (the client identity is the uid)."""
    probe = subprocess.run([*OTHER_UID, "id", "-u"], capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != "1234":
        pytest.skip(f"no user namespaces here: {probe.stderr.strip()}")
    return OTHER_UID


@pytest.mark.direct_only  # through a socket, the namespace's uid 1234 is root (uid 0) again
def test_the_owners_os_user_logs_in_while_another_os_user_guesses(
    alice_cli: Cli, other_uid: tuple[str, ...]
) -> None:
    mallory = alice_cli.as_os_user("mallory")
    for _ in range(throttle.ACCOUNT_FREE):
        line = mallory.fail("login", "alice", "--password-stdin", input="wrong-pw\n",
                            prefix=other_uid)  # fmt: skip
        assert line == "vault: Wrong username or password"
    line = mallory.fail("login", "alice", "--password-stdin", input=ALICE_PW + "\n",
                        prefix=other_uid)  # fmt: skip
    assert THROTTLED.fullmatch(line), line  # even the right password waits, for mallory
    # alice's own OS user (it registered from there) is not slowed down at all
    alice_cli.ok("logout")
    alice_cli.login("alice", ALICE_PW)
    assert alice_cli.ok("whoami").stdout == "alice\n"


@pytest.mark.direct_only  # through a socket, the namespace's uid 1234 is root (uid 0) again
def test_an_hour_of_guessing_from_the_web_still_lets_the_owner_in(
    alice_cli: Cli, other_uid: tuple[str, ...]
) -> None:
    v = Vault(alice_cli.vault_dir, hasher=Hasher(cheap=True))
    assert seed_guesses(v, last_ago=10) == 12
    v.close()
    # one count for the account, whatever the client: another OS user waits minutes
    mallory = alice_cli.as_os_user("mallory")
    line = mallory.fail("login", "alice", "--password-stdin", input=ALICE_PW + "\n",
                        prefix=other_uid)  # fmt: skip
    m = THROTTLED.fullmatch(line)
    assert m and 600 < int(m.group(1)) <= throttle.LONGEST_WAIT, line
    alice_cli.login("alice", ALICE_PW)


def test_registering_from_the_cli_is_not_rate_limited(run: Cli) -> None:
    """Documented choice: whoever can run the CLI on a vault can write its database anyway."""
    for i in range(throttle.REGISTER_FREE + 1):
        run.register(f"user{i}", "password1")
