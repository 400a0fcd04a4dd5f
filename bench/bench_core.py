"""Benchmark of the CLI against the tools a user would otherwise use: openssl, cp, sync.

    python bench/bench_core.py [--size-mib 1024] [--runs 5] [--files 100000]

Prints a Markdown table of medians and ratios, each ratio measured in the same run, so a
noisy machine moves both sides. Goals come from the issue; nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import make_file

VAULT = [sys.executable, "-m", "vault"]


def timed(argv: list[str] | str, env: dict[str, str], **kw: object) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one command, from the kernel's rusage of the child."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        env=env,
        shell=isinstance(argv, str),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **kw,  # type: ignore[arg-type]
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"failed: {argv}\n{err}")
    return elapsed, usage.ru_maxrss


def median_of(runs: int, fn: Callable[[int], float]) -> float:
    return statistics.median(fn(i) for i in range(runs))


def touch_content(path: Path, i: int) -> None:
    """Make the file new content for the vault (first 8 bytes) without rewriting it."""
    with open(path, "r+b") as f:
        f.write(i.to_bytes(8, "little") + os.urandom(8))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--files", type=int, default=100_000)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vault-bench-", dir=os.environ.get("BENCH_DIR")))
    env = dict(os.environ, VAULT_HOME=str(work / "vault"), XDG_STATE_HOME=str(work / "state"))
    src = work / "big.bin"
    size = args.size_mib << 20
    make_file(src, size)
    out = work / "out"
    out.mkdir()
    subprocess.run(
        [*VAULT, "register", "bench", "--password-stdin"],
        input=b"bench-password\n",
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    rows: list[tuple[str, float, str, float, str]] = []
    rss: list[int] = []

    def fresh_vault() -> None:
        subprocess.run([*VAULT, "rm", "big.bin"], env=env, capture_output=True)
        subprocess.run([*VAULT, "gc"], env=env, check=True, capture_output=True)

    # -- new content: one-pass ingest vs hash-then-durable-copy --------------------------------
    def baseline_new(i: int) -> float:
        touch_content(src, i)
        t1, _ = timed(["openssl", "dgst", "-sha256", str(src)], env)
        t2, _ = timed(f"cp '{src}' '{work}/copy' && sync '{work}/copy'", env)
        os.unlink(work / "copy")
        return t1 + t2

    def vault_new(i: int) -> float:
        fresh_vault()
        touch_content(src, 1000 + i)
        t, peak = timed([*VAULT, "upload", str(src)], env)
        rss.append(peak)
        return t

    new_base = median_of(args.runs, baseline_new)
    new_vault = median_of(args.runs, vault_new)
    rows.append(("upload, new content", new_vault, "openssl dgst + cp && sync", new_base, "<= 1.0"))

    # -- known content: only hashing ------------------------------------------------------------
    def baseline_hash(i: int) -> float:
        return timed(["openssl", "dgst", "-sha256", str(src)], env)[0]

    def vault_dedup(i: int) -> float:
        return timed([*VAULT, "upload", str(src), "--name", f"again-{i}.bin"], env)[0]

    hash_base = median_of(args.runs, baseline_hash)
    dedup = median_of(args.runs, vault_dedup)
    rows.append(("upload, known content", dedup, "openssl dgst", hash_base, "<= 1.5"))

    # -- download -------------------------------------------------------------------------------
    def baseline_cp(i: int) -> float:
        t, _ = timed(["cp", str(src), str(out / "cp.bin")], env)
        os.unlink(out / "cp.bin")
        return t

    def vault_download(i: int) -> float:
        t, _ = timed([*VAULT, "download", "big.bin", "-o", str(out)], env)
        for p in out.iterdir():
            p.unlink()
        return t

    def baseline_cp_sync(i: int) -> float:
        t, _ = timed(f"cp '{src}' '{out}/cp.bin' && sync '{out}/cp.bin'", env)
        os.unlink(out / "cp.bin")
        return t

    cp_base = median_of(args.runs, baseline_cp)
    cp_sync = median_of(args.runs, baseline_cp_sync)
    down = median_of(args.runs, vault_download)
    rows.append(("download", down, "cp", cp_base, "<= 1.3"))
    rows.append(("download", down, "cp && sync (durable, as vault is)", cp_sync, ""))

    # -- listing 100,000 files ------------------------------------------------------------------
    seed_files(env, args.files)
    ls_t = median_of(args.runs, lambda i: timed([*VAULT, "ls"], env)[0])
    ls_json = median_of(args.runs, lambda i: timed([*VAULT, "ls", "--json"], env)[0])
    start = median_of(args.runs, lambda i: timed([*VAULT, "--help"], env)[0])

    print(f"\n{args.size_mib} MiB file, median of {args.runs} runs, {time.strftime('%Y-%m-%d')}\n")
    print("| operation | vault (s) | baseline | baseline (s) | ratio | goal |")
    print("|---|---:|---|---:|---:|---|")
    for name, t, base_name, base, goal in rows:
        print(f"| {name} | {t:.2f} | {base_name} | {base:.2f} | {t / base:.2f} | {goal} |")
    print("\n| measure | value | goal |\n|---|---:|---|")
    peak = f"{max(rss) / 1024:.0f} MiB"
    print(f"| peak RSS of `vault upload` ({args.size_mib} MiB) | {peak} | <= 80 MiB |")
    print(f"| `vault ls`, {args.files:,} files | {ls_t:.2f} s | < 1 s |")
    print(f"| `vault ls --json`, {args.files:,} files | {ls_json:.2f} s | < 1 s |")
    print(f"| `vault --help` (start-up) | {start:.3f} s | |")
    shutil.rmtree(work)


def seed_files(env: dict[str, str], count: int) -> None:
    """Add `count` small files for the bench user straight into the database (fast setup)."""
    code = f"""
import os
from vault.core import Vault, files, sessions, uploads
from vault.core.db import write
v = Vault(os.environ["VAULT_HOME"])
user, _ = sessions.current_user(v)
src = os.path.join(os.environ["VAULT_HOME"], "..", "seed.txt")
open(src, "w").write("seed")
e = uploads.upload_path(v, user, src, name="seed-0")
with write(v.db) as db:
    for i in range(1, {count}):
        fid = db.execute("INSERT INTO files (owner_id, name, created_at) VALUES (?, ?, ?)",
                         [user.id, f"seed-{{i}}", e.uploaded_at]).lastrowid
        db.execute("INSERT INTO versions (file_id, number, sha256, size, uploaded_at)"
                   " VALUES (?, 1, ?, ?, ?)", [fid, e.sha256, e.size, e.uploaded_at])
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


if __name__ == "__main__":
    main()
