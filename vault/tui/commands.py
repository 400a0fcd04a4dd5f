"""The command palette: every action of the current screen, searchable by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class FileCommands(Provider):
    """Lists the screen's `ACTIONS` (action, title, help) and runs the chosen one."""

    def _actions(self) -> list[tuple[str, str, str]]:
        """The screen's actions that can run now (as its `check_action` says)."""
        actions = getattr(self.screen, "ACTIONS", [])
        return [a for a in actions if self.screen.check_action(a[0], ())]

    async def _run(self, action: str) -> None:
        await self.screen.run_action(action)

    async def discover(self) -> Hits:
        for action, title, help_text in self._actions():
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action, title, help_text in self._actions():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self._run, action), help=help_text
                )
