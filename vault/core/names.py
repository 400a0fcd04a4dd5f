"""What a valid file name and a valid username are: the one place these rules live."""

from __future__ import annotations

import os
import re
import unicodedata

from vault.core.errors import InvalidName, InvalidUsername

MAX_NAME_BYTES = 255
"""Most filesystems cap a name at 255 bytes; a longer one could never be downloaded."""

USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def clean_filename(name: str) -> str:
    """Return `name` in NFC form, or raise InvalidName saying which rule it broke.

    A vault name must be usable as a file name on download, so it is one path component:
    no `/`, no NUL, no control characters, not `.` or `..`, at most 255 UTF-8 bytes.
    Spaces and any printable unicode are fine. Nothing is silently rewritten except
    unicode normalisation, so `café` typed two ways is one name.
    """
    if not isinstance(name, str):
        raise InvalidName("A file name must be text")
    name = unicodedata.normalize("NFC", name)
    if not name:
        raise InvalidName("A file name cannot be empty")
    if name.strip() != name:
        raise InvalidName("A file name cannot start or end with white space")
    if name in (".", ".."):
        raise InvalidName(f"{name!r} is not a file name")
    if "/" in name or "\\" in name:
        raise InvalidName("A file name cannot contain '/' or '\\'; give the name alone")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise InvalidName("A file name cannot contain control characters (tab, newline, NUL…)")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidName(f"A file name can be at most {MAX_NAME_BYTES} bytes of UTF-8")
    return name


def client_path(sent: str) -> tuple[str, ...]:
    """The components of a path a client sent for a file, none of which can climb out.

    RFC 7578 section 4.2: a multipart `filename` may carry a path, and a receiver keeps its
    last component, whatever the separator (`/`, or `\\` from Windows: the name of
    `C:\\Users\\han\\win.png` is `win.png`). Uploads of folders (not built yet) send relative
    paths whose leading components are folders to recreate under the target, so all the
    components are returned, made safe for that: empty and `.` ones dropped, `..` removing
    the one before it but never climbing above the start (`../../etc/passwd` gives
    `("etc", "passwd")`). Each component must still pass clean_filename where it is used.
    A path whose last component names no file (`../`, `dir/`, `a/..`) is InvalidName.
    """
    *folders, name = re.split(r"[/\\]", sent)
    if name in ("", ".", ".."):
        shown = printable(sent)
        raise InvalidName(f"{shown!r} has no file name in it once its folders are set aside")
    parts: list[str] = []
    for part in folders:
        if part == "..":
            del parts[-1:]
        elif part not in ("", "."):
            parts.append(part)
    return (*parts, name)


def safe_component(text: str, fallback: str = "download") -> str:
    """`text` as one harmless path component, for a name handed to programs that save it.

    Path separators (`/`, `\\`), NUL and other control characters become `_`; nothing left,
    `.` or `..` becomes `fallback`. A name clean_filename accepts comes back unchanged, so
    this changes only names derived from a stored one (say, reduced to ASCII), where
    characters can appear that the stored name did not have (`／` is `/` after NFKD).
    """
    out = "".join(
        "_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text
    )
    return fallback if out in ("", ".", "..") else out


def sort_key(name: str) -> tuple[str, str]:
    """How every front end orders names: ignoring case (`casefold`), then by code point.

    People expect `apple`, `Banana`, `cherry`; the code-point tie-break keeps `a` and `A`
    in a fixed order.
    """
    return name.casefold(), name


def clean_username(username: str) -> str:
    """Return the username unchanged if it is 1-64 of letters, digits, `.`, `_`, `-`."""
    if not isinstance(username, str) or not USERNAME_RE.fullmatch(username):
        raise InvalidUsername("A username is 1 to 64 characters: letters, digits, '.', '_' or '-'")
    return username


def printable(text: object) -> str:
    """`text` (a path, a name) with control characters escaped, safe inside a one-line message.

    A local path may hold a newline or a terminal escape sequence; errors must stay one line
    and must not drive the terminal.
    """
    raw = os.fsdecode(text) if isinstance(text, (bytes, os.PathLike)) else str(text)
    return "".join(
        ch if unicodedata.category(ch) not in ("Cc", "Cs") else ascii(ch)[1:-1] for ch in raw
    )


MAX_ID = 2**63 - 1
"""SQLite's largest integer: a longer run of digits cannot be an id."""


def parse_id(text: str) -> int | None:
    """`text` as an id if it is ASCII digits within SQLite's range, else None.

    (`str.isdigit` also accepts `²` and other digits `int` refuses or SQLite cannot hold.)
    """
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ID else None
