"""App-wide messages: screens post them, the app reacts (messages up, attributes down)."""

from __future__ import annotations

from textual.message import Message

from vault.core.models import User


class LoggedIn(Message):
    """A session was opened (login, registration) or restored from the token file."""

    def __init__(self, user: User) -> None:
        super().__init__()
        self.user = user
        """Who is now logged in (the client keeps the session)."""


class LoggedOut(Message):
    """The session ended: the user logged out, or it expired or was revoked elsewhere."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__()
        self.reason = reason
        """Why, when it was not the user's own choice (shown as a notification)."""
