"""Real SIGKILLs and real concurrent processes against one vault.

A worker process loops over uploads, re-uploads, deletes and gc; we kill it with SIGKILL at
arbitrary points and check the invariants a crash must never break: every listed version has
its object, verify is clean, gc leaves only referenced objects, the vault keeps working.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from vault.core import Vault, files, upkeep, uploads, users
from vault.core.passwords import Hasher

WORKER = textwrap.dedent(
    """
    import os, sys
    from vault.core import Vault, files, upkeep, uploads, users
    from vault.core.errors import UsernameTaken
    from vault.core.passwords import Hasher

    v = Vault(sys.argv[1], hasher=Hasher(cheap=True))
    name = sys.argv[2]
    try:
        user = users.register(v, name, "password1")
    except UsernameTaken:
        user = users.find(v, name)
    src = os.path.join(sys.argv[3], f"{name}.src")
    i = 0
    while True:
        i += 1
        # shared content across workers (dedup) and private content, small and larger
        if i % 3 == 0:
            data = f"common {i % 5}".encode() * 1000
        else:
            data = os.urandom(1 << (10 + i % 12))
        with open(src, "wb") as f:
            f.write(data)
        entry = uploads.upload_path(v, user, src, name=f"f{i % 7}")
        if i % 4 == 0:
            files.delete(v, user, entry.id)
        if i % 5 == 0:
            upkeep.gc(v)
        print(i, flush=True)
    """
)


def start_worker(vault_dir: Path, name: str, work: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(vault_dir), name, str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def check_invariants(vault_dir: Path) -> None:
    v = Vault(vault_dir, hasher=Hasher(cheap=True))
    rows = v.db.execute("SELECT DISTINCT sha256 FROM versions").fetchall()
    for (sha,) in rows:
        assert v.store.exists(sha), f"a listed version lost its object {sha}"
    report = upkeep.verify(v)
    assert report.ok, report
    upkeep.gc(v)
    referenced = {r[0] for r in rows}
    on_disk = {sha for sha, _ in v.store.iter_objects()}
    assert on_disk == referenced
    assert list(v.paths.tmp.iterdir()) == []
    v.close()


def test_sigkill_at_arbitrary_points_keeps_invariants(vault_dir: Path, tmp_path: Path) -> None:
    Vault(vault_dir)  # create it once, up front
    for round_ in range(6):
        proc = start_worker(vault_dir, "killed", tmp_path)
        assert proc.stdout is not None
        # let it get `round_ * 3 + 2` operations in, then kill it mid-flight
        for _ in range(round_ * 3 + 2):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "worker died"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        check_invariants(vault_dir)
    # and the vault still works afterwards
    v = Vault(vault_dir, hasher=Hasher(cheap=True))
    user = users.find(v, "killed")
    src = tmp_path / "after.txt"
    src.write_bytes(b"still works")
    assert uploads.upload_path(v, user, src).size == 11


def test_four_writers_and_gc_at_once(vault_dir: Path, tmp_path: Path) -> None:
    Vault(vault_dir)
    procs = [start_worker(vault_dir, f"w{i}", tmp_path) for i in range(4)]
    counts = []
    for proc in procs:
        assert proc.stdout is not None
        for _ in range(25):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "worker died"
        counts.append(int(line))
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    for proc in procs:
        _, err = proc.communicate()
        assert "locked" not in err and "Traceback" not in err, err
    assert counts == [25, 25, 25, 25]
    check_invariants(vault_dir)
    v = Vault(vault_dir, hasher=Hasher(cheap=True))
    for i in range(4):
        names = {e.name for e in files.list_files(v, users.find(v, f"w{i}")).own}
        assert names and names <= {f"f{k}" for k in range(7)}
