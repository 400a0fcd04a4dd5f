"""The real `vault serve` in a subprocess, and small helpers to talk to it (see conftest.py)."""

from __future__ import annotations

import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

URL = re.compile(r"http://\S+?/")
TEXT = "text/plain; charset=utf-8"
START_TIMEOUT = 20.0


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `check` until true (bounded): the file system settles after the server acts."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Server:
    """One `python -m vault serve --port 0` process on a private vault folder."""

    vault_dir: Path
    env: dict[str, str]
    extra: list[str] = field(default_factory=list)
    nofile: int | None = None
    """An open-file limit (soft and hard) for the server process."""
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    stdout: str = ""
    stderr_path: Path | None = None

    def start(self) -> Server:
        self.stderr_path = self.vault_dir.parent / f"serve-{id(self)}.stderr"
        argv = [sys.executable, "-m", "vault", "serve", "--port", "0", "--vault"]
        self.proc = subprocess.Popen(
            [*argv, str(self.vault_dir), *self.extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr_path.open("wb"),
            env=self.env,
            preexec_fn=self._limit if self.nofile else None,
        )
        line = self._read_line(START_TIMEOUT)
        m = URL.search(line)
        assert m, f"no URL in {line!r}; stderr: {self.stderr()}"
        self.url = m.group(0).rstrip("/")
        return self

    def _limit(self) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def _read_line(self, timeout: float) -> str:
        assert self.proc and self.proc.stdout
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise AssertionError(f"server printed no line; stderr: {self.stderr()}")
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
        self.stdout += buf.decode()
        return buf.decode()

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path else ""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0, **kwargs)  # type: ignore[arg-type]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the server, wait for it, collect its output; returns the exit code."""
        assert self.proc
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError("server did not stop in time") from None
        self.stdout += out.decode()
        return self.proc.returncode

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


def login(server: Server, username: str, password: str) -> httpx.Client:
    """A client holding a session cookie for `username`."""
    client = server.client()
    r = client.post("/login", json={"username": username, "password": password})
    assert r.status_code == 200 and r.text == f"Welcome {username}", r.text
    return client


def assert_text(r: httpx.Response, status: int, body: str) -> None:
    """Status, `text/plain; charset=utf-8` and the exact body (no trailing newline)."""
    assert (r.status_code, r.headers.get("content-type"), r.text) == (status, TEXT, body)


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "vaultboundary") -> bytes:
    """A multipart/form-data body from (field name, filename or None, data), built by hand
    so that names can be anything (raw UTF-8, slashes, quotes)."""
    out = bytearray()
    for name, filename, data in parts:
        out += f"--{boundary}\r\n".encode()
        disp = f'form-data; name="{name}"'
        if filename is not None:
            disp += f'; filename="{filename}"'
        out += f"Content-Disposition: {disp}\r\n".encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n"
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def multipart_headers(boundary: str = "vaultboundary") -> dict[str, str]:
    return {"content-type": f"multipart/form-data; boundary={boundary}"}


def tmp_files(vault_dir: Path) -> list[str]:
    tmp = vault_dir / "tmp"
    return sorted(os.listdir(tmp)) if tmp.is_dir() else []


def start_raw_upload(
    server: Server, token: str, name: str, host: str = "127.0.0.1"
) -> socket.socket:
    """Begin a multipart upload announcing 100 MB and send 3 MB of it; return the socket."""
    head = multipart([("file", name, b"")]).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    sock = server.connect()
    sock.sendall(
        f"POST /upload HTTP/1.1\r\nHost: {host}\r\n".encode()
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=vaultboundary\r\n"
        + b"Content-Length: 100000000\r\n\r\n"
        + head
        + b"x" * 3_000_000
    )
    return sock


def exchange(server: Server, request: bytes) -> bytes:
    """Send raw bytes (a request that ends with `Connection: close`) and read to EOF."""
    with server.connect() as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def raw_post(path: str, token: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """The bytes of a POST with a Bearer token and `Connection: close` (headers as given)."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += ["Connection: close", "", ""]
    return "\r\n".join(lines).encode() + body


def chunked(*pieces: bytes) -> bytes:
    """`pieces` in chunked transfer coding, with the terminating 0-chunk."""
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"
