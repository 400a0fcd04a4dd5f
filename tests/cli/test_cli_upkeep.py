"""verify, gc, corruption, a full disk, a killed upload and concurrent writers: real processes."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.cli.helpers import (
    TIMEOUT,
    UPLOADED,
    Cli,
    assert_one_line_error,
    describe,
    objects,
    temps,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def object_path(vault_dir: Path, digest: str) -> Path:
    return vault_dir / "objects" / digest[:2] / digest


def flip_a_byte(path: Path, offset: int = 0) -> None:
    with open(path, "r+b") as f:  # objects are 0400; root writes anyway, as a disk error would
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


def wait_for(predicate, what: str, timeout: float = TIMEOUT) -> None:
    """Poll filesystem state (bounded); the short sleep only spaces the checks out."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


# -- verify and gc without a session ------------------------------------------------------------


def test_verify_and_gc_need_no_session(alice_cli: Cli, src) -> None:
    alice_cli.upload(src("a.txt", b"a"))
    janitor = alice_cli.as_os_user("janitor")  # never logged in
    janitor.fail("whoami")
    assert janitor.ok("verify").stdout == "Checked 1 objects: all intact\n"
    r = janitor.ok("gc")
    assert r.stdout.startswith("Removed 0 unused objects")
    assert janitor.ok("gc", "--dry-run").stdout.startswith("Would remove 0 unused objects")
    assert sha(b"a") in objects(alice_cli.vault_dir)


def test_gc_dry_run_reports_and_gc_removes_only_garbage(alice_cli: Cli, src, out_dir: Path) -> None:
    vault_dir = alice_cli.vault_dir
    alice_cli.upload(src("kept.txt", b"kept"))
    orphan = b"nobody refers to this"
    path = object_path(vault_dir, sha(orphan))
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(orphan)
    stale = vault_dir / "tmp" / "0123456789abcdef.tmp"  # a temp file whose writer died
    stale.write_bytes(b"half an upload")

    r = alice_cli.ok("gc", "--dry-run")
    assert r.stdout.startswith("Would remove 1 unused objects")
    assert "and 1 stale temp files" in r.stdout
    assert f"object {sha(orphan)}" in r.stdout and "temp 0123456789abcdef.tmp" in r.stdout
    assert path.exists() and stale.exists()

    r = alice_cli.ok("gc")
    assert r.stdout.startswith("Removed 1 unused objects")
    assert not path.exists() and not stale.exists()
    assert objects(vault_dir) == {sha(b"kept")}
    alice_cli.ok("download", "kept.txt", "-o", out_dir)
    assert (out_dir / "kept.txt").read_bytes() == b"kept"
    assert alice_cli.ok("gc").stdout.startswith("Removed 0 unused objects")


# -- corruption and loss ------------------------------------------------------------------------


def test_verify_quarantines_a_corrupt_object_and_an_upload_heals_it(
    alice_cli: Cli, src, out_dir: Path
) -> None:
    vault_dir = alice_cli.vault_dir
    data = os.urandom(40_000)
    source = src("photo.jpg", data)
    file_id = alice_cli.upload(source)
    alice_cli.upload(src("fine.txt", b"fine"))
    digest = sha(data)
    flip_a_byte(object_path(vault_dir, digest), 1234)
    broken_bytes = object_path(vault_dir, digest).read_bytes()

    janitor = alice_cli.as_os_user("janitor")
    r = janitor("verify")
    line = assert_one_line_error(r)
    assert "1 corrupt and" in line and "break 1 file versions" in line
    assert f"corrupt: {digest}" in r.stdout
    assert f"broken: file {file_id} 'photo.jpg' of alice, version 1" in r.stdout
    assert "fine.txt" not in r.stdout

    assert not object_path(vault_dir, digest).exists()
    (kept,) = (vault_dir / "quarantine").iterdir()  # set aside, not deleted
    assert kept.name.startswith(digest)
    assert kept.read_bytes() == broken_bytes

    assert "vault verify" in alice_cli.fail("download", file_id, "-o", out_dir)
    assert os.listdir(out_dir) == []

    r = alice_cli.ok("upload", source)
    assert f"id {file_id}, version 2" in r.stdout
    assert janitor.ok("verify").stdout == "Checked 2 objects: all intact\n"
    alice_cli.ok("download", file_id, "--version", "1", "-o", out_dir)
    assert (out_dir / "photo.jpg").read_bytes() == data


