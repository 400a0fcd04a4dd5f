"""The `vault` command: a thin translation from arguments to `vault.client` calls.

Every verb works the same on a personal vault (direct mode) and through `vault daemon`
(daemon mode); `vault.client.connect` picks which from --socket, --vault and the environment.
Exit codes: 0 ok, 1 a failure the user can fix (one line on stderr), 2 usage. Expected
errors never print a traceback, and the core's typed errors cross the socket unchanged, so
messages do not depend on the mode. With no subcommand, `vault` opens the TUI; the TUI and
HTTP stacks are imported only when used, to keep start-up lean.
"""

from __future__ import annotations

import argparse
import getpass
import io
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from vault.format import human_size

if TYPE_CHECKING:
    from vault.client import VaultClient
    from vault.core import Vault
    from vault.core.models import FileEntry

FILE_HELP = "a file name, or its id (12 or #12; #12 is always the id)"
PROGRESS_MIN_BYTES = 8 << 20
"""Files smaller than this upload too fast for a progress bar to help."""


class UsageError(Exception):
    """Arguments that argparse accepts but that do not make sense together (exit 2)."""


class NoInput(Exception):
    """Input ended (Ctrl-D, an empty stdin) where a password was asked for (exit 1)."""


class DirectOnly(Exception):
    """A verb that needs the vault folder itself was pointed at a daemon (exit 1)."""


# -- helpers ------------------------------------------------------------------------------------


def _connect(args: argparse.Namespace, kind: str = "cli") -> VaultClient:
    """The daemon or the personal vault, as --socket, --vault and the environment say."""
    from vault.client import connect
    from vault.client.local import LocalClient

    client = connect(args.vault, args.socket, kind)
    if isinstance(client, LocalClient) and client.vault.created:
        # a mistyped --vault shows here rather than as an empty vault later
        _note(f"Created a new vault at {client.vault.root.absolute()}")
    return client


def _open(args: argparse.Namespace, what: str) -> Vault:
    """The vault folder itself, for what only works in direct mode (`what` names it)."""
    from vault.client import choose
    from vault.client.local import LocalClient

    mode, place = choose(args.vault, args.socket)
    if mode == "daemon":
        raise DirectOnly(
            f"{what} works on a vault folder, not through the vault daemon at {place}: "
            "give it --vault DIR (the daemon's own folder needs the daemon stopped first)"
        )
    client = _connect(args)
    assert isinstance(client, LocalClient)
    return client.vault


def _note(message: str) -> None:
    from vault.core.names import printable

    sys.stderr.write(f"{printable(message)}\n")


def _read_password(args: argparse.Namespace, confirm: bool = False) -> str:
    """The password from stdin's first line (--password-stdin) or a hidden prompt; never argv."""
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise NoInput("No password on stdin: --password-stdin reads its first line")
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for a password: use --password-stdin")
    try:
        password = getpass.getpass("Password: ")
        repeated = getpass.getpass("Repeat password: ") if confirm else password
    except EOFError:
        if sys.stderr.isatty():
            sys.stderr.write("\n")  # the prompt left the cursor at the end of its line
        raise NoInput("No password entered; nothing was done") from None
    if repeated != password:
        from vault.core.errors import InvalidPassword

        raise InvalidPassword("The two passwords differ; try again")
    return password


