"""Arbitrary names through upload and download: refused cleanly, or stored and written back
under the same name inside the chosen folder, never elsewhere."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.core import Vault, downloads, files, uploads, users
from vault.core.errors import InvalidName, InvalidUsername, UsernameTaken
from vault.core.models import User

NAMES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["../x", "..", "/etc/passwd", "a/../../b", "x\x00y", "con", "-rf", " ", "~"]),
    st.text(alphabet="./\\ \x00\n\t~-é日", max_size=12),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=NAMES)
def test_any_name_is_refused_or_round_trips_inside_the_folder(
    v: Vault, alice: User, tmp_path: Path, name: str
) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"content")
    try:
        entry = uploads.upload_path(v, alice, src, name=name)
    except InvalidName:
        return
    with tempfile.TemporaryDirectory(dir=tmp_path) as out:
        written = downloads.download_to(v, alice, entry.id, out)
        assert written.parent == Path(out)
        assert os.listdir(out) == [entry.name]
        assert written.read_bytes() == b"content"
    assert files.resolve(v, alice, entry.name).id == entry.id
    files.delete(v, alice, entry.id)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(username=st.text(max_size=70))
def test_any_username_is_refused_or_registered_once(v: Vault, username: str) -> None:
    try:
        user = users.register(v, username, "password1")
    except InvalidUsername:
        return
    except UsernameTaken:
        assert users.find_by_name(v, username.lower()).username.lower() == username.lower()
        return
    assert users.find_by_name(v, username.upper()) == user