def test_verify_counts_one_corrupt_object_once(alice_cli: Cli, src) -> None:
    data = os.urandom(10_000)
    alice_cli.upload(src("photo.jpg", data))
    flip_a_byte(object_path(alice_cli.vault_dir, sha(data)))
    r = alice_cli("verify")
    assert "1 corrupt and 0 missing" in assert_one_line_error(r)
    assert "missing:" not in r.stdout


DEADLOCK_TIMEOUT = 5.0
"""A download of 40 kB takes well under a second; one still running by then hangs (it once
did: download_to held the store pin while quarantine waited for the exclusive lock)."""


def test_a_download_refuses_corrupt_bytes_before_any_verify(
    alice_cli: Cli, src, out_dir: Path
) -> None:
    vault_dir = alice_cli.vault_dir
    data = os.urandom(40_000)
    file_id = alice_cli.upload(src("photo.jpg", data))
    flip_a_byte(object_path(vault_dir, sha(data)), len(data) - 1)

    try:
        r = alice_cli("download", file_id, "-o", out_dir, timeout=DEADLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`vault download` of a corrupt object still runs after {DEADLOCK_TIMEOUT} s")
    line = assert_one_line_error(r)
    assert "is corrupt" in line and "vault verify" in line
    assert os.listdir(out_dir) == []  # no wrong file, no temp file
    assert not object_path(vault_dir, sha(data)).exists()
    assert [p.name[:64] for p in (vault_dir / "quarantine").iterdir()] == [sha(data)]
    assert "photo.jpg" in alice_cli.own()  # the entry stays, to be healed


def test_a_missing_object_is_reported_fails_downloads_and_heals(
    alice_cli: Cli, src, out_dir: Path
) -> None:
    vault_dir = alice_cli.vault_dir
    data = os.urandom(30_000)
    source = src("gone.bin", data)
    file_id = alice_cli.upload(source)
    object_path(vault_dir, sha(data)).unlink()

    r = alice_cli("verify")
    assert "0 corrupt and 1 missing" in assert_one_line_error(r)
    assert f"missing: {sha(data)}" in r.stdout
    assert f"broken: file {file_id} 'gone.bin' of alice" in r.stdout

    assert "is missing" in alice_cli.fail("download", "gone.bin", "-o", out_dir)
    assert os.listdir(out_dir) == []

    alice_cli.ok("upload", source)
    assert alice_cli.ok("verify").returncode == 0
    alice_cli.ok("download", "gone.bin", "-o", out_dir)
    assert (out_dir / "gone.bin").read_bytes() == data


# -- a full disk --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    [
        "file",
        "stdin",
    ],
)
@pytest.mark.direct_only  # prlimit limits the `vault` process; a daemon writes the object
def test_a_full_disk_during_upload_stores_nothing(alice_cli: Cli, src, how: str) -> None:
    """RLIMIT_FSIZE makes writes past 1 MiB fail with EFBIG, root or not (Python ignores
    SIGXFSZ); the vault's small database and token file stay below it."""
    if shutil.which("prlimit") is None:
        pytest.skip("needs prlimit(1) to limit the file size")
    vault_dir = alice_cli.vault_dir
    alice_cli.upload(src("small.txt", b"fits"))
    before_objects = objects(vault_dir)
    before = alice_cli.ls()
    data = os.urandom(4 << 20)
    prefix = ["prlimit", f"--fsize={1 << 20}", "--"]
    if how == "file":
        r = alice_cli("upload", src("big.bin", data), prefix=prefix)
    else:
        r = alice_cli("upload", "-", "--name", "big.bin", input=data, prefix=prefix)
    line = assert_one_line_error(r)
    assert "Not enough disk space" in line and "nothing was stored" in line

    assert alice_cli.ls() == before
    assert temps(vault_dir) == []
    assert objects(vault_dir) == before_objects
    # content the vault already has needs no space: it still uploads under the limit
    r = alice_cli("upload", "-", "--name", "again.txt", input=b"fits", prefix=prefix)
    assert r.returncode == 0, describe(r)
    assert alice_cli.ok("verify").returncode == 0


# -- a killed upload ----------------------------------------------------------------------------


