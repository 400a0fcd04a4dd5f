"""Regular files whose size is not their content are read to the end; real files that
change while being read are never stored as if complete (see uploads._sized)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vault.core import Vault, downloads, files, uploads
from vault.core.errors import SourceError
from vault.core.models import User
from vault.core.store import WINDOW


def fetch(v: Vault, user: User, name: str, out: Path) -> bytes:
    out.mkdir(exist_ok=True)
    return downloads.download_to(v, user, name, out).read_bytes()


@pytest.mark.parametrize("size_known", [False, True], ids=["kernel copy", "hashed first"])
def test_a_real_file_that_shrinks_while_read_still_fails(
    v: Vault, alice: User, tmp_path: Path, size_known: bool
) -> None:
    size = 2 << 20 if size_known else WINDOW + (1 << 20)  # a second step must be read
    if size_known:
        (tmp_path / "same-size").write_bytes(b"s" * size)
        uploads.upload_path(v, alice, tmp_path / "same-size")
    path = tmp_path / "shrinks.bin"
    path.write_bytes(os.urandom(size))

    def truncate(done: int) -> None:
        os.truncate(path, 1000)

    with pytest.raises(SourceError, match="got shorter"):
        uploads.upload_path(v, alice, path, progress=truncate)
    assert "shrinks.bin" not in [e.name for e in files.list_files(v, alice).own]


def test_a_real_file_that_grows_while_read_keeps_the_bytes_it_had(
    v: Vault, alice: User, tmp_path: Path
) -> None:
    path = tmp_path / "grows.log"
    data = os.urandom(1000)
    path.write_bytes(data)

    def append(done: int) -> None:
        with path.open("ab") as f:
            f.write(b"later")

    entry = uploads.upload_path(v, alice, path, progress=append)
    assert entry.size == len(data)
    assert fetch(v, alice, "grows.log", tmp_path / "out") == data


def test_a_file_that_reads_past_the_size_it_reports_is_read_to_the_end(
    v: Vault, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a pseudo file that reports less than it holds: here a real file that grows while
    fstat keeps answering its first size (no file system on this machine does that)."""
    path = tmp_path / "stale.txt"
    path.write_bytes(b"abc")
    source = os.stat(path)
    real_fstat = os.fstat
    first: list[os.stat_result] = []

    def stale_fstat(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        if (st.st_dev, st.st_ino) != (source.st_dev, source.st_ino):
            return st
        first.append(st)
        return first[0]

    def append_once(done: int) -> None:
        if path.stat().st_size == 3:
            with path.open("ab") as f:
                f.write(b"def")

    monkeypatch.setattr(os, "fstat", stale_fstat)
    entry = uploads.upload_path(v, alice, path, progress=append_once)
    monkeypatch.undo()
    assert entry.size == 6
    assert fetch(v, alice, "stale.txt", tmp_path / "out") == b"abcdef"


def test_an_empty_file_is_stored_empty(v: Vault, alice: User, tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    assert uploads.upload_path(v, alice, tmp_path / "empty").size == 0
    assert fetch(v, alice, "empty", tmp_path / "out") == b""
