"""Benchmark of `vault serve` beside a peer server (copyparty), same machine, same file, curl.

    python bench/bench_http.py [--size-mib 1024] [--runs 3] [--clients 16] [--client-mib 64]

Needs `pip install -e '.[bench]'` (copyparty) and curl. Both servers listen on 127.0.0.1
only. Prints Markdown tables of medians (MB/s, higher is better) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import make_file

MB = 1_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def curl(*args: str) -> float:
    """Run curl; returns wall seconds. Fails loudly on an HTTP error."""
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def vm_hwm_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", text).group(1))  # type: ignore[union-attr]


def vm_rss_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))  # type: ignore[union-attr]


def median(runs: int, fn: Callable[[int], float]) -> float:
    return statistics.median(fn(i) for i in range(runs))


class VaultServer:
    def __init__(self, work: Path) -> None:
        self.env = dict(
            os.environ, VAULT_HOME=str(work / "vault"), XDG_STATE_HOME=str(work / "state")
        )
        subprocess.run(
            [sys.executable, "-m", "vault", "register", "bench", "--password-stdin"],
            input=b"bench-password\n",
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vault", "serve", "--port", "0"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not found:
            raise SystemExit(f"vault serve said: {line!r}")
        self.url = f"http://127.0.0.1:{found.group(1)}"
        self.jar = str(work / "cookies")
        curl(
            "-c", self.jar, "-H", "Content-Type: application/json",
            "-d", json.dumps({"username": "bench", "password": "bench-password"}),
            f"{self.url}/login",
        )  # fmt: skip

    def upload(self, path: Path) -> float:
        return curl("-b", self.jar, "-F", f"file=@{path}", f"{self.url}/upload")

    def file_id(self, name: str) -> str:
        out = subprocess.run(
            ["curl", "-sS", "--fail", "-b", self.jar, f"{self.url}/files?details=1"],
            check=True,
            capture_output=True,
        ).stdout
        return str(next(f["id"] for f in json.loads(out)["your_files"] if f["name"] == name))

    def download(self, file_id: str, to: str) -> float:
        return curl(
            "-b", self.jar, "-H", "Content-Type: application/json",
            "-d", json.dumps({"file_id": file_id}), "-o", to, f"{self.url}/download",
        )  # fmt: skip

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Copyparty:
    def __init__(self, work: Path) -> None:
        self.root = work / "copyparty"
        (self.root / "up").mkdir(parents=True)
        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "copyparty", "-i", "127.0.0.1", "-p", str(port),
             "-v", f"{self.root}::rw", "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(port, self.proc)
        self.url = f"http://127.0.0.1:{port}"

    def upload(self, path: Path) -> float:
        for old in (self.root / "up").iterdir():  # a repeated name would be renamed, not replaced
            old.unlink()
        return curl("-F", "act=bput", "-F", f"f=@{path}", f"{self.url}/up/")

    def download(self, name: str, to: str) -> float:
        return curl("-o", to, f"{self.url}/up/{name}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--client-mib", type=int, default=64)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vault-httpbench-", dir=os.environ.get("BENCH_DIR")))
    big = work / "big.bin"
    size = args.size_mib << 20
    make_file(big, size)
    vault = VaultServer(work)
    peer = Copyparty(work)
    try:
        rows = []

        def vault_up(i: int) -> float:
            with open(big, "r+b") as f:  # new content each run: no dedup shortcut
                f.write(os.urandom(16))
            return vault.upload(big)

        def peer_up(i: int) -> float:
            return peer.upload(big)

        # peak RSS of the uploads alone: reset the mark left by the login's argon2 (64 MiB)
        Path(f"/proc/{vault.proc.pid}/clear_refs").write_text("5")
        v_up = median(args.runs, vault_up)
        hwm = vm_hwm_kib(vault.proc.pid)
        p_up = median(args.runs, peer_up)
        rows.append(("upload (multipart POST)", size / v_up / MB, size / p_up / MB))
        fid = vault.file_id("big.bin")
        for label, to in (("download to /dev/null", "/dev/null"), ("download to a file", "")):

            def target(i: int, to: str = to) -> str:
                return to or str(work / f"dl-{i}.bin")

            v_dn = median(args.runs, lambda i: vault.download(fid, target(i)))
            p_dn = median(args.runs, lambda i: peer.download("big.bin", target(i)))
            for leftover in work.glob("dl-*.bin"):
                leftover.unlink()
            rows.append((label, size / v_dn / MB, size / p_dn / MB))

        # -- concurrency: each client uploads its own file, then downloads it ---------------------
        small = []
        for i in range(args.clients):
            p = work / f"client-{i}.bin"
            make_file(p, args.client_mib << 20)
            small.append(p)
        rss_before = vm_rss_kib(vault.proc.pid)

        def client(i: int) -> None:
            vault.upload(small[i])
            vault.download(vault.file_id(small[i].name), "/dev/null")

        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(client, range(args.clients)))  # raises if any curl failed
        elapsed = time.perf_counter() - start
        rss_after = vm_rss_kib(vault.proc.pid)
    finally:
        vault.stop()
        peer.stop()
    print(f"\n{args.size_mib} MiB file, median of {args.runs} runs, {time.strftime('%Y-%m-%d')}")
    print("\n| transfer (curl, loopback) | vault MB/s | copyparty MB/s | vault / copyparty |")
    print("|---|---:|---:|---:|")
    for name, v, p in rows:
        print(f"| {name} | {v:.0f} | {p:.0f} | {v / p:.2f} |")
    print("\n| measure | value | goal |\n|---|---:|---|")
    peak = f"{hwm / 1024:.0f} MiB"
    print(f"| server peak RSS during {args.size_mib} MiB uploads | {peak} | <= 100 MiB |")
    print(
        f"| {args.clients} clients x {args.client_mib} MiB up + down | {elapsed:.1f} s, no error "
        f"| no error |"
    )
    print(
        f"| server RSS before / after the clients | {rss_before / 1024:.0f} / "
        f"{rss_after / 1024:.0f} MiB | flat |"
    )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
