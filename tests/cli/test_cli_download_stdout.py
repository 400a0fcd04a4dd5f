"""`vault download FILE -o -`: the bytes on stdout, streamed and verified, and nothing else."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.cli.helpers import Cli


def object_path(vault_dir: Path, data: bytes) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    return vault_dir / "objects" / digest[:2] / digest


def download_bytes(cli: Cli, *args: object) -> tuple[int, bytes, str]:
    """Run `vault download ARGS -o -`; stdout as raw bytes."""
    proc = cli.popen("download", *args, "-o", "-")
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err.decode()


@pytest.mark.parametrize("size", [0, 1, 5 << 20, (9 << 20) + 3])
def test_stdout_gets_exactly_the_file(alice_cli: Cli, src, size: int) -> None:
    data = os.urandom(size)
    file_id = alice_cli.upload(src("data.bin", data))
    os.utime(object_path(alice_cli.vault_dir, data))  # no longer known intact: hashed
    for _ in range(2):  # hashed (and vouched for), then known intact (not hashed)
        code, out, err = download_bytes(alice_cli, file_id)
        assert (code, err) == (0, "")
        assert out == data


def test_stdout_of_an_older_version_and_of_a_shared_file(alice_cli: Cli, bob_cli: Cli, src) -> None:
    alice_cli.upload(src("notes.txt", b"first"))
    alice_cli.upload(src("notes.txt", b"second"))
    assert download_bytes(alice_cli, "notes.txt", "--version", "1")[1] == b"first"
    alice_cli.ok("share", "notes.txt", "bob")
    assert download_bytes(bob_cli, "notes.txt")[1] == b"second"


@pytest.mark.parametrize("size", [40_000, (9 << 20) + 3])
def test_a_corrupt_object_fails_and_never_arrives_whole(alice_cli: Cli, src, size: int) -> None:
    vault_dir = alice_cli.vault_dir
    data = os.urandom(size)
    file_id = alice_cli.upload(src("photo.jpg", data))
    path = object_path(vault_dir, data)
    with open(path, "r+b") as f:  # root writes the 0400 object, as a disk error would
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    code, out, err = download_bytes(alice_cli, file_id)
    assert code == 1, (out[:100], err)
    lines = err.splitlines()
    assert len(lines) == 1 and "is corrupt" in lines[0] and "vault verify" in lines[0], err
    assert "Traceback" not in err
    assert len(out) < size  # the last chunk is held back: never the complete wrong file
    assert not path.exists()  # moved aside, so the next upload heals it
    assert [p.name[:64] for p in (vault_dir / "quarantine").iterdir()] == [path.name]


def test_a_missing_file_writes_nothing_to_stdout(alice_cli: Cli) -> None:
    code, out, err = download_bytes(alice_cli, "nope.txt")
    assert (code, out) == (1, b""), err
    assert err.startswith("vault: No file 'nope.txt'")
