"""Owner-only share changes re-check the owner in the statement that writes (rule 10).

The check (`files.owned`) and the write are two steps; a file that changes hands between
them must not let its previous owner change its shares. The race itself is not reproducible
on demand, so the test makes it happen deterministically: the check passes, then the file
changes owner, then the statement runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vault.core import Vault, events, files, shares, uploads, users
from vault.core.models import User


@pytest.fixture
def handed_over(v: Vault, alice: User, bob: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """alice's file shared with bob; it passes to carol right after alice's ownership check."""
    src = tmp_path / "plan.txt"
    src.write_bytes(b"plan")
    entry = uploads.upload_path(v, alice, src)
    shares.share(v, alice, entry.id, "bob")
    carol = users.register(v, "carol", "carol-password")
    real_owned = files.owned

    def owned_then_handed_over(*args: object, **kwargs: object):
        checked = real_owned(*args, **kwargs)  # type: ignore[arg-type]
        v.db.execute("UPDATE files SET owner_id = ? WHERE id = ?", [carol.id, entry.id])
        return checked

    monkeypatch.setattr(files, "owned", owned_then_handed_over)
    return entry


def test_unshare_by_a_former_owner_changes_nothing(
    v: Vault, alice: User, bob: User, handed_over
) -> None:
    latest = events.latest_id(v.db)
    shares.unshare(v, alice, handed_over.id, "bob")
    rows = v.db.execute("SELECT user_id FROM shares WHERE file_id = ?", [handed_over.id])
    assert rows.fetchall() == [(bob.id,)]  # still shared: alice no longer owns it
    assert events.latest_id(v.db) == latest  # and no "unshare" event was recorded