class _Bar:
    """A one-line progress display on stderr, only when stderr is a terminal.

    A daemon reports progress at most 10 times a second, so a short transfer may report
    none: `close(size)` draws the finished bar once if the last report did not.
    """

    def __init__(self, label: str, total: int | None, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.start = time.monotonic()
        self.shown = 0.0
        self.drawn = -1
        """The byte count the bar shows."""
        self.active = stream.isatty() and (total is None or total >= PROGRESS_MIN_BYTES)

    def __call__(self, done: int) -> None:
        if not self.active or done == self.drawn:
            return
        now = time.monotonic()
        if now - self.shown < 0.1 and done != self.total:
            return
        self.shown, self.drawn = now, done
        rate = done / max(now - self.start, 1e-6)
        pct = f"{100 * done // self.total:3d}%" if self.total else ""
        self.stream.write(
            f"\r{self.label}  {pct} {human_size(done)}  {human_size(int(rate))}/s\x1b[K"
        )
        self.stream.flush()

    def close(self, size: int | None = None) -> None:
        """Erase the bar; `size`: the transfer ended well, with that many bytes."""
        if size is not None:
            self(size)
        if self.active:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# -- commands -----------------------------------------------------------------------------------


def cmd_tui(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the terminal UI needs a terminal on stdin and stdout; "
            "in scripts use the commands (vault --help)"
        )
    from vault.tui.app import run

    return run(_connect(args, "tui"))


def cmd_register(args: argparse.Namespace) -> int:
    client = _connect(args)
    password = _read_password(args, confirm=True)
    user = client.register(args.user, password)
    user = client.login(user.username, password)
    print(f"Registered {user.username} (id {user.id}); you are logged in")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    client = _connect(args)
    password = _read_password(args)
    user = client.login(args.user, password)
    print(f"Welcome {user.username}")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    user = _connect(args).logout()
    print(f"Logged out {user.username}" if user else "You were not logged in")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    print(_connect(args).whoami().username)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Where the vault is, how it is reached, and as whom; exit 1 if a daemon does not answer."""
    from vault.client import choose
    from vault.core.errors import NotLoggedIn, VaultUnavailable

    mode, place = choose(args.vault, args.socket)
    print(f"{'socket' if mode == 'daemon' else 'vault'}: {place}")
    print(f"mode: {mode}")
    if mode == "direct" and not (place / "vault.json").exists():
        print("user: not logged in (no vault there yet: the first command makes it)")
        return 0
    client = _connect(args)
    try:
        user = client.whoami()
    except NotLoggedIn:
        user = None
    except VaultUnavailable as e:
        print("daemon: does not answer")
        _error(str(e))
        return 1
    if mode == "daemon":
        print("daemon: answers")
    print(f"user: {user.username}" if user else "user: not logged in")
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    listing = _connect(args).list_files()
    out = sys.stdout
    if args.json:
        body = {
            "your_files": [e.as_dict(own=True) for e in listing.own],
            "shared_files": [e.as_dict(own=False) for e in listing.shared],
        }
        # dumps, not dump: only dumps uses the C encoder (3-4x faster on 100,000 files)
        out.write(json.dumps(body, ensure_ascii=False) + "\n")
        return 0
    if not listing.own and not listing.shared:
        print("No files yet: upload one with `vault upload PATH`")
        return 0
    lines = []
    for title, entries, own in (
        ("Your files", listing.own, True),
        ("Shared with you", listing.shared, False),
    ):
        if not entries:
            continue
        lines.append(f"{title}:")
        for e in entries:
            who = ", ".join(e.shared_with) if own else f"from {e.owner}"
            lines.append(
                f"{e.id:>8}  {human_size(e.size):>10}  {e.uploaded_at}  {e.name}  {who}".rstrip()
            )
    out.write("\n".join(lines) + "\n")
    return 0


def cmd_upload(args: argparse.Namespace) -> int:
    from vault.core.errors import VaultError

    if args.name is not None and len(args.paths) > 1:
        raise UsageError("--name goes with a single PATH")
    if "-" in args.paths and args.name is None:
        raise UsageError("uploading stdin (-) needs --name")
    client = _connect(args)
    client.whoami()  # not logged in: said once, not once per PATH
    failed = 0
    for path in args.paths:
        source = "/dev/stdin" if path == "-" else path
        try:
            size = os.stat(source).st_size if path != "-" else None
        except OSError:
            size = None
        bar = _Bar(args.name or os.path.basename(path), size)
        try:
            entry = client.upload(source, name=args.name, progress=bar)
        except VaultError as e:
            bar.close()
            _error(str(e))
            failed += 1
            continue
        bar.close(entry.size)
        version = f", version {entry.versions}" if entry.versions > 1 else ""
        print(f"Uploaded {entry.name}: id {entry.id}{version} ({human_size(entry.size)})")
    return 1 if failed else 0


def cmd_download(args: argparse.Namespace) -> int:
    client = _connect(args)
    entry = client.find_file(args.file)
    bar = _Bar(entry.name, _size(client, entry, args.version))
    try:
        if args.output == "-":
            # the verified stream on stdout and nothing else (the bar, if any, is on stderr)
            client.download_stream(entry.id, sys.stdout.fileno(), args.version, bar)
        else:
            path = client.download(entry.id, args.output, args.version, bar)
    except BaseException:
        bar.close()
        raise
    bar.close(bar.total)
    if args.output != "-":
        print(f"Downloaded {entry.name} to {path}")
    return 0


def _size(client: VaultClient, entry: FileEntry, version: int | None) -> int | None:
    """The size of the version a download writes, for its progress bar."""
    if version is None or not sys.stderr.isatty():
        return entry.size
    return next((v.size for v in client.versions(entry.id) if v.number == version), None)


def cmd_share(args: argparse.Namespace) -> int:
    entry, other = _connect(args).share(args.file, args.user)
    print(f"Shared {entry.name} (id {entry.id}) with {other.username}")
    return 0


def cmd_unshare(args: argparse.Namespace) -> int:
    entry, other = _connect(args).unshare(args.file, args.user)
    print(f"Stopped sharing {entry.name} (id {entry.id}) with {other.username}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    entry = _connect(args).delete(args.file)
    print(f"Deleted {entry.name} (id {entry.id}) and its versions")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    client = _connect(args)
    before = client.find_file(args.file, own=True)
    entry = client.rename(before.id, args.new_name)
    print(f"Renamed {before.name} to {entry.name} (id {entry.id})")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    client = _connect(args)
    entry = client.find_file(args.file)
    for ver in client.versions(entry.id):
        current = "  (current)" if ver.number == entry.versions else ""
        size = human_size(ver.size)
        print(f"{ver.number:>4}  {size:>10}  {ver.uploaded_at}  {ver.sha256[:12]}{current}")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    for event in _connect(args).recent_events(limit=args.limit):
        print(event.describe())
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    client = _connect(args)
    if args.action == "revoke":
        if args.all == (args.id is not None):
            raise UsageError("give a session ID or --all")
        count = client.revoke_session(None if args.all else args.id)
        print(f"Ended {count} session{'s' if count != 1 else ''}")
        return 0
    print(f"{'ID':>6}  {'CLIENT':<16}  {'CREATED':<20}  LAST SEEN")
    for s in client.sessions():
        mark = "  (this one)" if s.current else ""
        print(f"{s.id:>6}  {s.client:<16}  {s.created_at:<20}  {s.last_seen}{mark}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    report = _connect(args).verify()
    if report.ok:
        print(f"Checked {report.checked} objects: all intact")
        return 0
    for sha, moved in zip(report.corrupt, report.moved_to, strict=True):
        print(f"corrupt: {sha} (moved to {moved.parent})")
    for sha in report.missing:
        print(f"missing: {sha}")
    for u in report.unreadable:
        print(f"unreadable: {u.path} ({u.reason})")
    for b in report.broken:
        print(f"broken: file {b.file_id} {b.name!r} of {b.owner}, version {b.version}")
    problems = []
    if report.corrupt or report.missing:
        problems.append(
            f"{len(report.corrupt)} corrupt and {len(report.missing)} missing objects break "
            f"{len(report.broken)} file versions; upload those files again to heal them"
        )
    if report.unreadable:
        problems.append(_unreadable_advice(len(report.unreadable), "checked", "verify"))
    _error("; ".join(problems))
    return 1


def _unreadable_advice(count: int, done: str, command: str) -> str:
    return (
        f"{count} paths in the store could not be read, so were not {done} (listed above): "
        f"give this OS user read access to them, then run `vault {command}` again"
    )


def cmd_gc(args: argparse.Namespace) -> int:
    report = _connect(args).gc(dry_run=args.dry_run)
    verb = "Would remove" if args.dry_run else "Removed"
    print(
        f"{verb} {len(report.objects)} unused objects ({human_size(report.bytes)}) "
        f"and {len(report.temps)} stale temp files"
    )
    for sha in report.objects:
        print(f"  object {sha}")
    for tmp in report.temps:
        print(f"  temp {tmp.name}")
    for u in report.skipped:
        print(f"  skipped {u.path} ({u.reason})")
    if report.skipped:
        _error(_unreadable_advice(len(report.skipped), "cleaned", "gc"))
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from vault.http.server import serve
    except ModuleNotFoundError as e:
        _error(f"the HTTP mode needs {e.name}: pip install 'vault[http]'")
        return 1

    return serve(
        lambda: _open(args, "vault serve"),
        host=args.host,
        port=args.port,
        max_upload=args.max_upload,
    )


# -- the parser ---------------------------------------------------------------------------------


def _port(text: str) -> int:
    """A TCP port: 0 (the system picks one) to 65535. argparse turns a refusal into exit 2."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 0 to 65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--vault",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="a personal vault folder, used directly (default: $VAULT_HOME)",
    )
    common.add_argument(
        "--socket",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="the socket of a vault daemon (default: $VAULT_SOCKET, else the daemon's socket "
        "if it exists, else the personal vault in the user data folder)",
    )
    parser = argparse.ArgumentParser(
        prog="vault",
        description="A multi-user file vault for one machine. With no command, opens the TUI.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(func=func)
        return p

    for name, func, text in (
        ("register", cmd_register, "create an account and log in"),
        ("login", cmd_login, "log in (the session is kept in your token file)"),
    ):
        p = add(name, func, text)
        p.add_argument("user", metavar="USER")
        p.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from stdin's first line",
        )
    add("logout", cmd_logout, "end this session, here and on the server")
    add("whoami", cmd_whoami, "print the username you are logged in as")
    add("status", cmd_status, "which vault, reached how (direct or daemon), and as whom")
    p = add("ls", cmd_ls, "list your files and files shared with you")
    p.add_argument("--json", action="store_true", help="print JSON with ids, sizes and hashes")
    p = add("upload", cmd_upload, "upload files (a name you already have becomes a new version)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files to upload; - reads stdin")
    p.add_argument("--name", help="the name to store it under (one PATH only)")
    p = add("download", cmd_download, "download a file into a folder (never overwrites)")
    p.add_argument("file", metavar="FILE", help=FILE_HELP)
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default=".",
        help="folder to write into, or - for stdout (default: .)",
    )
    p.add_argument(
        "--version", type=int, metavar="N", help="an older version (see `vault versions`)"
    )
    for name, func, text in (
        ("share", cmd_share, "let another user list and download one of your files"),
        ("unshare", cmd_unshare, "stop sharing a file with a user"),
    ):
        p = add(name, func, text)
        p.add_argument("file", metavar="FILE", help=FILE_HELP)
        p.add_argument("user", metavar="USER", help="a username, or a user id as #ID")
    p = add("rm", cmd_rm, "delete one of your files and all its versions")
    p.add_argument("file", metavar="FILE", help=FILE_HELP)
    p = add("rename", cmd_rename, "rename one of your files")
    p.add_argument("file", metavar="FILE", help=FILE_HELP)
    p.add_argument("new_name", metavar="NEWNAME")
    p = add("versions", cmd_versions, "list a file's versions, newest first (shared: current only)")
    p.add_argument("file", metavar="FILE", help=FILE_HELP)
    p = add("log", cmd_log, "show your recent activity and activity on your files")
    p.add_argument("--limit", type=int, default=50, help="how many events (default: 50)")
    p = add("sessions", cmd_sessions, "list your live sessions, or end them")
    p.add_argument("action", nargs="?", choices=["revoke"], help="revoke: end a session")
    p.add_argument("id", nargs="?", type=int, metavar="ID", help="the session to end")
    p.add_argument("--all", action="store_true", help="with revoke: end every session")
    add("verify", cmd_verify, "re-hash every stored object; report and set aside corrupt ones")
    p = add("gc", cmd_gc, "remove unused objects and stale temp files")
    p.add_argument("--dry-run", action="store_true", help="only show what would be removed")
    p = add("serve", cmd_serve, "serve the HTTP API (default 127.0.0.1:8000)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=_port, default=8000, help="port, 0 to 65535 (default: 8000; 0 picks one)"
    )
    p.add_argument(
        "--max-upload", type=int, default=None, metavar="BYTES", help="largest upload accepted"
    )
    from vault.cli_admin import add_commands  # admin, usage, passwd

    add_commands(add)
    p = sub.add_parser("daemon", help="serve one vault to every local user through a socket")
    p.add_later = _daemon_arguments
    return parser


