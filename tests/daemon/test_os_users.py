"""Shared-machine mode with real OS users: the kernel, not the client, says who is connecting.

As root, this makes two users and a service account (removed afterwards, even on failure),
starts the daemon as root with `--user` the service account, and runs clients as each user
through `setpriv` (which leaves them no capabilities, so file modes hold). Those users cannot
read /root, where our interpreter lives, so they get one of their own: a venv from
/usr/bin/python3 in a world-readable temp folder, with a copy of what the daemon and the
client import (copied, not pointed at: the checkout may sit where other users cannot read).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.helpers import Daemon, daemon_argv, start_daemon

SYSTEM_PYTHON = Path("/usr/bin/python3")


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root to make OS users and start the daemon as root"
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not SYSTEM_PYTHON.exists():
        return f"needs {SYSTEM_PYTHON} to build an interpreter other users can run"
    version = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if version != str(sys.version_info[:2]):
        return f"{SYSTEM_PYTHON} is {version}, not {sys.version_info[:2]} (compiled modules)"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))

PROBE = (
    "import json, sys, vault.client.remote, vault.daemon.server, vault.daemon.command, "
    "vault.core.upkeep; from vault.core.passwords import Hasher; "
    "Hasher(cheap=True).hash('warm up argon2'); "
    "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"
)

DRIVER = textwrap.dedent(
    """
    import dataclasses, json, sys
    from pathlib import Path
    from vault.client.remote import DaemonClient
    from vault.core.errors import VaultError

    def plain(x):
        if dataclasses.is_dataclass(x):
            return dataclasses.asdict(x)
        return str(x)

    client = DaemonClient(sys.argv[1])
    op, args = sys.argv[2], json.loads(sys.argv[3])
    try:
        result = getattr(client, op)(**args)
    except VaultError as e:
        print(json.dumps({"error": type(e).__name__, "message": str(e)}))
        sys.exit(1)
    print(json.dumps({"ok": result}, default=plain))
    """
)


@dataclass
class OsUser:
    name: str
    uid: int
    gid: int
    home: Path
    """0700, theirs: their token file, the files they upload, the folder they download into."""


@dataclass
class World:
    base: Path
    """World-readable (0755), root's: the interpreter, the socket folder, the vault."""
    python: Path
    driver: Path
    service: OsUser
    alice: OsUser
    bob: OsUser

    def run(self, who: OsUser, *argv: str | Path) -> subprocess.CompletedProcess[str]:
        env = [f"HOME={who.home}", f"XDG_STATE_HOME={who.home}/state", "PATH=/usr/bin:/bin"]
        return subprocess.run(
            ["setpriv", f"--reuid={who.uid}", f"--regid={who.gid}", "--clear-groups",
             "env", "-i", *env, *map(str, argv)],
            capture_output=True, text=True, cwd=who.home, timeout=120,
        )  # fmt: skip

    def call(self, who: OsUser, sock: Path, op: str, **args: Any) -> dict[str, Any]:
        """A client operation as `who`: {"ok": result} or {"error": class, "message": …}."""
        r = self.run(who, self.python, self.driver, sock, op, json.dumps(args))
        assert r.stdout, r.stderr
        return json.loads(r.stdout)  # type: ignore[no-any-return]

    def python_as(self, who: OsUser, code: str) -> str:
        r = self.run(who, self.python, "-c", code)
        assert r.returncode == 0, r.stderr
        return r.stdout


