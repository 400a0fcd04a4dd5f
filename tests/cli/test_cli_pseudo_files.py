"""Pseudo files (procfs, sysfs) upload what `cat` prints, through the real `vault` command.

Their reported size is not their content: /proc/version says 0 bytes, a sysfs attribute 4096.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.helpers import UPLOADED, Cli, describe
from vault.format import human_size

SYSFS = (
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/kernel/mm/transparent_hugepage/defrag",
    "/sys/kernel/address_bits",
    "/sys/kernel/profiling",
    "/sys/module/kernel/parameters/panic",
)
"""Readable sysfs attributes whose text does not change while a test runs."""


def cat(path: str) -> bytes:
    return subprocess.run(["cat", path], capture_output=True, check=True).stdout


def sysfs_attribute() -> str:
    for path in SYSFS:
        if os.access(path, os.R_OK):
            return path
    pytest.skip(f"no readable sysfs attribute here (tried {', '.join(SYSFS)})")


def upload_and_fetch(cli: Cli, path: str, out_dir: Path) -> bytes:
    r = cli.ok("upload", path)
    m = UPLOADED.search(r.stdout)
    assert m and m.group(1) == os.path.basename(path), describe(r)
    expected = cat(path)
    assert f"({human_size(len(expected))})" in r.stdout, describe(r)
    cli.ok("download", f"#{m.group(2)}", "-o", out_dir)
    return (out_dir / os.path.basename(path)).read_bytes()


def test_proc_file_stores_what_cat_prints(alice_cli: Cli, out_dir: Path) -> None:
    assert os.stat("/proc/version").st_size == 0  # what made it store 0 bytes
    expected = cat("/proc/version")
    assert expected
    assert upload_and_fetch(alice_cli, "/proc/version", out_dir) == expected


@pytest.mark.parametrize("size_known", [False, True], ids=["new size", "size already stored"])
def test_sysfs_file_stores_what_cat_prints(
    alice_cli: Cli, src, out_dir: Path, size_known: bool
) -> None:
    path = sysfs_attribute()
    expected = cat(path)
    assert os.stat(path).st_size != len(expected)  # the size sysfs reports is not the content
    if size_known:  # the upload then hashes the file first, to find known content
        alice_cli.upload(src("page.bin", b"p" * os.stat(path).st_size))
    assert upload_and_fetch(alice_cli, path, out_dir) == expected