class _Parser(argparse.ArgumentParser):
    """A subcommand's parser whose arguments may be added only when it is used.

    `vault daemon`'s arguments come from vault.daemon.command, which imports vault.core:
    loading it for every `vault --help` would triple that start-up time.
    """

    add_later: Callable[[argparse.ArgumentParser], None] | None = None

    def _load(self) -> None:
        if self.add_later is not None:
            add, self.add_later = self.add_later, None
            add(self)

    def parse_known_args(self, *args: Any, **kw: Any) -> tuple[argparse.Namespace, list[str]]:
        self._load()
        return super().parse_known_args(*args, **kw)

    def format_help(self) -> str:
        self._load()
        return super().format_help()


def _daemon_arguments(p: argparse.ArgumentParser) -> None:
    from vault.daemon import command

    p.description = command.DESCRIPTION
    command.add_arguments(p)  # its own --vault (required) and --socket: not `common`'s
    p.set_defaults(func=command.run)


def _error(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    from vault.core.names import printable

    sys.stderr.write(f"vault: {printable(message)}\n")


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # a name the terminal cannot encode is shown escaped, never a UnicodeEncodeError
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("vault", "socket"):
        if not hasattr(args, name):
            setattr(args, name, None)
    func = getattr(args, "func", cmd_tui)
    from vault.core.errors import VaultError

    try:
        return func(args)
    except UsageError as e:
        parser.error(str(e))
    except (VaultError, NoInput, DirectOnly) as e:
        _error(str(e))
        return 1
    except KeyboardInterrupt:
        _error("interrupted; nothing half-stored was kept")
        return 130
    except BrokenPipeError:
        # `vault ls | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
