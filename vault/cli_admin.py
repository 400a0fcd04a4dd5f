"""`vault admin …`, `vault usage` and `vault passwd`: accounts, quotas and one's own password.

Registered by `vault.cli.build_parser`. Each command goes through a `VaultClient`
(`vault.client.connect`), so it works the same on a personal vault and through the daemon.
Who is an admin is decided there: through the daemon, root, the daemon's account or a
member of its `--admin-group`; on a personal vault (direct mode), whoever can open its
folder, since they can write its database anyway.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vault.client import VaultClient

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def add_commands(add: Add) -> None:
    """Add `admin`, `usage` and `passwd` with the CLI's own `add(name, func, help)`."""
    p = add("admin", cmd_admin, "manage accounts and quotas (admins only)")
    acts = p.add_subparsers(dest="act", metavar="ACTION", required=True)
    acts.add_parser("users", help="list accounts: files, bytes, last seen, disabled, quota")
    for name, text in (
        ("disable", "refuse an account everywhere and end its sessions"),
        ("enable", "let a disabled account in again"),
        ("reset-password", "give an account a new random password (printed once)"),
    ):
        acts.add_parser(name, help=text).add_argument("user", metavar="USER")
    q = acts.add_parser("quota", help="set how many bytes of versions a user may own")
    q.add_argument("user", metavar="USER")
    q.add_argument("size", metavar="SIZE", help="e.g. 10G, 500M, 1024, or none")
    add("usage", cmd_usage, "show your files, the bytes charged to you and your quota")
    p = add("passwd", cmd_passwd, "set your password (a peer account gets one for HTTP use)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new password from stdin's first line (the current one from the second)",
    )


def _client(args: argparse.Namespace) -> VaultClient:
    from vault.client import connect

    return connect(getattr(args, "vault", None), getattr(args, "socket", None))


def _quota(quota: int | None) -> str:
    from vault.format import human_size

    return "none" if quota is None else human_size(quota)


def cmd_admin(args: argparse.Namespace) -> int:
    from vault.core.quotas import parse_size

    client = _client(args)
    try:
        if args.act == "users":
            _print_accounts(client)
        elif args.act == "disable":
            user = client.admin_disable(args.user)
            print(f"Disabled {user.username}; their sessions were ended")
        elif args.act == "enable":
            print(f"Enabled {client.admin_enable(args.user).username}")
        elif args.act == "reset-password":
            user, password = client.admin_reset_password(args.user)
            print(f"New password for {user.username}: {password}")
            sys.stderr.write("Their sessions were ended; they can change it with `vault passwd`\n")
        else:
            quota = parse_size(args.size)
            user = client.admin_quota(args.user, quota)
            print(f"Quota of {user.username}: {_quota(quota)}")
    finally:
        client.close()
    return 0


def _print_accounts(client: VaultClient) -> None:
    from vault.core.names import printable
    from vault.format import human_size, short_time

    rows = [("NAME", "FILES", "BYTES", "LAST SEEN", "DISABLED", "QUOTA")]
    for a in client.admin_users():
        seen = short_time(a.last_seen) if a.last_seen else "never"
        rows.append((printable(a.username), str(a.files), human_size(a.bytes), seen,
                     "yes" if a.disabled else "no", _quota(a.quota)))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def cmd_usage(args: argparse.Namespace) -> int:
    from vault.format import human_size

    client = _client(args)
    try:
        u = client.usage()
    finally:
        client.close()
    files = f"{u.files} file{'s' if u.files != 1 else ''}"
    if u.quota is None:
        print(f"{files}, {human_size(u.bytes)} (no quota)")
    else:
        share = 100 * u.bytes // u.quota if u.quota else 100
        print(f"{files}, {human_size(u.bytes)} of {human_size(u.quota)} ({share}%)")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    from vault.cli import _read_password
    from vault.core.errors import PasswordNeeded

    client = _client(args)
    try:
        new = _read_password(args, confirm=True)
        try:
            client.passwd(new)
        except PasswordNeeded:
            if not args.password_stdin:
                sys.stderr.write("Your current password is needed.\n")
            client.passwd(new, _read_password(args))
    finally:
        client.close()
    print("Password changed")
    return 0
