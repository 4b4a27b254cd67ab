"""A message against the whole declared set: the command it runs, or what to tell the person.

Commands are tried in the order they were declared; the first that fits wins. When none fits
the message is one of three things: a request for help (``help``, ``help add``, ``?``, or
nothing at all after the mention or slash command), a malformed command (its first word is a
command's keyword, or some command starts with an argument, but the rest doesn't fit: the help
answer says why and shows that command),
or an unknown command (the help answer lists the commands, with "did you mean" for a near
miss). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from slackbridge.commands.command import Command, Source
from slackbridge.commands.match import Failure, Parsed, match_pattern
from slackbridge.commands.suggest import near_misses
from slackbridge.commands.tokens import TokenizeError, tokenize

__all__ = ["HELP_WORDS", "Matched", "Unmatched", "choose"]

#: Words that ask for help when no declared command takes them.
HELP_WORDS = frozenset({"help", "?", "commands"})


@dataclass(frozen=True, slots=True)
class Matched:
    """``command`` fits, with these typed ``arguments``."""

    command: Command
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Unmatched:
    """No command fits: what the help answer needs.

    ``available`` are the commands that can be run from where the message came from;
    ``topic`` those the message was about (``help add``, or ``add`` typed wrongly);
    ``problem`` why a malformed command doesn't fit; ``suggestions`` the keywords of near
    misses."""

    kind: Literal["help", "malformed", "unknown"]
    available: tuple[Command, ...]
    topic: tuple[Command, ...] = ()
    problem: str | None = None
    suggestions: tuple[str, ...] = ()


def _words(text: str) -> list[str]:
    try:
        return [t.value.lower() for t in tokenize(text)]
    except TokenizeError:
        return text.lower().split()


def choose(
    commands: Sequence[Command],
    text: str,
    source: Source,
    slash: str | None = None,
    today: date | None = None,
) -> Matched | Unmatched | None:
    """What ``text`` (from ``source``; for a slash command, its text) means; None when no
    declared command can be run from there (the message is then none of the router's business)."""
    available = tuple(c for c in commands if c.answers(source, slash))
    if not available:
        return None
    failures: dict[str, Failure] = {}
    for command in available:
        found = match_pattern(command.pattern, text, today)
        if isinstance(found, Parsed):
            return Matched(command, found.arguments)
        failures[command.name] = found
    words = _words(text)
    first = words[0] if words else ""
    if not words or first in HELP_WORDS:
        about = words[1] if len(words) > 1 else None
        topic = tuple(c for c in available if about and about in (c.name, c.pattern.keyword))
        return Unmatched("help", available, topic)
    same = tuple(c for c in available if c.pattern.keyword == first)
    if not same:
        # Commands that start with an argument (``/call {who:user}...``): any text is theirs.
        same = tuple(c for c in available if c.pattern.keyword is None)
    if same:
        best = max(same, key=lambda c: failures[c.name].progress)
        return Unmatched("malformed", available, same, failures[best.name].reason)
    keywords = [c.pattern.keyword for c in available if c.pattern.keyword]
    suggestions = tuple(near_misses(first, keywords))
    topic = tuple(c for c in available if c.pattern.keyword in suggestions)
    return Unmatched("unknown", available, topic, None, suggestions)
