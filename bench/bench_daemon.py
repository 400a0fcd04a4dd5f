"""Benchmark of the daemon against direct mode: the same client operations, same vault, same file.

    python bench/bench_daemon.py [--size-mib 1024] [--runs 5] [--files 100000]
                                 [--clients 32] [--seconds 30]

Each operation runs as its own process through `vault.client` (`LocalClient` for direct mode,
`DaemonClient` on a socket for the daemon), alternating modes run by run so a noisy machine
moves both. Prints Markdown tables of medians and ratios; the goals come from the issue.
Nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_core import median_of, seed_files, timed, touch_content
from common import make_file

OP = textwrap.dedent(
    """
    import os, sys
    from vault.client import connect
    mode, place, op, *args = sys.argv[1:]
    c = connect(socket_path=place) if mode == "daemon" else connect(vault_dir=place)
    if op == "login":
        c.login(args[0], sys.stdin.readline().rstrip("\\n"))
    elif op == "upload":
        c.upload(args[0], name=args[1])
    elif op == "download":
        c.download(args[0], args[1])
    elif op == "rm":
        c.delete(args[0])
    elif op == "ls":  # what `vault ls` prints
        listing = c.list_files()
        out = [f"{e.id:>8}  {e.size:>10}  {e.uploaded_at}  {e.name}"
               for e in listing.own + listing.shared]
        sys.stdout.write("\\n".join(out) + "\\n")
    """
)

STRESS = textwrap.dedent(
    """
    import os, sys, time
    from vault.client.remote import DaemonClient
    from vault.core.errors import VaultError
    place, me, seconds, work = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    c = DaemonClient(place)
    src = os.path.join(work, f"stress-{me}.bin")
    end = time.monotonic() + seconds
    ops = errors = 0
    while time.monotonic() < end:
        with open(src, "wb") as f:
            f.write(os.urandom(64 << 10))
        try:
            c.upload(src, name=f"s{me}-{ops % 50}")
            c.list_files()
        except VaultError as e:
            errors += 1
            print(e, file=sys.stderr)
        ops += 1
    print(ops, errors)
    """
)


def rss_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))  # type: ignore[union-attr]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vault-bench-", dir=os.environ.get("BENCH_DIR")))
    vault_dir = work / "vault"
    sock = work / "run" / "vault.sock"
    env = dict(os.environ, VAULT_HOME=str(vault_dir), XDG_STATE_HOME=str(work / "state"))
    env.pop("VAULT_SOCKET", None)
    src = work / "big.bin"
    make_file(src, args.size_mib << 20)
    out = work / "out"
    out.mkdir()
    subprocess.run(
        [sys.executable, "-m", "vault", "register", "bench", "--password-stdin"],
        input=b"bench-password\n", env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    log = open(work / "daemon.log", "wb")  # noqa: SIM115 (open for the daemon's life)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "vault.daemon", "--vault", str(vault_dir), "--socket", str(sock)],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    while b"serving" not in (work / "daemon.log").read_bytes():
        if daemon.poll() is not None:
            raise SystemExit((work / "daemon.log").read_text())
        time.sleep(0.05)
    places = {"direct": str(vault_dir), "daemon": str(sock)}

    def op(mode: str, *argv: str, **kw: object) -> float:
        return timed([sys.executable, "-c", OP, mode, places[mode], *argv], env, **kw)[0]

    subprocess.run(
        [sys.executable, "-c", OP, "daemon", str(sock), "login", "bench"],
        input=b"bench-password\n", env=env, check=True,
    )  # fmt: skip
    rows: list[tuple[str, float, float, str]] = []
    try:
        # -- upload of new content ------------------------------------------------------------
        times: dict[str, list[float]] = {"direct": [], "daemon": []}
        for i in range(args.runs):
            for k, mode in enumerate(("direct", "daemon")):
                touch_content(src, 2 * i + k)  # new content every time
                times[mode].append(op(mode, "upload", str(src), "big.bin"))
                op(mode, "rm", "big.bin")
        up = {m: sorted(t)[len(t) // 2] for m, t in times.items()}
        rows.append(("upload, new content", up["direct"], up["daemon"], "<= 1.15 (1.05)"))

        # -- download: hashed (first time), then known intact ------------------------------------
        op("direct", "upload", str(src), "big.bin")

        def download(mode: str, hashed: bool) -> float:
            if hashed:
                with sqlite3.connect(vault_dir / "vault.db") as db:
                    db.execute("DELETE FROM intact")
            t = op(mode, "download", "big.bin", str(out))
            for p in out.iterdir():
                p.unlink()
            return t

        for hashed, label in ((True, "download, hashed"), (False, "download, known intact")):
            download("direct", hashed)  # warm the page cache
            d = {
                m: median_of(args.runs, lambda i, m=m, h=hashed: download(m, h))
                for m in ("direct", "daemon")
            }
            rows.append((label, d["direct"], d["daemon"], "<= 1.15 (1.05)"))

        # -- listing ----------------------------------------------------------------------------
        seed_files(env, args.files)
        ls = {m: median_of(args.runs, lambda i, m=m: op(m, "ls")) for m in ("direct", "daemon")}
        rows.append((f"ls, {args.files:,} files", ls["direct"], ls["daemon"], "daemon < 1 s"))

        # -- many clients at once ---------------------------------------------------------------
        rss_before = rss_kib(daemon.pid)
        stress_env = dict(env, XDG_STATE_HOME=str(work / "stress-state"))  # peer login

        def stress(me: int) -> tuple[int, int]:
            r = subprocess.run(
                [sys.executable, "-c", STRESS, str(sock), str(me), str(args.seconds), str(work)],
                env=stress_env, capture_output=True, text=True,
            )  # fmt: skip
            if r.returncode != 0:
                return 0, 1
            ops_, errors = map(int, r.stdout.split())
            return ops_, errors

        # two rounds: the first warms the allocator's per-thread arenas; flat means the
        # second one ends where the first did
        results = []
        rss_after = []
        for _ in range(2):
            with ThreadPoolExecutor(args.clients) as pool:
                results += pool.map(stress, range(args.clients))
            rss_after.append(rss_kib(daemon.pid))
    finally:
        daemon.terminate()
        code = daemon.wait()
        log.close()
    total_ops = sum(r[0] for r in results)
    total_errors = sum(r[1] for r in results)

    print(f"\n{args.size_mib} MiB file, median of {args.runs} runs, {time.strftime('%Y-%m-%d')}\n")
    print("| operation | direct (s) | daemon (s) | daemon / direct | goal |")
    print("|---|---:|---:|---:|---|")
    for name, direct, via, goal in rows:
        print(f"| {name} | {direct:.2f} | {via:.2f} | {via / direct:.2f} | {goal} |")
    print("\n| measure | value | goal |\n|---|---:|---|")
    print(
        f"| {args.clients} clients uploading and listing, 2 x {args.seconds:.0f} s "
        f"| {total_ops} rounds, {total_errors} errors | 0 errors |"
    )
    rss = " / ".join(f"{kib / 1024:.0f}" for kib in [rss_before, *rss_after])
    print(f"| daemon RSS before / after round 1 / after round 2 | {rss} MiB | flat |")
    print(f"| daemon exit code on SIGTERM | {code} | 0 |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
