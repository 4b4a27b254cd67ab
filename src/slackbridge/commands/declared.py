"""The declared command set: from slackbridge.toml and from the API, kept in the store.

Two sources, each a list in the store (``command_sets``): ``config`` is written from the
settings' ``[[commands]]`` when the gateway starts (a bad declaration stops the start with a
message naming it), ``api`` is replaced as a whole by ``PUT /api/v1/commands``. The set the
router uses is the configured commands, then the API's, in declaration order; a name is
declared by one source only (the API is refused a configured name). Read through a cache of a
couple of seconds, like the webhook endpoints: another process's change is seen that late.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slackbridge.commands.command import Command
from slackbridge.commands.declaration import CommandError, build_commands
from slackbridge.runtime import Gateway, Slot
from slackbridge.store.repositories.commands import CommandsRepository

__all__ = [
    "CommandConfigError",
    "DeclaredSet",
    "declared_commands",
    "declared_set",
    "on_startup",
    "replace_api_commands",
]

_log = logging.getLogger("slackbridge.commands")
_CACHE_SECONDS = 2.0


class CommandConfigError(ValueError):
    """The ``[[commands]]`` of the configuration can't be used; the message says which."""


@dataclass(frozen=True)
class DeclaredSet:
    """The commands of each source, as the router will use them."""

    config: tuple[Command, ...]
    api: tuple[Command, ...]

    @property
    def commands(self) -> list[Command]:
        return [*self.config, *self.api]


class _Cached:
    """The last read of both sources, and when (one per runtime)."""

    def __init__(self, gateway: Gateway) -> None:
        self.read: tuple[float, DeclaredSet] | None = None


_CACHE: Slot[_Cached] = Slot("declared commands", _Cached)


def _repo(gateway: Gateway) -> CommandsRepository:
    return CommandsRepository(gateway.db, gateway.keyring)


def _built(stored: Sequence[Mapping[str, Any]], source: str) -> tuple[Command, ...]:
    try:
        return tuple(build_commands(stored))
    except CommandError as exc:
        # Stored by an older version with other rules: keep routing the rest.
        _log.error("the stored %s commands can't be used (%s); ignoring them", source, exc)
        return ()


async def declared_set(gateway: Gateway) -> DeclaredSet:
    """Both sources' commands (read from a short-lived cache)."""
    cached = _CACHE.of(gateway).read
    now = time.monotonic()
    if cached is not None and now - cached[0] <= _CACHE_SECONDS:
        return cached[1]
    stored = await _repo(gateway).all()
    config = _built(stored.get("config", []), "config")
    names = {c.name for c in config}
    api = tuple(c for c in _built(stored.get("api", []), "api") if c.name not in names)
    found = DeclaredSet(config, api)
    _CACHE.of(gateway).read = (now, found)
    return found


async def declared_commands(gateway: Gateway) -> list[Command]:
    """The commands the router tries, in order."""
    return (await declared_set(gateway)).commands


async def replace_api_commands(
    gateway: Gateway, declarations: Sequence[Mapping[str, Any]]
) -> DeclaredSet:
    """Replace the API's commands with ``declarations``; raises
    :class:`~slackbridge.commands.declaration.CommandError` for a bad one (nothing stored)."""
    commands = build_commands(declarations)
    current = await declared_set(gateway)
    configured = {c.name for c in current.config}
    for index, command in enumerate(commands):
        if command.name in configured:
            raise CommandError(
                f"commands[{index}].name",
                f"{command.name!r} is declared in the configuration file; pick another name",
            )
    await _repo(gateway).replace("api", [c.declaration() for c in commands])
    _CACHE.of(gateway).read = None
    return await declared_set(gateway)


async def on_startup(gateway: Gateway) -> None:
    """Gateway part hook: write the configured commands to the store."""
    declared = [c.model_dump() for c in gateway.settings.commands]
    try:
        commands = build_commands(declared)
    except CommandError as exc:
        raise CommandConfigError(
            f"[[commands]] in the configuration: {exc}; see docs/commands.md"
        ) from None
    await _repo(gateway).replace("config", [c.declaration() for c in commands])
    _CACHE.of(gateway).read = None
