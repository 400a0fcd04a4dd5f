"""Which folders `vault` opens as a vault, through the real command.

A vault whose database is missing or empty is refused (never made anew beside the old
objects, which `gc` would then delete); a vault made before markers gets one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import TIMEOUT, Cli, assert_one_line_error, describe, objects
from tests.support import ALICE_PW

# Direct mode only: about how a command opens (or refuses) a vault folder itself.
pytestmark = pytest.mark.direct_only


def lose_database(vault_dir: Path, how: str, elsewhere: Path) -> None:
    db = vault_dir / "vault.db"
    if how == "emptied":
        db.write_bytes(b"")  # `: > vault.db`
    else:
        shutil.move(db, elsewhere / "vault.db")


@pytest.mark.parametrize("how", ["emptied", "moved away"])
def test_a_lost_database_is_refused_by_every_command(
    alice_cli: Cli, src, tmp_path: Path, how: str
) -> None:
    vault_dir = alice_cli.vault_dir
    alice_cli.upload(src("a.txt", b"precious"))
    stored = objects(vault_dir)
    lose_database(vault_dir, how, tmp_path)
    problem = "is empty" if how == "emptied" else "is missing"

    for args in (["verify"], ["gc"], ["gc", "--dry-run"], ["ls"], ["whoami"]):
        line = alice_cli.fail(*args)
        assert problem in line and "restore" in line and "backup" in line, (args, line)
    line = alice_cli.fail("register", "alice", "--password-stdin", input=ALICE_PW + "\n")
    assert problem in line  # the old username is not free for the taking

    assert objects(vault_dir) == stored  # gc removed nothing
    db = vault_dir / "vault.db"
    assert (db.stat().st_size == 0) if how == "emptied" else not db.exists()


def test_serve_refuses_to_start_on_a_lost_database(alice_cli: Cli, src, tmp_path: Path) -> None:
    alice_cli.upload(src("a.txt", b"precious"))
    lose_database(alice_cli.vault_dir, "moved away", tmp_path)
    r = subprocess.run(
        [sys.executable, "-m", "vault", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=alice_cli.environ(),
        cwd=alice_cli.cwd,
        timeout=TIMEOUT,
    )
    assert r.stdout == "", describe(r)  # never got as far as serving
    assert "is missing" in assert_one_line_error(r)


def test_a_vault_from_before_markers_gets_one_and_keeps_working(alice_cli: Cli, src) -> None:
    alice_cli.upload(src("a.txt", b"kept"))
    marker = alice_cli.vault_dir / "vault.json"
    marker.unlink()  # as the previous release left its vaults
    assert set(alice_cli.own()) == {"a.txt"}
    assert json.loads(marker.read_text())["format"] == 1
    assert alice_cli.ok("verify").stdout == "Checked 1 objects: all intact\n"


# -- creating a vault ---------------------------------------------------------------------------


def test_a_new_vault_is_announced_once_on_stderr(run: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "new-vault"
    r = run.ok("--vault", folder, "verify")
    assert r.stderr == f"Created a new vault at {folder}\n"
    assert r.stdout == "Checked 0 objects: all intact\n"  # stdout stays the command's own
    assert (folder / "vault.json").is_file()
    assert run.ok("--vault", folder, "verify").stderr == ""  # only the first time


@pytest.mark.parametrize("via", ["--vault", "VAULT_HOME"])
def test_only_the_last_level_of_a_named_vault_is_created(
    run: Cli, tmp_path: Path, via: str
) -> None:
    folder = tmp_path / "nonexistent" / "a" / "b"
    if via == "--vault":
        r = run("--vault", folder, "verify")
    else:
        r = run("verify", env_extra={"VAULT_HOME": str(folder)})
    line = assert_one_line_error(r)
    assert f"the folder {folder.parent} does not exist" in line
    assert not (tmp_path / "nonexistent").exists()
    assert r.stdout == ""


def test_the_default_vault_folder_gets_its_parents(run: Cli) -> None:
    """The platformdirs folder (~/.local/share/vault) may lack its parents on a new account."""
    data = Path(run.env["XDG_DATA_HOME"])
    assert not data.exists()
    r = run.ok("verify", env_extra={"VAULT_HOME": None})
    assert r.stderr == f"Created a new vault at {data / 'vault'}\n"
    assert (data / "vault" / "vault.json").is_file()
