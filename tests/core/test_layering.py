"""vault.core never imports a UI or web stack: front ends depend on it, not the reverse."""

from __future__ import annotations

import json
import subprocess
import sys


def test_core_imports_no_front_end() -> None:
    code = (
        "import json, sys; import vault.core, vault.core.files, vault.core.shares, "
        "vault.core.sessions, vault.core.upkeep, vault.core.uploads, vault.core.downloads; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    # click is absent from the list on purpose: sqlite-utils imports it for its own CLI.
    for banned in ("textual", "starlette", "uvicorn", "vault.tui", "vault.http"):
        assert not any(m == banned or m.startswith(banned + ".") for m in loaded), banned


def test_cli_start_up_does_not_import_tui_or_http() -> None:
    code = (
        "import json, sys; from vault.cli import build_parser; build_parser(); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert not any(m.startswith(("textual", "starlette", "uvicorn")) for m in loaded)
