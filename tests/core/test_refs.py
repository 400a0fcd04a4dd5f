"""How commands name files and users: names, ids and `#ID`, and ids that are never reused."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import upload_bytes

from vault.core import Vault, files, users
from vault.core.errors import (
    AmbiguousFile,
    AmbiguousUser,
    NoSuchFile,
)
from vault.core.models import User


def test_a_name_of_digits_is_not_mistaken_for_an_id(v: Vault, alice: User, tmp_path: Path) -> None:
    thesis = upload_bytes(v, alice, tmp_path, "thesis.pdf", b"thesis")
    digits = upload_bytes(v, alice, tmp_path, str(thesis.id), b"a file named like an id")
    with pytest.raises(AmbiguousFile) as exc:
        files.delete(v, alice, str(thesis.id))
    assert "#ID" in str(exc.value)
    assert {e.name for e in files.list_files(v, alice).own} == {"thesis.pdf", digits.name}
    assert files.resolve(v, alice, f"#{thesis.id}").id == thesis.id
    assert files.resolve(v, alice, thesis.id).id == thesis.id
    assert files.resolve(v, alice, str(digits.id)).id == digits.id  # name and id agree


def test_a_username_of_digits_is_not_mistaken_for_an_id(v: Vault, alice: User, bob: User) -> None:
    named = users.register(v, str(bob.id), "password1")  # a user whose *name* is bob's id
    with pytest.raises(AmbiguousUser):
        users.find(v, str(bob.id))
    assert users.find(v, f"#{bob.id}") == bob
    assert users.find(v, bob.id) == bob
    assert users.find(v, f"#{named.id}") == named


def test_ids_are_never_reused(v: Vault, alice: User, bob: User, tmp_path: Path) -> None:
    old = upload_bytes(v, alice, tmp_path, "a.txt", b"a")
    files.delete(v, alice, old.id)
    new = upload_bytes(v, bob, tmp_path, "b.txt", b"b")
    assert new.id != old.id
    with pytest.raises(NoSuchFile):
        files.rename(v, alice, old.id, "x.txt")


@pytest.mark.parametrize("ref", ["9223372036854775808", "#9223372036854775808", "²", "#²", "-1"])
def test_refs_that_cannot_be_ids_are_just_names(v: Vault, alice: User, ref: str) -> None:
    with pytest.raises(NoSuchFile):
        files.resolve(v, alice, ref)
    from vault.core.errors import NoSuchUser

    with pytest.raises(NoSuchUser):
        users.find(v, ref)
