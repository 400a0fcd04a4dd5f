"""The naming rules, with examples and with arbitrary input (hypothesis)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.core.errors import InvalidName, InvalidUsername
from vault.core.names import MAX_NAME_BYTES, clean_filename, clean_username


@pytest.mark.parametrize(
    "name",
    ["Cat03.jpg", "my file.txt", "été.pdf", "日本語", ".bashrc", "a" * 255, "x..y", "é" * 127],
)
def test_good_names_are_kept(name: str) -> None:
    assert clean_filename(name) == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../etc/passwd", "a/b", "/abs", "a\\b", "nul\x00", "tab\tname", "new\nline",
     " lead", "trail ", "a" * 256, "é" * 128, "\x7f", "bell\x07"],
)  # fmt: skip
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        clean_filename(name)


def test_names_are_nfc_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "café.txt")
    assert decomposed != "café.txt"
    assert clean_filename(decomposed) == "café.txt"


@given(st.text(max_size=300))
def test_any_accepted_name_is_one_safe_path_component(name: str) -> None:
    try:
        cleaned = clean_filename(name)
    except InvalidName as e:
        assert str(e)  # every refusal says why
        return
    assert "/" not in cleaned and "\x00" not in cleaned and "\\" not in cleaned
    assert cleaned not in ("", ".", "..")
    assert len(cleaned.encode()) <= MAX_NAME_BYTES
    assert not any(unicodedata.category(c) == "Cc" for c in cleaned)
    assert clean_filename(cleaned) == cleaned  # idempotent


@pytest.mark.parametrize("username", ["han", "han1", "a", "A.b_c-d", "x" * 64, "123"])
def test_good_usernames(username: str) -> None:
    assert clean_username(username) == username


@pytest.mark.parametrize(
    "username", ["", "x" * 65, "han solo", "hän", "a/b", "a'; DROP TABLE users;--", "a\x00"]
)
def test_bad_usernames(username: str) -> None:
    with pytest.raises(InvalidUsername):
        clean_username(username)


@given(st.text(max_size=80))
def test_any_accepted_username_matches_the_rule(username: str) -> None:
    try:
        clean_username(username)
    except InvalidUsername:
        return
    assert 1 <= len(username) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in username)