@pytest.mark.direct_only  # the killed process's temp file; a daemon discards it (tests/daemon)
def test_sigkill_during_an_upload_leaves_nothing_half_stored(
    alice_cli: Cli, src, out_dir: Path
) -> None:
    vault_dir = alice_cli.vault_dir
    proc = alice_cli.popen("upload", "-", "--name", "big", stdin=subprocess.PIPE)
    assert proc.stdin is not None
    chunk = os.urandom(1 << 20)
    try:
        for _ in range(8):  # each write blocks until the child has read most of it
            proc.stdin.write(chunk)
            proc.stdin.flush()

        def grown() -> bool:
            found = temps(vault_dir)
            return len(found) == 1 and found[0].stat().st_size >= 4 << 20

        wait_for(grown, "the upload's temp file to grow")
        (partial,) = temps(vault_dir)

        # gc beside a live upload leaves its temp file alone (the writer holds its flock)
        r = alice_cli.as_os_user("janitor").ok("gc")
        assert "and 0 stale temp files" in r.stdout
        assert partial.exists()
        assert proc.poll() is None, "the upload ended before it was killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=TIMEOUT)
        proc.stdin.close()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL

    assert "big" not in alice_cli.own()
    assert alice_cli.ok("verify").returncode == 0
    r = alice_cli.ok("gc", "--dry-run")
    assert "and 1 stale temp files" in r.stdout and partial.exists()
    r = alice_cli.ok("gc")
    assert "and 1 stale temp files" in r.stdout and f"temp {partial.name}" in r.stdout
    assert temps(vault_dir) == []

    alice_cli.upload("-", name="big", input=b"after the crash")
    alice_cli.ok("download", "big", "-o", out_dir)
    assert (out_dir / "big").read_bytes() == b"after the crash"


# -- several processes at once ------------------------------------------------------------------


def test_concurrent_uploads_and_gc_all_succeed(
    alice_cli: Cli, bob_cli: Cli, src, out_dir: Path
) -> None:
    x, y = os.urandom(6 << 20), os.urandom(6 << 20)
    jobs = [
        (alice_cli, src("x1.bin", x)),
        (alice_cli, src("y.bin", y)),
        (alice_cli, src("x2.bin", x)),  # same content, other name
        (bob_cli, src("x3.bin", x)),  # same content, other user
    ]
    procs = [cli.popen("upload", path) for cli, path in jobs]
    procs.append(alice_cli.as_os_user("janitor").popen("gc"))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=TIMEOUT)
        results.append((p.returncode, out.decode(), err.decode()))
    for code, out, err in results:
        assert code == 0, (out, err)
        assert err == "", err
        assert "locked" not in out
    for (_, path), (_, out, _) in zip(jobs, results, strict=False):
        assert UPLOADED.search(out) and path.name in out

    assert set(alice_cli.own()) == {"x1.bin", "y.bin", "x2.bin"}
    assert set(bob_cli.own()) == {"x3.bin"}
    assert objects(alice_cli.vault_dir) == {sha(x), sha(y)}
    assert alice_cli.ok("verify").stdout == "Checked 2 objects: all intact\n"
    assert temps(alice_cli.vault_dir) == []
    bob_cli.ok("download", "x3.bin", "-o", out_dir)
    assert (out_dir / "x3.bin").read_bytes() == x


_GC_AT_THE_WRONG_MOMENT = textwrap.dedent(
    """
    import fcntl, os, subprocess, sys, time, types
    from vault import cli
    from vault.core import store

    real_flock = fcntl.flock
    fired = []

    def flock(fd, op):
        # the instant a new temp file exists but before its writer locks it, start `vault gc`
        # and let it run until it either finishes or waits on a lock (seen in /proc/locks)
        where = os.readlink(f"/proc/self/fd/{fd}")
        if not fired and op == fcntl.LOCK_EX and where.endswith(".tmp"):
            gc = subprocess.Popen([sys.executable, "-m", "vault", "gc"],
                                  stdout=subprocess.DEVNULL)
            fired.append(gc)
            while gc.poll() is None:
                with open("/proc/locks") as f:
                    if any("->" in line for line in f):
                        break
                time.sleep(0.005)
        return real_flock(fd, op)

    public = {k: getattr(fcntl, k) for k in dir(fcntl) if not k.startswith("_")}
    store.fcntl = types.SimpleNamespace(**{**public, "flock": flock})
    code = cli.main(sys.argv[1:])
    assert fired, "the temp file was never locked"
    assert fired[0].wait() == 0, "gc failed"
    sys.exit(code)
    """
)


@pytest.mark.direct_only  # patches the process that makes the temp file: a daemon makes it
def test_gc_between_temp_file_creation_and_its_lock_does_not_break_an_upload(
    alice_cli: Cli, src
) -> None:
    path = src("race.bin", os.urandom(100_000))
    r = subprocess.run(
        [sys.executable, "-c", _GC_AT_THE_WRONG_MOMENT, "upload", str(path)],
        capture_output=True,
        text=True,
        env=alice_cli.environ(),
        cwd=alice_cli.cwd,
        timeout=TIMEOUT,
    )
    assert r.returncode == 0, r.stderr
    assert "race.bin" in alice_cli.own()
