"""What the daemon asks of the OS: its socket, the vault folder, its account, its peers.

Started as root with `--user ACCOUNT`, the daemon binds the socket (or takes it from
systemd), makes the vault folder the account's (0700), then becomes that account for good:
supplementary groups cleared, then gid, then uid, and it checks that root cannot be had back.
"""

from __future__ import annotations

import os
import pwd
import socket
import stat
import struct
import sys
from pathlib import Path

from vault.core.errors import VaultUnavailable
from vault.core.names import printable

SD_LISTEN_FDS_START = 3
_UCRED = struct.Struct("3i")


M_ARENA_MAX = -8
"""glibc's mallopt parameter for the number of malloc arenas."""


def limit_malloc_arenas(count: int = 2) -> None:
    """Fewer malloc arenas: one per connection thread kept the RSS 12 MiB higher under 32 clients.

    Measured with bench_daemon.py (32 clients, 2 x 10 s): 33 / 55 / 57 MiB before, during and
    after without this, 31 / 43 / 44 MiB with it, at the same throughput. glibc only.
    """
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(M_ARENA_MAX, count)
    except (OSError, AttributeError):
        pass


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process that connected, from the kernel (SO_PEERCRED), not the client."""
    _, uid, _ = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return uid


def systemd_listener() -> socket.socket | None:
    """The listening socket systemd passed (sd_listen_fds(3)), or None if it passed none.

    systemd sets LISTEN_PID to the pid it started and LISTEN_FDS to how many sockets follow
    fd 2; the variables are removed so that nothing this process starts takes them for its own.
    """
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    count = os.environ.get("LISTEN_FDS", "")
    for key in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(key, None)
    if not (count.isascii() and count.isdigit()) or int(count) < 1:
        return None
    sock = socket.socket(fileno=SD_LISTEN_FDS_START)
    if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
        raise VaultUnavailable(
            "The socket systemd passed is not a Unix stream socket; use ListenStream=/PATH"
        )
    sock.set_inheritable(False)
    return sock


def bind(path: Path, account: pwd.struct_passwd | None) -> socket.socket:
    """Listen on `path`, reachable by every local user (0666, in a folder only we can write)."""
    folder = path.parent
    label = printable(path)
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o755)
        os.chmod(folder, 0o755)  # the umask may have narrowed it
        if account is not None and os.getuid() == 0:  # so the daemon can remove its socket
            os.chown(folder, account.pw_uid, account.pw_gid)
    mode = os.stat(folder).st_mode
    if mode & 0o022 and not mode & stat.S_ISVTX:
        raise VaultUnavailable(
            f"Others can write into {printable(folder)}, so anyone could put a socket of "
            "their own in place of the daemon's; choose a folder only root can write (0755)"
        )
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(existing.st_mode):
            raise VaultUnavailable(f"{label} exists and is not a socket; choose another --socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            os.unlink(path)  # left by a daemon that died: take its place
        else:
            raise VaultUnavailable(f"A vault daemon already listens on {label}")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        os.chmod(path, 0o666)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise VaultUnavailable(f"Cannot listen on {label}: {e.strerror}") from None
    return sock


def account(name: str | None) -> pwd.struct_passwd | None:
    """The OS account the daemon is to run as (`--user`); None to stay who it is."""
    if name is None:
        if os.getuid() == 0:
            sys.stderr.write(
                "vault daemon: running as root; give --user ACCOUNT to run as a service account\n"
            )
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise VaultUnavailable(f"There is no OS account {name!r} (--user)") from None
    if entry.pw_uid == 0:
        raise VaultUnavailable("--user must name a service account, not root")
    if os.getuid() != 0 and entry.pw_uid != os.getuid():
        raise VaultUnavailable(f"Only root can start the daemon as {name!r} (--user)")
    return entry


def prepare_vault_dir(path: Path, owner: pwd.struct_passwd | None) -> None:
    """Make the vault folder exist, belong to the daemon's account, and be private (0700)."""
    uid = owner.pw_uid if owner is not None else os.getuid()
    label = printable(path)
    try:
        if not path.exists():
            path.mkdir(parents=True, mode=0o700)
            if owner is not None:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        st = os.stat(path)
        if st.st_uid != uid:
            who = owner.pw_name if owner is not None else f"uid {uid}"
            raise VaultUnavailable(
                f"{label} belongs to uid {st.st_uid}, not to {who}: `chown -R {who} {label}`"
            )
        os.chmod(path, 0o700)
    except OSError as e:
        raise VaultUnavailable(f"Cannot prepare the vault at {label}: {e.strerror}") from None


def drop_privileges(owner: pwd.struct_passwd) -> None:
    """Become `owner` for good; refuse to go on if root could be had back."""
    os.setgroups([])
    os.setgid(owner.pw_gid)
    os.setuid(owner.pw_uid)
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise VaultUnavailable("Could not drop root privileges; refusing to serve")
    ids = (os.getuid(), os.geteuid(), os.getgid(), os.getegid())
    if ids != (owner.pw_uid, owner.pw_uid, owner.pw_gid, owner.pw_gid) or os.getgroups():
        raise VaultUnavailable("Could not become the service account; refusing to serve")
