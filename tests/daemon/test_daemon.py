"""The daemon itself: errors across the socket, start and stop, crashes, and hostile clients."""

from __future__ import annotations

import json
import os
import pwd
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import ALICE_PW, BOB_PW

from tests.daemon.helpers import (
    AsOsUser,
    Daemon,
    daemon_argv,
    objects,
    rows,
    start_daemon,
    temps,
    wait_until,
)
from vault.client import choose
from vault.client.local import LocalClient
from vault.client.remote import DaemonClient
from vault.core import Vault, files, upkeep, users
from vault.core.errors import VaultError, VaultUnavailable
from vault.core.passwords import Hasher
from vault.daemon import wire

Src = Callable[[str, bytes], Path]
ROOT = pwd.getpwuid(0).pw_name


def _failures(c: Any, other: Any, src: Src, out: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """Run calls that must fail; return (class, message, fields) of each error."""
    entry = c.upload(src("a.txt", b"a"))
    c.upload(src("b.txt", b"b"))
    c.upload(src(str(entry.id + 100), b"named like an id"))
    c.share(entry.id, "bob")
    calls: list[Callable[[], object]] = [
        lambda: c.register("bob", "short"),
        lambda: c.register("b ob", BOB_PW),
        lambda: c.register("BOB", BOB_PW),
        lambda: c.find_file("nope"),
        lambda: c.find_file(10**30),
        lambda: c.rename(entry.id, "b.txt"),
        lambda: c.rename(entry.id, "../x"),
        lambda: c.versions(entry.id + 100),
        lambda: c.download(entry.id, out, version=7),
        lambda: c.download(entry.id, out / "missing"),
        lambda: c.download(entry.id, src("file", b"") / "under"),
        lambda: c.share(entry.id, "nobody"),
        lambda: c.share(entry.id, c.whoami().username),
        lambda: c.revoke_session(12345),
        lambda: c.upload(out / "missing.bin"),
        lambda: other.rename(entry.id, "z"),
        lambda: other.login("alice", "wrong-password"),
    ]
    found = []
    for call in calls:
        with pytest.raises(VaultError) as err:
            call()
        fields = {k: v for k, v in vars(err.value).items() if k != "identity"}
        found.append((type(err.value).__name__, str(err.value), fields))
    return found


def test_errors_cross_the_socket_unchanged(
    daemon: Daemon, tmp_path: Path, src: Src, out_dir: Path
) -> None:
    """The same calls fail with the same class, message and fields in both modes."""
    seen = []
    for name, make in (
        ("local", lambda: LocalClient(Vault(tmp_path / "direct", hasher=Hasher(cheap=True)))),
        ("daemon", lambda: DaemonClient(daemon.socket)),
    ):
        alice = AsOsUser(make(), tmp_path / f"{name}-alice")
        bob = AsOsUser(make(), tmp_path / f"{name}-bob")
        alice.register("alice", ALICE_PW)
        alice.login("alice", ALICE_PW)
        bob.register("bob", BOB_PW)
        bob.login("bob", BOB_PW)
        seen.append(_failures(alice, bob, src, out_dir))
        for c in (alice, bob):
            c.close()
        for p in (tmp_path / "src").iterdir():
            p.unlink()
    local, remote = seen
    assert [f[0] for f in local] == [f[0] for f in remote]
    assert local == remote
    assert {f[0] for f in local} >= {"NoSuchFile", "NameTaken", "InvalidName", "NotOwner"}


# -- a daemon that is not there -----------------------------------------------------------------


def test_a_daemon_that_is_down_says_where_and_how(tmp_path: Path) -> None:
    missing = tmp_path / "run" / "vault.sock"
    with pytest.raises(VaultUnavailable) as err:
        DaemonClient(missing).whoami()
    message = str(err.value)
    assert "\n" not in message
    assert f"at {missing} (No such file or directory)" in message
    assert f"vault daemon --vault DIR --socket {missing}" in message
    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(stale))  # a socket file nobody listens on: a daemon that died
    s.close()
    with pytest.raises(VaultUnavailable, match=r"stale\.sock \(Connection refused\); start it"):
        DaemonClient(stale).list_files()


