"""Live updates: the client operation the files screen waits on, in both modes.

The daemon answers a waiting `wait_for_change` when a write commits (no polling), so each
wait here is given far longer than the test's deadline: only that wake can end it in time.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tui.tui_support import DEADLINE

from vault.client import VaultClient
from vault.core.errors import NotLoggedIn
from vault.core.models import User


def start_waiting(client: VaultClient, after: int) -> tuple[threading.Thread, list[int]]:
    """A thread waiting far longer than DEADLINE for a change past `after`; its answer."""
    answers: list[int] = []
    waiter = threading.Thread(
        target=lambda: answers.append(client.wait_for_change(after, 10 * DEADLINE)),
        daemon=True,
    )
    waiter.start()
    return waiter, answers


def test_a_wait_ends_when_another_client_writes(
    client: VaultClient, other_client: VaultClient, alice_session: User, tmp_path: Path
) -> None:
    for n in range(3):  # the write lands while the wait is under way, most rounds
        after = client.latest_event_id()
        waiter, answers = start_waiting(client, after)
        src = tmp_path / f"new-{n}.txt"
        src.write_bytes(b"new")
        other_client.upload(src)  # `vault upload` in another terminal
        waiter.join(DEADLINE)
        assert not waiter.is_alive(), "the wait did not end when the upload committed"
        assert answers[0] > after


def test_a_wait_with_nothing_new_ends_at_its_timeout(
    client: VaultClient, alice_session: User
) -> None:
    latest = client.latest_event_id()
    assert client.wait_for_change(latest, 0.05) == latest
    assert client.wait_for_change(latest - 1, 10 * DEADLINE) == latest  # already passed


def test_a_wait_needs_a_session(client: VaultClient) -> None:
    with pytest.raises(NotLoggedIn):
        client.wait_for_change(0, 10 * DEADLINE)
