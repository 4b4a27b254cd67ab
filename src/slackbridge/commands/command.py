"""A declared command: a name, a pattern, where it can be run from, a description and examples.

:mod:`slackbridge.commands.declaration` builds them from what the product declared. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from slackbridge.commands.pattern import Pattern

__all__ = ["SOURCES", "Command", "Source"]

Source = Literal["slash", "mention", "dm"]
#: Where a command can be run from: a slash command's text, an @mention of the bot, a DM to it.
SOURCES: tuple[Source, ...] = ("slash", "mention", "dm")


@dataclass(frozen=True, slots=True)
class Command:
    """One declared command, ready to match."""

    name: str
    pattern: Pattern
    description: str = ""
    examples: tuple[str, ...] = ()
    slash: str | None = None  # the slash command whose text it answers (``/tasks``)
    via: frozenset[Source] = frozenset({"mention", "dm"})

    def answers(self, source: Source, slash: str | None = None) -> bool:
        """Whether this command is tried for a message from ``source`` (and that slash
        command)."""
        if source not in self.via:
            return False
        return source != "slash" or (slash or "").lower() == self.slash

    def declaration(self) -> dict[str, Any]:
        """The command as declared (what ``GET /commands`` shows and the store keeps)."""
        return {
            "name": self.name,
            "pattern": self.pattern.source,
            "description": self.description,
            "examples": list(self.examples),
            "slash": self.slash,
            "via": [s for s in SOURCES if s in self.via],
        }