def _copy_what_is_imported(lib: Path) -> None:
    """Copy every top-level module the daemon and client import from our site-packages."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, check=True)
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    import vault

    tops = {Path(vault.__file__).resolve().parent}
    for f in json.loads(out.stdout):
        if not f:
            continue
        path = Path(f).resolve()
        if site in path.parents:
            tops.add(site / path.relative_to(site).parts[0])
    for top in tops:
        if top.is_dir():
            shutil.copytree(top, lib / top.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(top, lib / top.name)


def _make_user(name: str, home: Path) -> OsUser:
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
    )
    ids = subprocess.run(["id", "-u", name], capture_output=True, text=True, check=True)
    gids = subprocess.run(["id", "-g", name], capture_output=True, text=True, check=True)
    user = OsUser(name, int(ids.stdout), int(gids.stdout), home)
    home.mkdir(mode=0o700)
    os.chown(home, user.uid, user.gid)
    return user


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    base = Path(tempfile.mkdtemp(prefix="vault-os-", dir="/tmp"))
    made: list[str] = []
    try:
        base.chmod(0o755)
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", base / "venv"], check=True)
        lib = base / "lib"
        lib.mkdir()
        _copy_what_is_imported(lib)
        (site,) = (base / "venv" / "lib").glob("python3*/site-packages")
        (site / "vault-test.pth").write_text(f"{lib}\n")
        driver = base / "driver.py"
        driver.write_text(DRIVER)
        subprocess.run(["chmod", "-R", "a+rX,go-w", str(base)], check=True)
        tag = secrets.token_hex(3)
        users = []
        for role in ("svc", "a", "b"):
            name = f"vt{tag}{role}"
            made.append(name)
            users.append(_make_user(name, base / f"home-{role}"))
        yield World(base, base / "venv" / "bin" / "python", driver, *users)
    finally:
        for name in made:
            subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def served(world: World) -> Iterator[tuple[Daemon, Path]]:
    """A daemon started as root with --user the service account, on a fresh vault."""
    yield from _serve(world)


@pytest.fixture
def served_bob_admin(world: World) -> Iterator[tuple[Daemon, Path]]:
    """As `served`, with `--admin-group` a new OS group that has bob (not alice) in it."""
    group = f"vt{secrets.token_hex(3)}adm"
    subprocess.run(["groupadd", "--system", group], check=True)
    try:
        subprocess.run(["gpasswd", "--add", world.bob.name, group], check=True, capture_output=True)
        yield from _serve(world, "--admin-group", group)
    finally:
        subprocess.run(["groupdel", group], capture_output=True)


def _serve(world: World, *args: str) -> Iterator[tuple[Daemon, Path]]:
    run = world.base / f"run-{secrets.token_hex(3)}"
    sock = run / "vault.sock"
    vault_dir = world.base / f"vault-{secrets.token_hex(3)}"
    argv = daemon_argv(
        vault_dir, sock, "--user", world.service.name, *args, python=str(world.python)
    )
    d = start_daemon(
        vault_dir, sock, world.base / "daemon.log", argv=argv,
        env={"PATH": "/usr/bin:/bin"}, cwd=world.base,
    )  # fmt: skip
    try:
        yield d, sock
    finally:
        assert d.stop() == 0, d.log_text()
        assert "Traceback" not in d.log_text(), d.log_text()
        shutil.rmtree(vault_dir, ignore_errors=True)
        shutil.rmtree(run, ignore_errors=True)


def _file(who: OsUser, name: str, data: bytes, mode: int = 0o600) -> Path:
    path = who.home / name
    path.write_bytes(data)
    os.chown(path, who.uid, who.gid)
    path.chmod(mode)
    return path


def test_the_daemon_runs_as_the_service_account(world: World, served: tuple[Daemon, Path]) -> None:
    d, sock = served
    status = Path(f"/proc/{d.proc.pid}/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":")[1].split() for line in status if ":" in line}
    svc = world.service
    assert fields["Uid"] == [str(svc.uid)] * 4
    assert fields["Gid"] == [str(svc.gid)] * 4
    assert fields["Groups"] == []
    st = os.stat(d.vault_dir)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (svc.uid, 0o700)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o666
    assert world.call(world.alice, sock, "whoami")["ok"]["username"] == world.alice.name
    assert os.stat(d.vault_dir / "vault.db").st_uid == svc.uid


def test_each_user_sees_their_files_and_what_is_shared(
    world: World, served: tuple[Daemon, Path]
) -> None:
    _, sock = served
    alice, bob = world.alice, world.bob
    data = os.urandom(3 << 20)
    a_src = _file(alice, "a.bin", data)
    _file(bob, "b.txt", b"bob's own")
    up = world.call(alice, sock, "upload", path=str(a_src))["ok"]
    assert up["owner"] == alice.name
    world.call(bob, sock, "upload", path=str(bob.home / "b.txt"))
    mine = world.call(alice, sock, "list_files")["ok"]
    assert [e["name"] for e in mine["own"]] == ["a.bin"] and mine["shared"] == []
    theirs = world.call(bob, sock, "list_files")["ok"]
    assert [e["name"] for e in theirs["own"]] == ["b.txt"] and theirs["shared"] == []
    refused = world.call(bob, sock, "download", ref=up["id"], folder=str(bob.home))
    assert refused["error"] == "NoSuchFile"
    world.call(alice, sock, "share", ref=up["id"], target=bob.name)
    theirs = world.call(bob, sock, "list_files")["ok"]
    assert [e["name"] for e in theirs["shared"]] == ["a.bin"]
    got = Path(world.call(bob, sock, "download", ref=up["id"], folder=str(bob.home))["ok"])
    assert got.parent == bob.home and got.read_bytes() == data
    assert os.stat(got).st_uid == bob.uid  # written by bob's own process


def test_no_user_can_read_the_vault_directly(world: World, served: tuple[Daemon, Path]) -> None:
    d, sock = served
    world.call(world.alice, sock, "upload", path=str(_file(world.alice, "x.txt", b"secret")))
    (obj,) = [p for p in (d.vault_dir / "objects").glob("*/*")]
    code = textwrap.dedent(
        f"""
        import os
        for what in ({str(d.vault_dir)!r}, {str(d.vault_dir / "vault.db")!r}, {str(obj)!r}):
            try:
                os.listdir(what) if what.endswith("{d.vault_dir.name}") else open(what).read()
                print("READ", what)
            except PermissionError:
                print("EACCES")
        """
    )
    for who in (world.alice, world.bob):
        assert world.python_as(who, code).split() == ["EACCES"] * 3


def test_a_client_cannot_claim_another_identity(world: World, served: tuple[Daemon, Path]) -> None:
    _, sock = served
    bob = world.bob
    assert world.call(bob, sock, "whoami")["ok"]["username"] == bob.name  # bob's account exists
    code = textwrap.dedent(
        f"""
        import socket
        from vault.daemon import wire
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect({str(sock)!r})
        ch = wire.Channel(s, wire.MAX_REPLY)
        for request in (
            {{"op": "whoami", "args": {{}}, "token": None, "user": {bob.name!r}}},
            {{"op": "whoami", "args": {{"uid": {bob.uid}}}, "token": None}},
        ):
            ch.send(request)
            print(ch.recv_message()["error"]["type"])
            s.close()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect({str(sock)!r})
            ch = wire.Channel(s, wire.MAX_REPLY)
        ch.send({{"op": "whoami", "args": {{}}, "token": None}})
        print(ch.recv_message()["ok"]["username"])
        """
    )
    out = world.python_as(world.alice, code).split()
    assert out == ["ProtocolError", "ProtocolError", world.alice.name]
    # a peer account has no password: alice cannot log in as bob either
    assert world.call(world.alice, sock, "login", username=bob.name, password="")["error"] == (
        "LoginFailed"
    )
    taken = world.call(world.alice, sock, "register", username=bob.name.upper(), password="x" * 8)
    assert taken["error"] == "NotPermitted"


def test_what_a_user_cannot_read_cannot_be_uploaded(
    world: World, served: tuple[Daemon, Path]
) -> None:
    d, sock = served
    shared = world.base / f"drop-{secrets.token_hex(3)}"
    shared.mkdir(mode=0o755)
    secret = shared / "bobs-secret.txt"
    secret.write_bytes(b"only bob")
    os.chown(secret, world.bob.uid, world.bob.gid)
    secret.chmod(0o600)
    try:
        r = world.call(world.alice, sock, "upload", path=str(secret))
        assert r["error"] == "SourceError" and "Permission denied" in r["message"]
        assert world.call(world.alice, sock, "list_files")["ok"]["own"] == []
    finally:
        shutil.rmtree(shared)


def test_a_download_needs_a_folder_the_user_can_write(
    world: World, served: tuple[Daemon, Path]
) -> None:
    _, sock = served
    up = world.call(world.alice, sock, "upload", path=str(_file(world.alice, "y.txt", b"y")))
    r = world.call(world.alice, sock, "download", ref=up["ok"]["id"], folder=str(world.base))
    assert r["error"] == "DestinationError"
    assert "Permission denied" in r["message"]
    assert not list(world.base.glob("y*.txt")) and not list(world.base.glob(".*.vault-part"))


def test_upkeep_is_for_admins(world: World, served: tuple[Daemon, Path]) -> None:
    _, sock = served
    for op in ("verify", "gc", "admin_users"):
        r = world.call(world.alice, sock, op)
        assert r["error"] == "NotPermitted", r


def test_the_admin_group_manages_accounts_and_others_cannot(
    world: World, served_bob_admin: tuple[Daemon, Path]
) -> None:
    _, sock = served_bob_admin
    alice, bob = world.alice, world.bob
    assert world.call(alice, sock, "whoami")["ok"]["username"] == alice.name
    for op, args in (("admin_users", {}), ("admin_disable", {"user": bob.name}),
                     ("admin_quota", {"user": alice.name, "quota": None})):  # fmt: skip
        r = world.call(alice, sock, op, **args)
        assert r["error"] == "NotPermitted", r
    names = [a["username"] for a in world.call(bob, sock, "admin_users")["ok"]]
    assert names == [alice.name]  # an admin act needs no vault account: bob has none yet
    world.call(bob, sock, "admin_disable", user=alice.name)
    refused = world.call(alice, sock, "list_files")  # peer login: the kernel's word is not enough
    assert refused["error"] == "AccountDisabled", refused
    assert "disabled" in refused["message"]
    world.call(bob, sock, "admin_enable", user=alice.name)
    world.call(bob, sock, "admin_quota", user=alice.name, quota=10)
    over = world.call(alice, sock, "upload", path=str(_file(alice, "big", b"x" * 11)))
    assert over["error"] == "OverQuota", over
    assert world.call(alice, sock, "usage")["ok"] == {"files": 0, "bytes": 0, "quota": 10}


def test_the_vault_command_as_each_user(world: World, served: tuple[Daemon, Path]) -> None:
    """The real `vault` command, run by two OS users against the daemon: peer login (no
    password), upload, share, list, download, status, exactly as the README tells them."""
    _, sock = served
    alice, bob = world.alice, world.bob

    def vault(who: OsUser, *args: str | Path) -> str:
        r = world.run(who, world.python, "-m", "vault", *args, "--socket", sock)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout

    data = os.urandom(1 << 20)
    _file(alice, "report.bin", data)
    assert vault(bob, "whoami").strip() == bob.name  # his first use makes his account
    assert "Uploaded report.bin" in vault(alice, "upload", alice.home / "report.bin")
    assert f"with {bob.name}" in vault(alice, "share", "report.bin", bob.name)
    listed = vault(bob, "ls")
    assert "Shared with you" in listed and f"report.bin  from {alice.name}" in listed
    assert "Your files" not in listed
    vault(bob, "download", "report.bin", "-o", bob.home)
    got = bob.home / "report.bin"
    assert got.read_bytes() == data and os.stat(got).st_uid == bob.uid
    status = vault(bob, "status")
    assert "mode: daemon" in status and f"user: {bob.name}" in status
