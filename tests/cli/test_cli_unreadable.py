"""Objects and folders in the store that the process may not read (another OS user or root
wrote them): verify, gc and download name the real cause and the path, without a traceback.

Tests run as root, which ignores modes; `setpriv` runs the real `vault` command without the
capabilities that let it (dac_override, dac_read_search), so a mode-000 file or folder gives
EACCES as it would to any other user.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.cli.helpers import Cli, assert_one_line_error, describe

# Direct mode only: setpriv limits the `vault` process; a daemon reads as itself.
pytestmark = pytest.mark.direct_only

if shutil.which("setpriv") is None:
    pytest.skip("needs setpriv(1) to drop root's override of file modes", allow_module_level=True)

NO_OVERRIDE = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
    "--",
]


def object_path(vault_dir: Path, data: bytes) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    return vault_dir / "objects" / digest[:2] / digest


def shut(path: Path) -> None:
    os.chmod(path, 0)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0


@pytest.fixture
def store(alice_cli: Cli, src):
    """alice's files: one object mode 000, one in a fan-out folder mode 000, one fine."""
    vault_dir = alice_cli.vault_dir
    data = {"locked.bin": b"locked file", "hidden.bin": b"hidden folder", "fine.txt": b"fine"}
    paths = {name: object_path(vault_dir, body) for name, body in data.items()}
    assert len({p.parent for p in paths.values()}) == 3, "pick data in three fan-out folders"
    for name, body in data.items():
        alice_cli.upload(src(name, body))
    shut(paths["locked.bin"])
    yield paths
    for p in (paths["locked.bin"], paths["hidden.bin"].parent):
        os.chmod(p, 0o700)


def test_verify_reports_unreadable_objects_and_exits_1(alice_cli: Cli, store) -> None:
    shut(store["hidden.bin"].parent)
    r = alice_cli("verify", prefix=NO_OVERRIDE)
    line = assert_one_line_error(r)
    assert "2 paths in the store could not be read" in line and "read access" in line
    assert f"unreadable: {store['locked.bin']} (Permission denied)" in r.stdout
    assert f"unreadable: {store['hidden.bin'].parent} (Permission denied)" in r.stdout
    assert "missing" not in r.stdout and "corrupt" not in r.stdout, describe(r)
    assert store["locked.bin"].exists()  # not moved aside: nothing says it is corrupt
    assert not (alice_cli.vault_dir / "quarantine").exists()


def test_gc_skips_what_it_cannot_read_and_says_so(alice_cli: Cli, store) -> None:
    vault_dir = alice_cli.vault_dir
    shut(store["hidden.bin"].parent)
    orphan = vault_dir / "objects" / "ab" / ("ab" * 32)
    orphan.parent.mkdir()
    orphan.write_bytes(b"nobody refers to this")
    dead = vault_dir / "tmp" / "0123456789abcdef.tmp"
    dead.write_bytes(b"a killed upload")
    locked_tmp = vault_dir / "tmp" / "fedcba9876543210.tmp"
    locked_tmp.write_bytes(b"someone else's upload")
    shut(locked_tmp)

    r = alice_cli("gc", prefix=NO_OVERRIDE)
    line = assert_one_line_error(r)
    assert "2 paths in the store could not be read" in line, describe(r)
    assert r.stdout.startswith("Removed 1 unused objects"), describe(r)
    assert "and 1 stale temp files" in r.stdout
    assert f"skipped {store['hidden.bin'].parent} (Permission denied)" in r.stdout
    assert f"skipped {locked_tmp} (Permission denied)" in r.stdout
    assert not orphan.exists() and not dead.exists()
    assert locked_tmp.exists() and store["locked.bin"].exists()


@pytest.mark.parametrize("name", ["locked.bin", "hidden.bin"])
def test_download_names_the_unreadable_object_not_the_destination(
    alice_cli: Cli, store, out_dir: Path, name: str
) -> None:
    shut(store["hidden.bin"].parent)
    line = alice_cli.fail("download", name, "-o", out_dir, prefix=NO_OVERRIDE)
    assert f"The stored object at {store[name]} cannot be read (Permission denied)" in line
    assert "Cannot write into" not in line
    assert os.listdir(out_dir) == []
    alice_cli.ok("download", "fine.txt", "-o", out_dir, prefix=NO_OVERRIDE)
    assert (out_dir / "fine.txt").read_bytes() == b"fine"


def test_upload_into_a_fan_out_folder_it_cannot_write_says_so(alice_cli: Cli, store, src) -> None:
    """New content whose fan-out folder this process may not use: one line naming the folder,
    nothing stored, no temp file left (it was a traceback: the rename's raw PermissionError)."""
    folder = store["hidden.bin"].parent
    n = 0
    while hashlib.sha256(b"%d" % n).hexdigest()[:2] != folder.name:
        n += 1
    data = b"%d" % n
    shut(folder)
    before = alice_cli.own()
    line = assert_one_line_error(alice_cli("upload", src("new.bin", data), prefix=NO_OVERRIDE))
    assert f"Cannot store content in {folder}" in line and "write access" in line
    assert alice_cli.own() == before
    assert list((alice_cli.vault_dir / "tmp").iterdir()) == []
