"""The `vault` command as tests drive it: a real subprocess per call (see conftest.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 60.0
"""Seconds any single `vault` run may take before the test fails (never hangs)."""

UPLOADED = re.compile(r"^Uploaded (.*): id (\d+)", re.M)

Result = subprocess.CompletedProcess


def vault_argv(*args: object) -> list[str]:
    """`python -m vault ARGS`: ints become text, paths stay paths."""
    return [
        sys.executable,
        "-m",
        "vault",
        *(os.fspath(a) if isinstance(a, (str, os.PathLike)) else str(a) for a in args),
    ]


def describe(r: Result) -> str:
    return f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"


def assert_one_line_error(r: Result) -> str:
    """Exit 1, exactly one line on stderr (prefixed `vault: `), no traceback; returns it."""
    assert r.returncode == 1, describe(r)
    assert "Traceback" not in r.stderr, describe(r)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, describe(r)
    assert lines[0].startswith("vault: "), describe(r)
    return lines[0]


@dataclass
class Cli:
    """Runs the real `vault` command for one OS user (one XDG_STATE_HOME)."""

    env: dict[str, str]
    cwd: Path
    state: Path
    tmp: Path
    vault_dir: Path
    """The vault's folder: the one `vault` opens (direct mode) or the daemon serves."""
    mode: str = "direct"
    """How the command reaches it: "direct", or "daemon" (VAULT_SOCKET names a real daemon)."""
    user_id: int | None = None
    """Set by `register`: the id the vault gave this OS user's account."""

    # -- running ----------------------------------------------------------------------------

    def environ(self, env_extra: dict[str, str | None] | None = None) -> dict[str, str]:
        env = dict(self.env)
        env["XDG_STATE_HOME"] = str(self.state)
        for key, value in (env_extra or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def __call__(
        self,
        *args: object,
        input: str | bytes | None = None,
        env_extra: dict[str, str | None] | None = None,
        timeout: float = TIMEOUT,
        umask: int = -1,
        prefix: Sequence[str] = (),
    ) -> Result:
        data = input.encode() if isinstance(input, str) else input
        raw = subprocess.run(
            [*prefix, *vault_argv(*args)],
            input=data,
            stdin=subprocess.DEVNULL if data is None else None,
            capture_output=True,
            env=self.environ(env_extra),
            cwd=self.cwd,
            timeout=timeout,
            umask=umask,
        )
        return Result(
            raw.args,
            raw.returncode,
            raw.stdout.decode("utf-8", "surrogateescape"),
            raw.stderr.decode("utf-8", "surrogateescape"),
        )

    def popen(self, *args: object, **kw: object) -> subprocess.Popen[bytes]:
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(  # type: ignore[call-overload]
            vault_argv(*args), env=self.environ(), cwd=self.cwd, **kw
        )

    def ok(self, *args: object, **kw: object) -> Result:
        r = self(*args, **kw)  # type: ignore[arg-type]
        assert r.returncode == 0, describe(r)
        assert "Traceback" not in r.stderr, describe(r)
        return r

    def fail(self, *args: object, **kw: object) -> str:
        """Run, expect exit 1 with one line on stderr; returns that line."""
        return assert_one_line_error(self(*args, **kw))  # type: ignore[arg-type]

    def usage(self, *args: object, **kw: object) -> Result:
        r = self(*args, **kw)  # type: ignore[arg-type]
        assert r.returncode == 2, describe(r)
        assert "Traceback" not in r.stderr, describe(r)
        assert "usage:" in r.stderr, describe(r)
        return r

    # -- conveniences -----------------------------------------------------------------------

    @property
    def not_logged_in(self) -> str:
        """The line for a command run without a session: through the daemon (which acts as
        the OS user's peer account when there is no token), it names the OS user who has none."""
        if self.mode == "daemon":
            return (
                "vault: There is no vault account for OS user 'root' here: ask an admin to "
                "make one, or log in with `vault login USER`"
            )
        return "vault: Not logged in: run `vault login USER`"

    @property
    def place(self) -> Path:
        """What token files name: the daemon's socket, or the vault folder (direct mode)."""
        return Path(self.env.get("VAULT_SOCKET") or self.vault_dir)

    def as_os_user(self, name: str) -> Cli:
        """The same vault and files, another OS user: its own XDG_STATE_HOME (token file)."""
        return Cli(
            self.env, self.cwd, self.tmp / f"xdg-state-{name}", self.tmp, self.vault_dir, self.mode
        )

    def register(self, user: str, password: str) -> Result:
        r = self.ok("register", user, "--password-stdin", input=password + "\n")
        m = re.search(r"\(id (\d+)\)", r.stdout)
        assert m, describe(r)
        self.user_id = int(m.group(1))
        return r

    def login(self, user: str, password: str) -> Result:
        return self.ok("login", user, "--password-stdin", input=password + "\n")

    def upload(self, *paths: object, name: str | None = None, input: bytes | None = None) -> int:
        """Upload (must succeed) and return the single id printed."""
        args = [*paths, *(["--name", name] if name is not None else [])]
        r = self.ok("upload", *args, input=input)
        ids = [int(m.group(2)) for m in UPLOADED.finditer(r.stdout)]
        assert len(ids) == 1, describe(r)
        return ids[0]

    def ls(self) -> dict[str, list[dict[str, object]]]:
        return json.loads(self.ok("ls", "--json").stdout)

    def own(self) -> dict[str, dict[str, object]]:
        """My files by name."""
        return {e["name"]: e for e in self.ls()["your_files"]}  # type: ignore[misc]

    def token_files(self) -> list[Path]:
        return sorted((self.state / "vault" / "sessions").glob("*.json"))

    def token(self) -> str:
        (path,) = self.token_files()
        return json.loads(path.read_text())["token"]


def objects(vault_dir: Path) -> set[str]:
    """Names of the object files currently in the store."""
    root = vault_dir / "objects"
    return {p.name for p in root.glob("*/*") if p.is_file()} if root.is_dir() else set()


def temps(vault_dir: Path) -> list[Path]:
    root = vault_dir / "tmp"
    return sorted(root.iterdir()) if root.is_dir() else []