def test_choose_follows_flags_then_environment_then_the_default_socket(tmp_path: Path) -> None:
    sock = tmp_path / "default.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(sock))
    s.close()
    env = {"VAULT_SOCKET": "/env.sock", "VAULT_HOME": "/env-vault"}
    assert choose("/v", "/s", env, sock) == ("daemon", Path("/s"))
    assert choose("/v", None, env, sock) == ("direct", Path("/v"))
    assert choose(None, None, env, sock) == ("daemon", Path("/env.sock"))
    assert choose(None, None, {"VAULT_HOME": "/env-vault"}, sock) == ("direct", Path("/env-vault"))
    assert choose(None, None, {}, sock) == ("daemon", sock)
    mode, _ = choose(None, None, {}, tmp_path / "absent.sock")
    assert mode == "direct"


# -- starting and stopping ----------------------------------------------------------------------


def test_sigterm_stops_cleanly(daemon_factory: Callable[..., Daemon]) -> None:
    d = daemon_factory()
    assert stat.S_IMODE(os.stat(d.socket).st_mode) == 0o666
    assert stat.S_IMODE(os.stat(d.vault_dir).st_mode) == 0o700
    assert d.stop() == 0
    assert not d.socket.exists()


def test_a_second_daemon_on_the_same_socket_is_refused(daemon: Daemon, tmp_path: Path) -> None:
    r = subprocess.run(
        daemon_argv(tmp_path / "other", daemon.socket), capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1
    assert f"A vault daemon already listens on {daemon.socket}" in r.stderr
    assert DaemonClient(daemon.socket).register("alice", ALICE_PW)  # the first one still serves


def test_a_socket_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(0o777)
    r = subprocess.run(
        daemon_argv(tmp_path / "v", folder / "vault.sock"), capture_output=True, text=True
    )
    assert r.returncode == 1 and "Others can write into" in r.stderr
    assert not (folder / "vault.sock").exists()


def test_clients_reconnect_after_a_restart(daemon_factory: Callable[..., Daemon]) -> None:
    d = daemon_factory()
    client = DaemonClient(d.socket)
    first = client.whoami()  # leaves an idle connection in the client's pool
    assert first.username == ROOT
    assert d.stop() == 0
    d2 = daemon_factory()
    assert client.whoami() == first
    client.close()
    assert d2.socket == d.socket


WRAPPER = textwrap.dedent(
    """
    import os, sys
    fd = int(sys.argv[1])
    if fd != 3:
        os.dup2(fd, 3)
        os.close(fd)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())  # as systemd sets it: the pid it execs
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
    """
)


def test_a_socket_inherited_from_systemd(tmp_path: Path) -> None:
    path = tmp_path / "activated.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    unused = tmp_path / "unused" / "vault.sock"
    argv = [
        sys.executable,
        "-c",
        WRAPPER,
        str(listener.fileno()),
        *daemon_argv(tmp_path / "v", unused)[1:],
    ]
    d = start_daemon(
        tmp_path / "v", path, tmp_path / "d.log", argv=argv, pass_fds=[listener.fileno()]
    )
    listener.close()
    try:
        assert DaemonClient(path).whoami().username == ROOT
        assert not unused.parent.exists()  # it never bound a socket of its own
    finally:
        assert d.stop() == 0, d.log_text()
    assert path.exists()  # systemd's socket: not ours to remove


def test_listen_fds_for_another_pid_are_ignored(tmp_path: Path) -> None:
    sock = tmp_path / "run" / "vault.sock"
    env = dict(os.environ, LISTEN_PID="1", LISTEN_FDS="1")
    d = start_daemon(tmp_path / "v", sock, tmp_path / "d.log", env=env)
    try:
        assert DaemonClient(sock).whoami().username == ROOT
    finally:
        assert d.stop() == 0


# -- peer login ---------------------------------------------------------------------------------


def test_peer_login_and_password_login_over_the_socket(
    daemon_factory: Callable[..., Daemon], tmp_path: Path, src: Src
) -> None:
    d = daemon_factory()  # --accounts auto
    c = AsOsUser(DaemonClient(d.socket), tmp_path / "state")
    me = c.whoami()
    assert me.username == ROOT  # made on first use, no password
    assert c.whoami() == me
    assert c.upload(src("mine.txt", b"root's")).owner == ROOT
    c.register("alice", ALICE_PW)
    assert c.login("alice", ALICE_PW).username == "alice"
    assert c.whoami().username == "alice"
    assert c.list_files().own == []
    c.logout()
    assert c.whoami() == me  # back to the OS user's own account
    assert [e.name for e in c.list_files().own] == ["mine.txt"]
    c.close()


def test_admin_mode_makes_no_account(daemon: Daemon) -> None:
    with pytest.raises(VaultError, match="ask an admin"):
        DaemonClient(daemon.socket).whoami()
    assert rows(daemon.vault_dir, "SELECT count(*) FROM users") == [(0,)]


# -- crashes and stops in the middle of an upload ------------------------------------------------

UPLOADER = textwrap.dedent(
    """
    import sys
    from vault.client.remote import DaemonClient
    from vault.core.errors import VaultError
    try:
        DaemonClient(sys.argv[1]).upload(sys.argv[2], name="big.bin")
    except VaultError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
    """
)


def _logged_in_alice(d: Daemon, tmp_path: Path) -> dict[str, str]:
    """Register and log in alice; the environment of a process that acts as her."""
    state = tmp_path / "alice-state"
    c = AsOsUser(DaemonClient(d.socket), state)
    c.register("alice", ALICE_PW)
    c.login("alice", ALICE_PW)
    c.close()
    return dict(os.environ, XDG_STATE_HOME=str(state))


def _uploader(d: Daemon, env: dict[str, str], source: str, **kw: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", UPLOADER, str(d.socket), source],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


def _streaming(d: Daemon, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A client uploading its stdin; 3 MiB are in the daemon's temp file, more may come."""
    client = _uploader(d, env, "/dev/stdin", stdin=subprocess.PIPE)
    assert client.stdin is not None
    client.stdin.write(os.urandom(3 << 20))
    client.stdin.flush()
    wait_until(
        lambda: any(p.stat().st_size >= 3 << 20 for p in temps(d.vault_dir)),
        "the daemon to store the first bytes",
    )
    return client


def _nothing_stored(vault_dir: Path) -> None:
    assert rows(vault_dir, "SELECT count(*) FROM files") == [(0,)]
    assert rows(vault_dir, "SELECT count(*) FROM versions") == [(0,)]
    assert objects(vault_dir) == []


def test_a_client_killed_mid_upload_leaves_nothing(
    daemon_factory: Callable[..., Daemon], tmp_path: Path
) -> None:
    d = daemon_factory()
    client = _streaming(d, _logged_in_alice(d, tmp_path))
    client.kill()
    client.wait()
    wait_until(lambda: temps(d.vault_dir) == [], "the daemon to drop the temp file")
    _nothing_stored(d.vault_dir)
    assert DaemonClient(d.socket).whoami().username == ROOT  # still serving


def test_a_daemon_killed_mid_upload_leaves_nothing_half_stored(
    daemon_factory: Callable[..., Daemon], tmp_path: Path
) -> None:
    d = daemon_factory()
    client = _streaming(d, _logged_in_alice(d, tmp_path))
    d.proc.kill()
    d.proc.wait()
    _, err = client.communicate(timeout=60)
    assert client.returncode == 1
    assert b"Lost the connection to the vault daemon" in err
    _nothing_stored(d.vault_dir)
    assert len(temps(d.vault_dir)) == 1  # its writer is gone: garbage for gc
    v = Vault(d.vault_dir)
    assert len(upkeep.gc(v).temps) == 1
    assert temps(d.vault_dir) == [] and upkeep.verify(v).ok


def test_a_daemon_killed_mid_copy_keeps_old_or_new(
    daemon_factory: Callable[..., Daemon], tmp_path: Path
) -> None:
    """A descriptor upload: killed at any instant, the file is all there or not at all."""
    d = daemon_factory()
    env = _logged_in_alice(d, tmp_path)
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(16):
            f.write(os.urandom(16 << 20))
    client = _uploader(d, env, str(big))
    wait_until(lambda: temps(d.vault_dir) or client.poll() is not None, "the copy to start")
    d.proc.kill()
    d.proc.wait()
    client.communicate(timeout=60)
    v = Vault(d.vault_dir)
    upkeep.gc(v)
    stored = rows(d.vault_dir, "SELECT size FROM versions")
    assert stored in ([], [(big.stat().st_size,)])
    assert upkeep.verify(v).ok
    assert temps(d.vault_dir) == []
    assert len(objects(d.vault_dir)) == len(stored)


def test_sigterm_mid_upload_drops_it_and_exits_0(
    daemon_factory: Callable[..., Daemon], tmp_path: Path
) -> None:
    d = daemon_factory()
    client = _streaming(d, _logged_in_alice(d, tmp_path))
    assert d.stop() == 0
    _, err = client.communicate(timeout=60)
    assert client.returncode == 1
    assert b"The vault daemon is stopping" in err
    assert temps(d.vault_dir) == []
    _nothing_stored(d.vault_dir)


# -- hostile or broken clients ------------------------------------------------------------------


def _raw(d: Daemon) -> wire.Channel:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(d.socket))
    return wire.Channel(s, wire.MAX_REPLY)


def _targets(pid: int) -> set[str]:
    """What the process's descriptors point at (paths, `pipe:[N]`); gone ones are skipped."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            continue
    return found


@pytest.mark.parametrize(
    "request_",
    [
        {"op": "whoami", "args": {}, "token": None, "user": "alice"},
        {"op": "whoami", "args": {"uid": 1000}, "token": None},
        {"op": "list_files", "args": {"as": "bob"}, "token": None},
        {"op": "upload_fd", "args": {"name": "x", "label": "y", "path": "/etc/x"}, "token": None},
        {"op": "download_fd", "args": {"ref": 1, "version": None, "where": "/root"}, "token": None},
        {"op": "open", "args": {"path": "/etc/shadow"}, "token": None},
        {"op": "find_file", "args": {"ref": 1, "own": "yes"}, "token": None},
        {"op": "whoami", "args": {}, "token": 7},
    ],
)
def test_requests_off_the_table_are_refused(
    daemon_factory: Callable[..., Daemon], request_: dict[str, Any]
) -> None:
    """Nothing a client sends says who it is, and no operation takes a path."""
    d = daemon_factory()
    ch = _raw(d)
    ch.send(request_)
    reply = ch.recv_message()
    assert reply["error"]["type"] == "ProtocolError"
    with pytest.raises(wire.Closed):
        ch.recv()  # the connection is over
    ch.close()
    assert DaemonClient(d.socket).whoami().username == ROOT


@pytest.mark.parametrize(
    "frame",
    [
        b"hello world\n",
        wire.HEADER.pack(b"M", 1 << 31),  # announces 2 GiB: refused, never allocated
        wire.HEADER.pack(b"M", 3) + b"[1]",
        wire.HEADER.pack(b"M", 5) + b"{nope",
        wire.HEADER.pack(b"D", 3) + b"abc",
    ],
)
def test_malformed_frames_end_only_their_connection(
    daemon_factory: Callable[..., Daemon], frame: bytes
) -> None:
    d = daemon_factory()
    ch = _raw(d)
    ch.sock.sendall(frame)
    assert ch.recv_message()["error"]["type"] == "ProtocolError"
    ch.close()
    assert DaemonClient(d.socket).whoami().username == ROOT


def _fd_request(d: Daemon, op: str, args: dict[str, Any], fds: list[int]) -> dict[str, Any]:
    ch = _raw(d)
    try:
        ch.send({"op": op, "args": args, "token": None}, fds)
        while "progress" in (reply := ch.recv_message()):
            pass
        return reply
    finally:
        ch.close()


def test_descriptors_are_checked_and_closed(
    daemon_factory: Callable[..., Daemon], tmp_path: Path
) -> None:
    d = daemon_factory()
    f = tmp_path / "f.bin"
    f.write_bytes(b"data")
    up = {"name": "x", "label": "'f.bin'"}
    down = {"ref": "x", "version": None, "where": "'out'"}
    r, w = os.pipe()
    pipe_ino = os.fstat(r).st_ino
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("upload_fd", up, os.open(f, os.O_WRONLY), "not open for reading"),
        ("upload_fd", up, os.open(f, os.O_PATH), "not open for reading"),
        ("upload_fd", up, os.open(tmp_path, os.O_RDONLY), "'f.bin' is a folder"),
        ("download_fd", down, os.open(f, os.O_RDONLY), "not open for writing"),
        ("download_fd", down, os.open(f, os.O_WRONLY | os.O_APPEND), "not open for writing"),
        ("download_fd", down, w, "not a regular file"),
        ("upload_fd", up, os.dup(r), "not a regular file; stream it"),
    ]
    for op, args, fd, message in cases:
        reply = _fd_request(d, op, args, [fd])
        os.close(fd)
        assert message in reply["error"]["message"], (op, reply)
    os.close(r)
    two = [os.open(f, os.O_RDONLY), os.open(f, os.O_RDONLY)]
    assert _fd_request(d, "upload_fd", up, two)["error"]["type"] == "ProtocolError"
    assert _fd_request(d, "whoami", {}, [two[0]])["error"]["type"] == "ProtocolError"
    for fd in two:
        os.close(fd)
    ok = os.open(f, os.O_RDONLY)
    assert _fd_request(d, "upload_fd", up, [ok])["ok"]["name"] == "x"
    os.close(ok)
    # Every descriptor passed in is closed: none of the daemon's still points at f.bin, the
    # folder or the pipe. (Its total count also moves with SQLite files and connection
    # threads that end on their own schedule, so the passed files are what is checked.)
    passed = {str(f), str(tmp_path), f"pipe:[{pipe_ino}]"}
    wait_until(lambda: not _targets(d.proc.pid) & passed, "the daemon to close what it was sent")


def test_a_listing_larger_than_one_part(
    daemon_factory: Callable[..., Daemon], tmp_path: Path, src: Src
) -> None:
    """A listing comes in parts of 10,000 files; the client gets all of them, in order."""
    d = daemon_factory()
    client = AsOsUser(DaemonClient(d.socket), tmp_path / "state")
    seed = client.upload(src("seed", b"seed"))
    with sqlite3.connect(d.vault_dir / "vault.db") as db:  # beside the daemon (WAL)
        for i in range(1, 10_005):
            file_id = db.execute(
                "INSERT INTO files (owner_id, name, created_at) VALUES (?, ?, ?)",
                [seed.owner_id, f"f{i:05d}", seed.uploaded_at],
            ).lastrowid
            db.execute(
                "INSERT INTO versions (file_id, number, sha256, size, uploaded_at)"
                " VALUES (?, 1, ?, ?, ?)",
                [file_id, seed.sha256, seed.size, seed.uploaded_at],
            )
    listing = client.list_files()
    v = Vault(d.vault_dir)
    assert listing == files.list_files(v, users.find(v, seed.owner_id))
    assert len(listing.own) == 10_005
    client.close()


def test_daemon_and_client_import_no_front_end() -> None:
    """The daemon and the client are plumbing: no UI or web stack comes with them."""
    code = (
        "import json, sys; import vault.daemon.server, vault.daemon.command, "
        "vault.client.remote, vault.client.local, vault.client; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    for banned in ("textual", "starlette", "uvicorn", "vault.tui", "vault.http", "vault.cli"):
        assert not any(m == banned or m.startswith(banned + ".") for m in loaded), banned
