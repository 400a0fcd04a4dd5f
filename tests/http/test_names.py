"""Names crossing the HTTP boundary, over arbitrary text (hypothesis).

Downloads: clients save under `filename*` or, if they do not read it, under the ASCII
`filename` fallback of Content-Disposition. Reducing a name to ASCII can make path characters
appear (`／` is `/` after NFKD, `．．` is `..`), so both forms must be one harmless path
component whatever the name. Uploads: a multipart filename may be a path (RFC 7578 4.2);
its components never climb out of where they land.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from vault.core.errors import InvalidName
from vault.core.names import clean_filename, client_path
from vault.http.downloads import content_disposition

HEADER = re.compile(
    r'attachment; filename="(?P<fallback>[^"\\]*)"'
    r"(?:; filename\*=UTF-8''(?P<full>[A-Za-z0-9%._~-]*))?"
)
TRICKY = st.sampled_from(
    [
        "..／..／x／pwned.sh",
        "．．",
        "．",
        "／etc／passwd",
        "a＼b",
        "..",
        ".",
        "",
        "C:\\x",
        "a/b",
        "x\x00y",
        "line\nbreak",
        "\u2024\u2024",
        '"quoted";%.txt',
        "猫",
        "猫.txt",
    ]
)
NAMES = st.one_of(
    TRICKY,
    st.text(max_size=40),
    st.text(alphabet='／＼．.\\/\x00\x7f\n a猫é"%;', max_size=12),
)


def harmless(component: str) -> bool:
    """One path component that no client can turn into a path elsewhere."""
    return (
        component not in ("", ".", "..")
        and not any(c in "/\\" for c in component)
        and not any(unicodedata.category(c) in ("Cc", "Cs") for c in component)
    )


def forms(name: str) -> tuple[str, str | None]:
    header = content_disposition(name)
    assert header.isascii()
    m = HEADER.fullmatch(header)
    assert m, header
    full = m["full"]
    return m["fallback"], None if full is None else unquote(full, errors="strict")


def test_full_width_slashes_do_not_become_a_path() -> None:
    fallback, full = forms("..／..／x／pwned.sh")
    assert "/" not in fallback and harmless(fallback)
    assert full == "..／..／x／pwned.sh"


@settings(max_examples=400, deadline=None)
@given(name=NAMES)
def test_both_forms_are_one_harmless_component(name: str) -> None:
    fallback, full = forms(name)
    assert harmless(fallback)
    if full is not None:
        assert harmless(full)
    try:
        valid = clean_filename(name) == name
    except InvalidName:
        valid = False
    if valid:  # a stored name: the full form is exactly it, or the plain fallback is
        assert (full if full is not None else fallback) == name


@settings(max_examples=400, deadline=None)
@given(sent=NAMES)
def test_a_client_path_never_climbs_out(sent: str) -> None:
    try:
        parts = client_path(sent)
    except InvalidName as e:
        assert "\n" not in e.message
        return
    assert parts and all(p not in ("", ".", "..") and not set(p) & set("/\\") for p in parts)
    components = sent.replace("\\", "/").split("/")
    assert parts[-1] == components[-1]  # the name is the last component, always
    if ".." not in components:  # nothing else is dropped but empty and `.` components
        assert list(parts) == [p for p in components if p not in ("", ".")]
