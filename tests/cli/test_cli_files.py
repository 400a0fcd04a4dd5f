"""upload, ls, download, share, unshare, rm, rename, versions, log: through the real command."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.helpers import UPLOADED, Cli, assert_one_line_error, describe, objects

OWN_KEYS = {"id", "name", "size", "sha256", "uploaded_at", "shared_with"}
SHARED_KEYS = {"id", "name", "size", "sha256", "uploaded_at", "owner"}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(folder: Path) -> set[str]:
    return set(os.listdir(folder))


# -- upload and ls ------------------------------------------------------------------------------


def test_upload_prints_ids_and_ls_json_describes_each_file(alice_cli: Cli, src) -> None:
    a = src("a.txt", b"hello\n")
    b = src("b.bin", os.urandom(3000))
    r = alice_cli.ok("upload", a, b)
    printed = {m.group(1): int(m.group(2)) for m in UPLOADED.finditer(r.stdout)}
    assert set(printed) == {"a.txt", "b.bin"}

    data = alice_cli.ls()
    assert set(data) == {"your_files", "shared_files"}
    assert data["shared_files"] == []
    assert [e["name"] for e in data["your_files"]] == ["a.txt", "b.bin"]
    for entry in data["your_files"]:
        assert set(entry) == OWN_KEYS
        content = (a if entry["name"] == "a.txt" else b).read_bytes()
        assert entry["id"] == printed[entry["name"]]
        assert entry["size"] == len(content)
        assert entry["sha256"] == sha(content)
        assert ISO_UTC.fullmatch(entry["uploaded_at"])
        assert entry["shared_with"] == []

    text = alice_cli.ok("ls").stdout
    assert "Your files:" in text and "a.txt" in text and "b.bin" in text


def test_ls_with_no_files_says_how_to_start(alice_cli: Cli) -> None:
    assert "vault upload" in alice_cli.ok("ls").stdout
    assert alice_cli.ls() == {"your_files": [], "shared_files": []}


def test_upload_from_stdin_needs_a_name_and_keeps_the_bytes(alice_cli: Cli, out_dir: Path) -> None:
    data = os.urandom(300_000)
    alice_cli.usage("upload", "-", input=data)
    assert alice_cli.ls()["your_files"] == []
    file_id = alice_cli.upload("-", name="piped.bin", input=data)
    (entry,) = alice_cli.ls()["your_files"]
    assert entry["id"] == file_id and entry["size"] == len(data) and entry["sha256"] == sha(data)
    alice_cli.ok("download", "piped.bin", "-o", out_dir)
    assert (out_dir / "piped.bin").read_bytes() == data


def test_name_with_several_paths_is_a_usage_error_and_uploads_nothing(alice_cli: Cli, src) -> None:
    a, b = src("a.txt", b"a"), src("b.txt", b"b")
    r = alice_cli.usage("upload", a, b, "--name", "both.txt")
    assert "--name" in r.stderr
    assert alice_cli.ls()["your_files"] == []


def test_a_missing_path_fails_but_the_others_still_upload(alice_cli: Cli, src) -> None:
    a, b = src("a.txt", b"first"), src("b.txt", b"second")
    missing = a.parent / "missing.txt"
    r = alice_cli("upload", a, missing, b)
    line = assert_one_line_error(r)
    assert "missing.txt" in line and "No such file" in line
    assert [m.group(1) for m in UPLOADED.finditer(r.stdout)] == ["a.txt", "b.txt"]
    assert set(alice_cli.own()) == {"a.txt", "b.txt"}


def test_uploading_a_folder_is_refused(alice_cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    assert "is a folder" in alice_cli.fail("upload", folder)
    assert alice_cli.ls()["your_files"] == []


# -- download -----------------------------------------------------------------------------------


def test_download_by_id_or_name_never_overwrites(alice_cli: Cli, src, out_dir: Path) -> None:
    data = os.urandom(70_000)
    file_id = alice_cli.upload(src("report.txt", data))

    r = alice_cli.ok("download", file_id, "-o", out_dir)
    assert str(out_dir / "report.txt") in r.stdout
    alice_cli.ok("download", "report.txt", "-o", out_dir)
    alice_cli.ok("download", "report.txt", "--output", out_dir)
    assert listing(out_dir) == {"report.txt", "report (1).txt", "report (2).txt"}
    for name in listing(out_dir):
        assert (out_dir / name).read_bytes() == data

    mine = out_dir / "notes.md"
    mine.write_bytes(b"my own notes")
    alice_cli.upload(src("notes.md", b"the vault's notes"))
    alice_cli.ok("download", "notes.md", "-o", out_dir)
    assert mine.read_bytes() == b"my own notes"
    assert (out_dir / "notes (1).md").read_bytes() == b"the vault's notes"


def test_download_defaults_to_the_current_folder(alice_cli: Cli, src) -> None:
    alice_cli.upload(src("here.txt", b"here"))
    alice_cli.ok("download", "here.txt")
    assert (alice_cli.cwd / "here.txt").read_bytes() == b"here"


def test_download_never_follows_a_symlink_out_of_the_folder(
    alice_cli: Cli, src, out_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (out_dir / "a.txt").symlink_to(outside / "a.txt")  # dangling, points outside
    alice_cli.upload(src("a.txt", b"payload"))
    alice_cli.ok("download", "a.txt", "-o", out_dir)
    assert listing(outside) == set()
    assert (out_dir / "a.txt").is_symlink()
    assert (out_dir / "a (1).txt").read_bytes() == b"payload"


def test_download_into_a_missing_or_unwritable_destination(
    alice_cli: Cli, src, tmp_path: Path
) -> None:
    alice_cli.upload(src("a.txt", b"keep me"))
    before = alice_cli.ls()

    nope = tmp_path / "nope"
    assert "does not exist" in alice_cli.fail("download", "a.txt", "-o", nope)
    assert not nope.exists()  # not created behind the user's back

    regular = tmp_path / "regular-file"
    regular.write_bytes(b"untouched")
    assert "not a folder" in alice_cli.fail("download", "a.txt", "-o", regular)
    # a folder under a regular file: even root cannot create anything there
    assert "vault: " in alice_cli.fail("download", "a.txt", "-o", regular / "sub")
    assert regular.read_bytes() == b"untouched"

    assert alice_cli.ls() == before  # nothing lost in the vault
    good = tmp_path / "good"
    good.mkdir()
    alice_cli.ok("download", "a.txt", "-o", good)
    assert (good / "a.txt").read_bytes() == b"keep me"


def test_download_into_a_read_only_mount(alice_cli: Cli, src, out_dir: Path) -> None:
    """A read-only bind mount, in a private mount namespace so nothing leaks out of the test."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("needs unshare(1) and mount(8)")
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"',
         str(out_dir)],
        capture_output=True,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only bind mount here: {probe.stderr.decode().strip()}")
    alice_cli.upload(src("a.txt", b"data"))
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    r = alice_cli(
        "download", "a.txt", "-o", out_dir, prefix=["unshare", "-m", "sh", "-c", script, out_dir]
    )
    line = assert_one_line_error(r)
    assert "Cannot write into" in line and "Read-only" in line
    assert listing(out_dir) == set()
    assert set(alice_cli.own()) == {"a.txt"}


