"""The audit log: every state change is one row (who, what, which file, whom, when)."""

from __future__ import annotations

from sqlite_utils import Database

from vault.core import clock
from vault.core.models import Event, User


def record(
    db: Database,
    actor_id: int | None,
    action: str,
    *,
    file_id: int | None = None,
    file_name: str | None = None,
    owner_id: int | None = None,
    target_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Append an event; call inside the transaction that makes the change it describes."""
    db.execute(
        "INSERT INTO events (at, actor_id, action, file_id, file_name, owner_id, target_id, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [clock.iso(), actor_id, action, file_id, file_name, owner_id, target_id, detail],
    )


def recent(db: Database, user: User, limit: int = 50) -> list[Event]:
    """Events a user should see: their own acts, acts on their files, and acts aimed at them."""
    rows = db.execute(
        """
        SELECT e.id, e.at, a.username, e.action, e.file_id, e.file_name, t.username, e.detail
        FROM events e
        LEFT JOIN users a ON a.id = e.actor_id
        LEFT JOIN users t ON t.id = e.target_id
        WHERE e.id IN (
            SELECT id FROM events WHERE actor_id = :u
            UNION SELECT id FROM events WHERE owner_id = :u
            UNION SELECT id FROM events WHERE target_id = :u
        )
        ORDER BY e.id DESC LIMIT :limit
        """,
        {"u": user.id, "limit": limit},
    ).fetchall()
    return [Event(*row) for row in rows]


def latest_id(db: Database) -> int:
    """The newest event's id: every change writes an event, so a cheap "anything new?" test."""
    row = db.execute("SELECT max(id) FROM events").fetchone()
    return int(row[0] or 0)
