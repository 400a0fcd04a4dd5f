"""`vault daemon --http`: the HTTP API from the daemon's own process, on the same vault."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
from support import ALICE_PW, BOB_PW

from tests.daemon.helpers import AsOsUser, Daemon, daemon_argv, objects, rows, temps, wait_until
from tests.daemon.test_daemon import _logged_in_alice, _streaming
from tests.http.helpers import start_raw_upload
from vault.client.remote import DaemonClient
from vault.http import contract


def _url(d: Daemon) -> str:
    found = re.search(r" and (http://127\.0\.0\.1:\d+/) as uid", d.log_text())
    assert found, d.log_text()
    return found.group(1)


def test_http_and_socket_clients_see_the_same_vault(
    daemon_factory: Callable[..., Daemon], tmp_path: Path, src: Callable[[str, bytes], Path]
) -> None:
    d = daemon_factory("--http", "127.0.0.1:0", "--accounts", "auto")  # HTTP may register
    url = _url(d)
    alice = AsOsUser(DaemonClient(d.socket), tmp_path / "alice")
    alice.register("alice", ALICE_PW)
    alice.login("alice", ALICE_PW)
    mine = alice.upload(src("from-socket.txt", b"over the socket"))
    with httpx.Client(base_url=url) as web:
        assert web.post("/register", json={"username": "bob", "password": BOB_PW}).status_code
        r = web.post("/login", json={"username": "bob", "password": BOB_PW})
        assert r.text == "Welcome bob"
        r = web.post("/upload", files={"file": ("from-http.txt", b"over HTTP")})
        assert r.text == "Upload Success!"
        alice.share(mine.id, "bob")
        assert web.get("/files").json() == {
            "your_files": ["from-http.txt"],
            "shared_files": ["from-socket.txt"],
        }
        r = web.post("/download", json={"file_id": str(mine.id)})
        assert r.content == b"over the socket"
        theirs = web.get("/files", params={"details": "1"}).json()["your_files"][0]
        r = web.post(
            "/share",
            json={"file_id": str(theirs["id"]), "user_destination_id": str(alice.whoami().id)},
        )
        assert r.text == "File share success"
    shared = [e.name for e in alice.list_files().shared]
    assert shared == ["from-http.txt"]
    out = tmp_path / "out"
    out.mkdir()
    got = alice.download(theirs["id"], out)
    assert Path(got).read_bytes() == b"over HTTP"
    alice.close()


def test_sigterm_aborts_uploads_on_both_and_exits_0(
    daemon_factory: Callable[..., Daemon], tmp_path: Path
) -> None:
    d = daemon_factory("--http", "127.0.0.1:0")
    port = int(_url(d).rsplit(":", 1)[1].rstrip("/"))
    env = _logged_in_alice(d, tmp_path)
    socket_upload = _streaming(d, env)  # 3 MiB in the daemon's temp file, more to come
    with httpx.Client(base_url=_url(d)) as web:
        web.post("/login", json={"username": "alice", "password": ALICE_PW})
        token = web.cookies[contract.COOKIE]
    target = SimpleNamespace(connect=lambda: socket.create_connection(("127.0.0.1", port)))
    http_upload = start_raw_upload(target, token, "inflight.bin")  # type: ignore[arg-type]
    wait_until(lambda: len(temps(d.vault_dir)) == 2, "both uploads to reach the store")

    assert d.stop(signal.SIGTERM) == 0, d.log_text()

    reply = http_upload.recv(4096)
    http_upload.close()
    assert reply.startswith(b"HTTP/1.1 503"), reply
    _, err = socket_upload.communicate(timeout=60)
    assert socket_upload.returncode == 1
    assert b"The vault daemon is stopping" in err
    assert temps(d.vault_dir) == []
    assert rows(d.vault_dir, "SELECT count(*) FROM versions") == [(0,)]
    assert objects(d.vault_dir) == []
    assert "Traceback" not in d.log_text()
    assert not d.socket.exists()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("the HTTP port still answers after the stop")


def test_a_bad_http_address_is_one_line(tmp_path: Path) -> None:
    for address, says in (
        ("nope", "is not HOST:PORT"),
        ("127.0.0.1:99999", "is not HOST:PORT"),
    ):
        done = subprocess.run(
            daemon_argv(tmp_path / "v", tmp_path / "run" / "s.sock", "--http", address),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2 and says in done.stderr, done.stderr


def test_an_http_port_in_use_stops_the_start(tmp_path: Path) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        done = subprocess.run(
            daemon_argv(tmp_path / "v", tmp_path / "run" / "s.sock", "--http", f"127.0.0.1:{port}"),
            capture_output=True,
            text=True,
        )
    finally:
        taken.close()
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        f"Cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert not (tmp_path / "run" / "s.sock").exists()


def test_http_cannot_take_an_os_users_name_or_make_accounts_in_admin_mode(
    daemon_factory: Callable[..., Daemon],
) -> None:
    """Over HTTP nobody is identified by the kernel: an OS user's name is left for that user
    (else whoever registers it first locks them out of their own account), and in
    `--accounts admin` mode HTTP makes no accounts at all."""
    auto = daemon_factory("--http", "127.0.0.1:0", "--accounts", "auto")
    with httpx.Client(base_url=_url(auto)) as web:
        r = web.post("/register", json={"username": "root", "password": BOB_PW})
        assert r.status_code == 400 and "is the name of an OS user here" in r.text
        r = web.post("/register", json={"username": "Root", "password": BOB_PW})  # any case
        assert r.status_code == 400
        r = web.post("/register", json={"username": "no-such-os-user-x", "password": BOB_PW})
        assert r.text == "Register Success!, Welcome no-such-os-user-x"
    assert auto.stop() == 0  # one socket path per test: the second daemon takes it over
    admin = daemon_factory("--http", "127.0.0.1:0", "--accounts", "admin")
    with httpx.Client(base_url=_url(admin)) as web:
        r = web.post("/register", json={"username": "no-such-os-user-y", "password": BOB_PW})
        assert r.status_code == 400 and "Only an admin makes accounts" in r.text
