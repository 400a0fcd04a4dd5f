"""A real small disk for a test: a tmpfs mounted in a private mount namespace, then filled.

`small_disk(folder)` moves this test process (its main thread) into a new mount namespace,
mounts a tmpfs of a few MiB on `folder` there, and comes back out at the end; the mount is
never visible to the rest of the machine. Every process the test starts meanwhile (the real
`vault` command, the real server) inherits the namespace, so all of them see the same small
disk. `fill(folder)` then writes a filler file until the disk says ENOSPC.

Needs root (CAP_SYS_ADMIN), as the tests run here; skips otherwise. Python 3.11 has no
`os.unshare`/`os.setns`, hence ctypes.
"""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CLONE_NEWNS = 0x00020000
SIZE = "16m"


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


@contextmanager
def small_disk(folder: Path, size: str = SIZE) -> Iterator[Path]:
    """A tmpfs of `size` on `folder` (created), seen by this process and its children only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    libc = _libc()
    cwd = os.getcwd()
    home = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    if libc.unshare(CLONE_NEWNS) != 0:
        os.close(home)
        pytest.skip(f"cannot make a mount namespace: {os.strerror(ctypes.get_errno())}")
    try:
        # private: the tmpfs must not propagate back into the namespace we came from
        subprocess.run(["mount", "--make-rprivate", "/"], check=True, capture_output=True)
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
            check=True,
            capture_output=True,
        )
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        if libc.setns(home, CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "cannot return to the original mount namespace")
        os.close(home)
        os.chdir(cwd)  # setns moves the working folder to the namespace's root


def fill(folder: Path) -> Path:
    """Write `folder/filler` until the disk is full to the last byte; returns its path."""
    path = folder / "filler"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for chunk in (b"\0" * (1 << 16), b"\0"):
            try:
                while True:
                    os.write(fd, chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return path


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize
