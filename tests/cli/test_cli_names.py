"""Bad input gets a clear one-line error and loses nothing: odd names, empty files, bad paths."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

import pytest

from tests.cli.helpers import Cli, assert_one_line_error, objects
from vault.cli import main


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_empty_files_upload_download_and_dedup(alice_cli: Cli, src, out_dir: Path) -> None:
    first = alice_cli.upload(src("empty.txt", b""))
    second = alice_cli.upload(src("also-empty.log", b""))
    piped = alice_cli.upload("-", name="empty-pipe", input=b"")
    assert len({first, second, piped}) == 3
    own = alice_cli.own()
    for name in ("empty.txt", "also-empty.log", "empty-pipe"):
        assert own[name]["size"] == 0 and own[name]["sha256"] == sha(b"")
    assert objects(alice_cli.vault_dir) == {sha(b"")}
    alice_cli.ok("download", "empty.txt", "-o", out_dir)
    alice_cli.ok("download", "empty-pipe", "-o", out_dir)
    assert (out_dir / "empty.txt").read_bytes() == b""
    assert (out_dir / "empty-pipe").read_bytes() == b""
    assert alice_cli.ok("verify").returncode == 0


def test_names_with_spaces_round_trip(alice_cli: Cli, src, out_dir: Path) -> None:
    alice_cli.upload(src("my report v2.txt", b"spaces"))
    alice_cli.ok("download", "my report v2.txt", "-o", out_dir)
    alice_cli.ok("download", "my report v2.txt", "-o", out_dir)
    assert set(os.listdir(out_dir)) == {"my report v2.txt", "my report v2 (1).txt"}
    assert "trailing" not in alice_cli.own()
    assert "white space" in alice_cli.fail("upload", "-", "--name", " padded ", input=b"x")
    assert "white space" in alice_cli.fail("rename", "my report v2.txt", "trailing ")
    assert set(alice_cli.own()) == {"my report v2.txt"}


def test_nfc_and_nfd_spellings_are_one_name(alice_cli: Cli, src, out_dir: Path) -> None:
    nfc = unicodedata.normalize("NFC", "café.txt")
    nfd = unicodedata.normalize("NFD", "café.txt")
    assert nfc != nfd
    file_id = alice_cli.upload(src(nfd, b"decomposed"))
    assert list(alice_cli.own()) == [nfc]
    r = alice_cli.ok("upload", "-", "--name", nfc, input=b"composed")
    assert f"id {file_id}, version 2" in r.stdout
    alice_cli.ok("download", nfd, "-o", out_dir)  # either spelling finds it
    assert os.listdir(out_dir) == [nfc]
    assert (out_dir / nfc).read_bytes() == b"composed"


PATH_LIKE = ["../escape.txt", "a/b.txt", "/etc/passwd", "..", ".", "back\\slash", ""]
CONTROL = ["tab\there", "new\nline", "esc\x1b[31mred", "bell\x07", "del\x7f", "nel\u0085inside"]


def test_path_like_names_are_refused(alice_cli: Cli, src, tmp_path: Path) -> None:
    path = src("ok.txt", b"data")
    for bad in PATH_LIKE:
        line = alice_cli.fail("upload", path, "--name", bad)
        assert "name" in line, bad
    assert alice_cli.ls()["your_files"] == []
    alice_cli.upload(path)
    for bad in PATH_LIKE:
        assert "name" in alice_cli.fail("rename", "ok.txt", bad), bad
    assert set(alice_cli.own()) == {"ok.txt"}
    assert not (tmp_path / "escape.txt").exists()


def test_a_relative_source_path_with_dotdot_stores_the_base_name(alice_cli: Cli, src) -> None:
    path = src("up.txt", b"up")
    rel = os.path.relpath(path, alice_cli.cwd)
    assert rel.startswith("..")
    alice_cli.upload(rel)
    assert set(alice_cli.own()) == {"up.txt"}


def test_control_characters_in_names_are_refused(alice_cli: Cli, src) -> None:
    for bad in CONTROL:
        line = alice_cli.fail("upload", "-", "--name", bad, input=b"x")
        assert "control characters" in line, repr(bad)
    # a local file whose own name has one: refused too, with one line that does not echo it
    for bad in CONTROL[:3]:
        line = alice_cli.fail("upload", src(bad, b"x"))
        assert "control characters" in line, repr(bad)
    assert alice_cli.ls()["your_files"] == []


def test_nul_in_a_name_is_refused(alice_cli: Cli, src, capsys: pytest.CaptureFixture[str]) -> None:
    """argv cannot carry NUL, so this calls the command's `main` in-process (same env)."""
    path = src("ok.txt", b"data")
    assert main(["upload", str(path), "--name", "nul\x00byte"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "control characters" in err
    assert alice_cli.ls()["your_files"] == []


def test_names_up_to_255_bytes_work_and_longer_ones_are_refused(
    alice_cli: Cli, src, out_dir: Path
) -> None:
    name = "é" * 125 + ".txt"  # 254 bytes of UTF-8, 129 characters
    assert len(name.encode()) == 254
    alice_cli.upload(src(name, b"long"))
    alice_cli.ok("download", name, "-o", out_dir)
    alice_cli.ok("download", name, "-o", out_dir)
    names = os.listdir(out_dir)
    assert len(names) == 2 and name in names
    (second,) = [n for n in names if n != name]
    assert second.endswith(" (1).txt")
    assert len(second.encode("utf-8")) <= 255  # strict: no half character left behind
    assert (out_dir / second).read_bytes() == b"long"

    too_long = "a" * 252 + ".txt"
    assert len(too_long.encode()) == 256
    assert "255 bytes" in alice_cli.fail("upload", "-", "--name", too_long, input=b"x")
    assert "255 bytes" in alice_cli.fail("rename", name, "é" * 128)
    assert set(alice_cli.own()) == {name}


def test_a_missing_source_alone_fails_cleanly(alice_cli: Cli, tmp_path: Path) -> None:
    line = alice_cli.fail("upload", tmp_path / "no-such-file.txt")
    assert "No such file" in line and "no-such-file.txt" in line
    assert alice_cli.ls()["your_files"] == []
    assert list((alice_cli.vault_dir / "tmp").iterdir()) == []


def test_errors_about_local_paths_stay_on_one_line(alice_cli: Cli, tmp_path: Path, src) -> None:
    alice_cli.upload(src("a.txt", b"a"))
    # the base name is fine; a folder on the way has a newline in its name
    assert_one_line_error(alice_cli("upload", tmp_path / "no\nsuch dir" / "missing.txt"))
    assert_one_line_error(alice_cli("download", "a.txt", "-o", tmp_path / "no\nsuch dir"))


def test_any_name_is_either_stored_as_nfc_and_downloaded_inside_the_folder_or_refused(
    alice_cli: Cli, src, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Property, through the command's `main` in-process (argv cannot carry every string)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    file_id = alice_cli.upload(src("start.txt", b"property"))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    current = ["start.txt"]

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(st.text(min_size=0, max_size=140))
    def check(name: str) -> None:
        capsys.readouterr()
        code = main(["rename", "--", str(file_id), name])  # `--`: names may start with -
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        if code != 0:
            assert code == 1 and err.count("\n") == 1 and err.startswith("vault: "), err
            return
        nfc = unicodedata.normalize("NFC", name)
        assert nfc not in ("", ".", "..") and "/" not in nfc and "\0" not in nfc
        if nfc != current[0]:
            assert f"Renamed {current[0]} to {nfc}" in out
        current[0] = nfc
        target = downloads / f"d{len(list(downloads.iterdir()))}"
        target.mkdir()
        assert main(["download", str(file_id), "-o", str(target)]) == 0
        capsys.readouterr()
        assert os.listdir(target) == [nfc]
        assert (target / nfc).read_bytes() == b"property"

    check()
    stray = {p.name for p in tmp_path.iterdir()} - {
        "vault", "xdg-state", "xdg-data", "xdg-config", "xdg-cache", "home", "cwd", "src",
        "downloads",
    }  # fmt: skip
    assert stray == set()