# -- versions, rename, rm -----------------------------------------------------------------------


def test_same_name_adds_a_version_and_old_versions_stay_downloadable(
    alice_cli: Cli, src, out_dir: Path
) -> None:
    path = src("doc.txt", b"version one")
    first = alice_cli.upload(path)
    path.write_bytes(b"version two, longer")
    r = alice_cli.ok("upload", path)
    assert f"id {first}, version 2" in r.stdout

    lines = alice_cli.ok("versions", "doc.txt").stdout.splitlines()
    assert len(lines) == 2  # newest first, as the TUI shows them
    assert lines[0].split()[0] == "2" and lines[0].endswith("(current)")
    assert lines[1].split()[0] == "1" and "(current)" not in lines[1]
    assert sha(b"version two, longer")[:12] in lines[0]

    (entry,) = alice_cli.ls()["your_files"]
    assert entry["id"] == first and entry["sha256"] == sha(b"version two, longer")
    alice_cli.ok("download", first, "--version", "1", "-o", out_dir)
    assert (out_dir / "doc.txt").read_bytes() == b"version one"
    assert "no version 7" in alice_cli.fail("download", first, "--version", "7", "-o", out_dir)
    assert listing(out_dir) == {"doc.txt"}


def test_rename_keeps_the_id_and_refuses_a_taken_name(alice_cli: Cli, src) -> None:
    a = alice_cli.upload(src("a.txt", b"A"))
    b = alice_cli.upload(src("b.txt", b"B"))
    r = alice_cli.ok("rename", "a.txt", "renamed a.txt")
    assert "Renamed a.txt to renamed a.txt" in r.stdout
    assert "already have a file named 'b.txt'" in alice_cli.fail("rename", a, "b.txt")
    own = alice_cli.own()
    assert set(own) == {"renamed a.txt", "b.txt"}
    assert own["renamed a.txt"]["id"] == a and own["b.txt"]["id"] == b
    assert own["b.txt"]["sha256"] == sha(b"B")


