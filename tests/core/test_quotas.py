"""Quotas: charged on the logical size of a user's versions, checked before and at commit."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from support import upload_bytes

from vault.core import Vault, admin, quotas, uploads
from vault.core.errors import InvalidSize, OverQuota
from vault.core.models import User


def _stored(v: Vault) -> list[Path]:
    """Every file under objects/ and tmp/: what an upload left on disk."""
    return [p for d in ("objects", "tmp") for p in (v.root / d).rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("text", "size"),
    [("1024", 1024), ("10G", 10 * 1024**3), ("500m", 500 * 1024**2), ("1.5K", 1536),
     ("2GiB", 2 * 1024**3), ("3 MB", 3 * 1024**2), ("none", None), ("NONE", None)],
)  # fmt: skip
def test_sizes_parse(text: str, size: int | None) -> None:
    assert quotas.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "ten", "-1G", "10X", "1e9"])
def test_a_size_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(InvalidSize, match="10G"):
        quotas.parse_size(text)


def test_dedup_never_makes_one_user_pay_for_another(
    v: Vault, alice: User, bob: User, tmp_path: Path
) -> None:
    data = os.urandom(3000)
    upload_bytes(v, alice, tmp_path, "a.bin", data)
    admin.set_quota(v, "bob", 3000, "test")
    upload_bytes(v, bob, tmp_path, "b.bin", data)  # stored once, charged to each
    assert admin.usage(v, alice).bytes == 3000
    assert admin.usage(v, bob) == admin.Usage(files=1, bytes=3000, quota=3000)
    with pytest.raises(OverQuota):  # a second version of known content is charged again
        upload_bytes(v, bob, tmp_path, "b.bin", data)


def test_an_upload_over_quota_stores_nothing_and_says_what_to_do(
    v: Vault, alice: User, tmp_path: Path
) -> None:
    upload_bytes(v, alice, tmp_path, "old.bin", b"x" * 600)
    admin.set_quota(v, "alice", 1024, "test")
    before = _stored(v)
    with pytest.raises(OverQuota) as e:
        upload_bytes(v, alice, tmp_path, "new.bin", b"y" * 500)
    assert (e.value.usage, e.value.quota, e.value.adding) == (600, 1024, 500)
    assert "600 B of 1.0 KiB" in str(e.value) and "Delete files" in str(e.value)
    assert _stored(v) == before
    assert v.db.execute("SELECT name FROM files").fetchall() == [("old.bin",)]
    upload_bytes(v, alice, tmp_path, "fits.bin", b"z" * 424)  # exactly up to the quota


def test_a_stream_over_quota_stops_before_its_end(v: Vault, alice: User) -> None:
    admin.set_quota(v, "alice", 100, "test")
    r, w = os.pipe()
    os.write(w, b"p" * 150)
    os.close(w)
    try:
        with pytest.raises(OverQuota):
            uploads.upload_fd(v, alice, r, "piped")
    finally:
        os.close(r)
    with uploads.Upload(v, alice, "chunks") as up:
        up.write(b"a" * 60)
        with pytest.raises(OverQuota):
            up.write(b"b" * 60)
    assert _stored(v) == []


def test_two_uploads_that_each_fit_cannot_both_be_stored(v: Vault, alice: User) -> None:
    """Both pass the check made before their bytes; the commit re-checks under the lock."""
    admin.set_quota(v, "alice", 1000, "test")
    first, second = uploads.Upload(v, alice, "one"), uploads.Upload(v, alice, "two")
    with first, second:
        first.write(b"1" * 600)
        second.write(b"2" * 600)
        first.commit()
        with pytest.raises(OverQuota):
            second.commit()
    assert admin.usage(v, alice).bytes == 600


def test_concurrent_uploads_never_exceed_the_quota(v: Vault, alice: User, tmp_path: Path) -> None:
    size, fit = 4096, 3
    admin.set_quota(v, "alice", size * fit, "test")
    sources = []
    for i in range(8):
        src = tmp_path / f"src{i}"
        src.write_bytes(os.urandom(size))
        sources.append(src)
    start = threading.Barrier(len(sources))
    outcome: list[str] = []

    def upload(src: Path) -> None:
        start.wait()
        try:
            uploads.upload_path(v, alice, src)
            outcome.append("stored")
        except OverQuota:
            outcome.append("refused")

    threads = [threading.Thread(target=upload, args=(s,)) for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome) == ["refused"] * 5 + ["stored"] * 3
    assert admin.usage(v, alice).bytes == size * fit


def test_no_quota_means_no_limit(v: Vault, alice: User, tmp_path: Path) -> None:
    admin.set_quota(v, "alice", 10, "test")
    admin.set_quota(v, "alice", None, "test")
    upload_bytes(v, alice, tmp_path, "big", b"b" * 5000)
    assert admin.usage(v, alice).quota is None
