"""Benchmark of the terminal UI with a large vault: how long 100,000 files take to appear,
to filter and to sort.

    python bench/bench_tui.py [--files 100000] [--runs 5]

Runs the real app headless (Textual's `run_test`) on a temp vault whose rows go straight into
the database (bench_core's `seed_files`). Prints a Markdown table of medians; nothing here is
asserted by a test (tests/tui/test_large.py checks the same things work, without timing them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench_core import seed_files

from vault.core import Vault, sessions, users
from vault.tui.app import make_app
from vault.tui.widgets.file_table import FileTable


async def one_run(v: Vault, count: int) -> tuple[float, float, float, float]:
    """Seconds from start to the app up, and to `count` files shown; one filter, one sort."""
    app = make_app(v)
    start = time.perf_counter()
    async with app.run_test(size=(100, 30)) as pilot:
        up = time.perf_counter() - start
        while True:  # the list loads in a worker: poll until every row is there
            tables = app.screen.query("#own")
            if tables and tables.first(FileTable).total == count:
                break
            await pilot.pause(0.005)
        opened = time.perf_counter() - start
        table = app.screen.query_one("#own", FileTable)
        await pilot.press("slash", *"9999")
        start = time.perf_counter()
        app.screen.apply_filter()
        filtered = time.perf_counter() - start
        await pilot.press("escape")
        start = time.perf_counter()
        table.sort_by("size")
        resorted = time.perf_counter() - start
    return up, opened, filtered, resorted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vault-bench-tui-", dir=os.environ.get("BENCH_DIR")))
    os.environ["VAULT_HOME"] = str(work / "vault")
    os.environ["XDG_STATE_HOME"] = str(work / "state")
    v = Vault(work / "vault")
    users.register(v, "bench", "bench-password")
    _, token = sessions.login(v, "bench", "bench-password", client="bench")
    sessions.save_token(v, token, "bench")
    seed_files(dict(os.environ), args.files)

    runs = [asyncio.run(one_run(v, args.files)) for _ in range(args.runs)]
    up, opened, filtered, resorted = (statistics.median(r[i] for r in runs) for i in range(4))
    print(f"\n{args.files:,} files, median of {args.runs} runs, {time.strftime('%Y-%m-%d')}\n")
    print("| measure | seconds | goal |\n|---|---:|---|")
    print(f"| TUI start to first screen | {up:.2f} | |")
    print(f"| TUI start to all {args.files:,} files listed | {opened:.2f} | < 1.5 |")
    print(f"| one filter pass (typing pauses) | {filtered:.3f} | < 0.3 |")
    print(f"| sort by size | {resorted:.3f} | |")
    v.close()
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