def test_rm_deletes_the_file_and_its_unused_content(alice_cli: Cli, src) -> None:
    keep = alice_cli.upload(src("keep.txt", b"keep"))
    gone = alice_cli.upload(src("gone.txt", b"gone"))
    assert sha(b"gone") in objects(alice_cli.vault_dir)
    assert "Deleted gone.txt" in alice_cli.ok("rm", gone).stdout
    assert set(alice_cli.own()) == {"keep.txt"}
    assert sha(b"gone") not in objects(alice_cli.vault_dir)
    assert sha(b"keep") in objects(alice_cli.vault_dir)
    assert "No file" in alice_cli.fail("rm", gone)
    assert alice_cli.own()["keep.txt"]["id"] == keep


# -- sharing and who may do what ----------------------------------------------------------------


def test_share_and_unshare_by_username_or_id(
    alice_cli: Cli, bob_cli: Cli, src, out_dir: Path
) -> None:
    data = os.urandom(20_000)
    file_id = alice_cli.upload(src("plan.pdf", data))
    assert bob_cli.ls()["shared_files"] == []

    r = alice_cli.ok("share", "plan.pdf", "BOB")  # usernames ignore case
    assert f"Shared plan.pdf (id {file_id}) with bob" in r.stdout
    assert alice_cli.own()["plan.pdf"]["shared_with"] == ["bob"]
    (entry,) = bob_cli.ls()["shared_files"]
    assert set(entry) == SHARED_KEYS
    assert entry["id"] == file_id and entry["owner"] == "alice" and entry["sha256"] == sha(data)
    assert bob_cli.ls()["your_files"] == []
    assert "from alice" in bob_cli.ok("ls").stdout

    bob_cli.ok("download", "plan.pdf", "-o", out_dir)
    assert (out_dir / "plan.pdf").read_bytes() == data

    assert bob_cli.user_id is not None
    r = alice_cli.ok("unshare", file_id, bob_cli.user_id)
    assert "Stopped sharing plan.pdf" in r.stdout
    assert bob_cli.ls()["shared_files"] == []
    assert "No file" in bob_cli.fail("download", file_id, "-o", out_dir)
    assert alice_cli.own()["plan.pdf"]["shared_with"] == []


def test_share_with_yourself_or_nobody_is_refused(alice_cli: Cli, src) -> None:
    alice_cli.upload(src("a.txt", b"a"))
    assert "yourself" in alice_cli.fail("share", "a.txt", "alice")
    assert "No user 'nobody'" in alice_cli.fail("share", "a.txt", "nobody")
    assert alice_cli.own()["a.txt"]["shared_with"] == []


