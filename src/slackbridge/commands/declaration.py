"""Declarations → commands: a declared set checked and turned into :class:`Command` values.

Declarations come from slackbridge.toml (``[[commands]]``) or the API (``PUT /commands``) as
plain mappings; :func:`build_commands` checks a whole set, or raises :class:`CommandError`
naming the command, the field and (for a pattern or an example) the column of the bad part.
Every example must match its own command, so the help answer never shows one that fails. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from slackbridge.commands.command import SOURCES, Command, Source
from slackbridge.commands.match import match_command
from slackbridge.commands.pattern import PatternError, parse_pattern

__all__ = ["CommandError", "build_command", "build_commands"]

_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,63}\Z")
_SLASH = re.compile(r"/[a-z0-9][a-z0-9_.-]{0,31}\Z")
_MAX_COMMANDS = 200


class CommandError(ValueError):
    """A declaration that can't be used. ``location`` names the bad field (``commands[2].
    pattern``); ``position`` is the column in a pattern or example, when that is the problem."""

    def __init__(self, location: str, message: str, position: int | None = None) -> None:
        self.location = location
        self.message = message
        self.position = position
        where = f" (at column {position + 1})" if position is not None else ""
        super().__init__(f"{location}: {message}{where}")


def _via(location: str, value: Any, slash: str | None) -> frozenset[Source]:
    if value is None:
        return frozenset({"slash"} if slash else {"mention", "dm"})
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise CommandError(location, 'must be a non-empty list of "slash", "mention", "dm"')
    found: set[Source] = set()
    for entry in value:
        if entry not in SOURCES:
            raise CommandError(location, f'{entry!r} is not one of "slash", "mention", "dm"')
        found.add(entry)
    if "slash" in found and not slash:
        raise CommandError(location, '"slash" needs the command\'s `slash` (e.g. "/tasks")')
    return frozenset(found)


def build_command(declared: Mapping[str, Any], location: str = "command") -> Command:
    """One declaration (``name``, ``pattern``, optional ``description``, ``examples``,
    ``slash``, ``via``) as a :class:`Command`; examples must match the pattern."""
    name = declared.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise CommandError(
            f"{location}.name",
            "must be 1-64 characters: a lower-case letter, then letters, digits, _ . or -",
        )
    source = declared.get("pattern")
    if not isinstance(source, str):
        raise CommandError(f"{location}.pattern", "is required (a string)")
    try:
        pattern = parse_pattern(source)
    except PatternError as exc:
        raise CommandError(f"{location}.pattern", exc.message, exc.position) from None
    slash = declared.get("slash")
    if slash is not None and (not isinstance(slash, str) or not _SLASH.match(slash.lower())):
        raise CommandError(f"{location}.slash", 'must be a slash command such as "/tasks"')
    slash = slash.lower() if isinstance(slash, str) else None
    via = _via(f"{location}.via", declared.get("via"), slash)
    description = declared.get("description") or ""
    if not isinstance(description, str):
        raise CommandError(f"{location}.description", "must be a string")
    examples = declared.get("examples") or []
    if isinstance(examples, str) or not isinstance(examples, Sequence):
        raise CommandError(f"{location}.examples", "must be a list of strings")
    command = Command(name, pattern, description.strip(), tuple(examples), slash, via)
    for index, example in enumerate(command.examples):
        where = f"{location}.examples[{index}]"
        if not isinstance(example, str):
            raise CommandError(where, "must be a string")
        problem = match_command(command, example)
        if problem is not None:
            raise CommandError(where, f"doesn't match the pattern: {problem.reason}", problem.at)
    return command


def build_commands(declared: Sequence[Mapping[str, Any]]) -> list[Command]:
    """A whole declared set, checked: each command valid, names unique."""
    if len(declared) > _MAX_COMMANDS:
        raise CommandError("commands", f"at most {_MAX_COMMANDS} commands may be declared")
    commands: list[Command] = []
    seen: set[str] = set()
    for index, entry in enumerate(declared):
        location = f"commands[{index}]"
        if not isinstance(entry, Mapping):
            raise CommandError(location, "must be an object with name and pattern")
        command = build_command(entry, location)
        if command.name in seen:
            raise CommandError(f"{location}.name", f"{command.name!r} is declared twice")
        seen.add(command.name)
        commands.append(command)
    return commands
