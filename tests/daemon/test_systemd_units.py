"""contrib/systemd: the units say what the issue asks, and the daemon runs the way they start it.

systemd itself does not run in the test container (no PID 1 systemd), so the last test plays
its part: it binds the socket as root the way vault.socket does, makes the state folder the
way StateDirectory= does, and starts the unit's ExecStart as the service account with
NoNewPrivileges, no capabilities and the socket as fd 3 (LISTEN_FDS, LISTEN_PID,
LISTEN_FDNAMES), then real OS users upload, share and download through it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import test_os_users
from tests.daemon.helpers import start_daemon
from tests.daemon.test_daemon import WRAPPER
from tests.daemon.test_os_users import World, _file, _why_not
from vault.daemon import command
from vault.daemon.wire import DEFAULT_SOCKET

world = test_os_users.world  # the OS users and interpreter, shared with those tests

UNITS = Path(__file__).parents[2] / "contrib" / "systemd"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (keys may repeat, as in systemd)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{name}: not KEY=VALUE: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(section: dict[str, list[str]], key: str) -> str:
    (value,) = section[key]
    return value


def exec_start() -> tuple[list[str], argparse.Namespace]:
    """ExecStart as argv, and its `vault daemon` arguments as the daemon reads them."""
    argv = shlex.split(one(unit("vault.service")["Service"], "ExecStart"))
    assert Path(argv[0]).name == "vault" and argv[1] == "daemon", argv
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return argv, parser.parse_args(argv[2:])


def test_the_service_runs_vault_daemon_as_a_dedicated_hardened_account() -> None:
    service = unit("vault.service")
    s = service["Service"]
    assert s.get("User") == ["vault"] or s.get("DynamicUser") == ["yes"]
    assert one(s, "StateDirectory") == "vault"
    assert one(s, "RuntimeDirectory") == "vault"
    assert one(s, "RuntimeDirectoryPreserve") == "yes"  # else a stop removes the socket's folder
    assert one(s, "ProtectSystem") == "strict"
    assert one(s, "NoNewPrivileges") == "yes"
    assert one(s, "ProtectHome") == "yes"
    assert one(s, "CapabilityBoundingSet") == ""
    assert "PrivateUsers" not in s  # the peers' uids must be the real ones
    assert one(service["Unit"], "Requires") == "vault.socket"
    _, args = exec_start()
    assert args.vault == Path("/var/lib/vault")  # StateDirectory=vault
    assert args.user is None  # systemd starts it as User= already
    assert args.http is None


def test_the_socket_is_the_one_clients_look_for_and_the_daemon_is_told() -> None:
    sock = unit("vault.socket")["Socket"]
    path = Path(one(sock, "ListenStream"))
    assert path == DEFAULT_SOCKET
    assert path.parent == Path("/run") / one(unit("vault.service")["Service"], "RuntimeDirectory")
    assert one(sock, "SocketMode") == "0666"
    assert one(sock, "DirectoryMode") == "0755"
    assert "Accept" not in sock  # one daemon for every connection, not one per connection
    _, args = exec_start()
    assert args.socket == path


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # verify wants ExecStart's program to exist: point it at ours, change nothing else
    argv, _ = exec_start()
    vault_bin = shutil.which("vault") or str(Path(sys.executable).parent / "vault")
    assert Path(vault_bin).exists()
    for name in ("vault.service", "vault.socket"):
        text = (UNITS / name).read_text().replace(argv[0], vault_bin)
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", "vault.socket", "vault.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"),
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.fixture
def activated(world: World) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    """The service started as systemd would on the first connection to vault.socket."""
    if _why_not() is not None:
        pytest.skip(str(_why_not()))
    tag = secrets.token_hex(3)
    run, state = world.base / f"run-{tag}", world.base / f"state-{tag}"
    svc = world.service
    run.mkdir(mode=0o755)  # RuntimeDirectory=vault, RuntimeDirectoryMode=0755
    os.chown(run, svc.uid, svc.gid)
    state.mkdir(mode=0o700)  # StateDirectory=vault, StateDirectoryMode=0700
    os.chown(state, svc.uid, svc.gid)
    path = run / "vault.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # vault.socket, bound by root
    listener.bind(str(path))
    os.chmod(path, 0o666)  # SocketMode=0666
    listener.listen()
    argv, _ = exec_start()
    args = [a.replace("/var/lib/vault", str(state)) for a in argv[2:]]
    args = [a.replace(str(DEFAULT_SOCKET), str(path)) for a in args]
    log = world.base / f"daemon-{tag}.log"
    d = start_daemon(
        state, path, log, ready=path,
        argv=[
            "setpriv", f"--reuid={svc.uid}", f"--regid={svc.gid}", "--clear-groups",
            "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all",  # User=, the hardening
            "env", "-i", "PATH=/usr/bin:/bin", "LISTEN_FDNAMES=vault.socket",
            world.python, "-c", WRAPPER, str(listener.fileno()),
            "-m", "vault.daemon", *args,
        ],
        pass_fds=[listener.fileno()], cwd=world.base,
    )  # fmt: skip
    listener.close()  # systemd keeps its own copy; the test has handed it over
    try:
        yield d.proc, path, state
    finally:
        assert d.stop() == 0, d.log_text()
        assert "Traceback" not in d.log_text(), d.log_text()
        assert path.exists()  # vault.socket's, not the daemon's to remove
        shutil.rmtree(run, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


def test_the_units_way_serves_real_users(
    world: World, activated: tuple[subprocess.Popen[bytes], Path, Path]
) -> None:
    proc, path, state = activated
    svc, alice, bob = world.service, world.alice, world.bob
    status = Path(f"/proc/{proc.pid}/status").read_text()
    assert f"Uid:\t{svc.uid}\t{svc.uid}\t{svc.uid}\t{svc.uid}" in status
    assert "NoNewPrivs:\t1" in status and "CapEff:\t0000000000000000" in status
    src = _file(alice, "hello.txt", b"through the activated socket")
    up = world.call(alice, path, "upload", path=str(src))["ok"]
    assert world.call(bob, path, "whoami")["ok"]["username"] == bob.name  # made on first use
    assert "ok" in world.call(alice, path, "share", ref=up["id"], target=bob.name)
    got = world.call(bob, path, "download", ref=up["id"], folder=str(bob.home))["ok"]
    assert Path(got).read_bytes() == b"through the activated socket"
    assert os.stat(state / "vault.db").st_uid == svc.uid
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