def test_only_the_owner_may_change_a_file_and_ids_leak_nothing(
    alice_cli: Cli, bob_cli: Cli, src, out_dir: Path
) -> None:
    shared = alice_cli.upload(src("shared.txt", b"shared with bob"))
    secret = alice_cli.upload(src("secret.txt", b"alice only"))
    alice_cli.ok("share", shared, "bob")
    before = alice_cli.ls()

    # what bob is told about an id that does not exist at all…
    nonexistent = secret + 1000
    missing = bob_cli.fail("download", nonexistent, "-o", out_dir)
    assert missing == f"vault: No file '{nonexistent}' that you can access (see `vault ls`)"

    def as_if_missing(ref: object) -> str:
        return missing.replace(repr(str(nonexistent)), repr(str(ref)))

    # …is exactly what he is told about alice's file that is not shared with him
    assert bob_cli.fail("download", secret, "-o", out_dir) == as_if_missing(secret)
    assert bob_cli.fail("download", "secret.txt", "-o", out_dir) == as_if_missing("secret.txt")
    assert listing(out_dir) == set()

    owner_only = {
        "rm": lambda ref: ["rm", ref],
        "rename": lambda ref: ["rename", ref, "mine.txt"],
        "share": lambda ref: ["share", ref, "bob"],
        "unshare": lambda ref: ["unshare", ref, "bob"],
    }
    for what, cmd in owner_only.items():
        # shared with bob: he sees it, but it is not his
        line = bob_cli.fail(*cmd(shared))
        assert line == f"vault: File {shared} is not yours; only its owner may do that", what
        # not shared with him: exactly the message of an id that does not exist
        assert bob_cli.fail(*cmd(secret)) == as_if_missing(secret), what

    # versions: a recipient sees only the current one, others none at all
    assert bob_cli.fail("versions", secret) == as_if_missing(secret)
    (only,) = bob_cli.ok("versions", shared).stdout.splitlines()
    assert only.split()[0] == "1" and only.endswith("(current)")

    bob_cli.ok("download", shared, "-o", out_dir)
    assert (out_dir / "shared.txt").read_bytes() == b"shared with bob"
    assert alice_cli.ls() == before  # nothing bob tried changed anything


def test_recipient_cannot_touch_a_shared_file_by_name_either(alice_cli: Cli, bob_cli: Cli, src):
    alice_cli.upload(src("shared.txt", b"x"))
    alice_cli.ok("share", "shared.txt", "bob")
    assert "is not yours" in bob_cli.fail("rm", "shared.txt")
    assert "is not yours" in bob_cli.fail("rename", "shared.txt", "x.txt")
    assert set(alice_cli.own()) == {"shared.txt"}


# -- log ----------------------------------------------------------------------------------------


def test_log_shows_my_activity_and_never_others_private_files(
    alice_cli: Cli, bob_cli: Cli, src
) -> None:
    shared = alice_cli.upload(src("shared.txt", b"s"))
    alice_cli.upload(src("private-plans.txt", b"p"))
    alice_cli.ok("share", shared, "bob")
    alice_cli.ok("rename", "private-plans.txt", "still-private.txt")

    alice_log = alice_cli.ok("log").stdout
    assert "alice upload 'shared.txt'" in alice_log
    assert f"alice share 'shared.txt' (#{shared}) with bob" in alice_log
    assert "alice rename 'still-private.txt'" in alice_log
    assert "alice register" in alice_log

    bob_log = bob_cli.ok("log").stdout
    assert f"alice share 'shared.txt' (#{shared}) with bob" in bob_log
    assert "private" not in bob_log
    assert "bob register" in bob_log

    limited = alice_cli.ok("log", "--limit", "1").stdout.splitlines()
    assert len(limited) == 1 and "rename" in limited[0]


def test_upload_output_is_one_line_per_file(alice_cli: Cli, src) -> None:
    paths = [src(f"f{i}.txt", f"content {i}".encode()) for i in range(3)]
    r = alice_cli.ok("upload", *paths)
    assert len(r.stdout.splitlines()) == 3, describe(r)
    assert r.stderr == ""
