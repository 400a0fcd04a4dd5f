"""The daemon's command line, for `python -m vault.daemon` and the `vault daemon` verb alike."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from vault.core.errors import VaultError
from vault.core.names import printable
from vault.core.peers import ADMIN_GROUP, AUTO, MODES
from vault.daemon.wire import DEFAULT_SOCKET

DESCRIPTION = (
    "Serve one vault to every local user through a Unix socket; each connection is the OS "
    "user the kernel says it is. SIGTERM stops it cleanly."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vault", metavar="DIR", type=Path, required=True, help="the vault folder (made 0700)"
    )
    parser.add_argument(
        "--socket",
        metavar="PATH",
        type=Path,
        default=DEFAULT_SOCKET,
        help=f"the socket to listen on (default: {DEFAULT_SOCKET}); systemd may pass it instead",
    )
    parser.add_argument(
        "--user",
        metavar="ACCOUNT",
        help="started as root: the service account to become once the socket is bound",
    )
    parser.add_argument(
        "--accounts",
        choices=MODES,
        default=AUTO,
        help="auto: an OS user's account is made on first use (default); "
        "admin: only an admin makes accounts",
    )
    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        type=_address,
        help="also serve the HTTP API on HOST:PORT from this process and vault",
    )
    parser.add_argument(
        "--admin-group",
        metavar="GROUP",
        default=ADMIN_GROUP,
        help=f"members of this OS group are admins, besides root (default: {ADMIN_GROUP})",
    )


def _address(text: str) -> tuple[str, int]:
    from vault.daemon.web import parse_address

    try:
        return parse_address(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    from vault.daemon import server

    try:
        return server.run(
            args.vault, args.socket, args.user, args.accounts, args.http, args.admin_group
        )
    except VaultError as e:
        sys.stderr.write(f"vault daemon: {printable(str(e))}\n")
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vault daemon", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
