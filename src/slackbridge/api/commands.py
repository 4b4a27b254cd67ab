"""``/commands``: the product's declared commands (docs/commands.md).

``PUT`` replaces the API's set as a whole (the commands of slackbridge.toml stay; their names
can't be reused); a declaration that can't be used answers 422 ``invalid_command`` with a
``details`` entry naming the field (``commands[1].pattern``) and, for a pattern or an example,
the column of the bad part. ``GET`` lists every declared command with where it came from.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from slackbridge.api.auth import AdminCaller, ReadCaller
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas import RequestModel
from slackbridge.commands.declaration import CommandError
from slackbridge.commands.declared import DeclaredSet, declared_set, replace_api_commands
from slackbridge.runtime import gateway_of

__all__ = ["CommandDeclaration", "CommandList", "CommandSet", "DeclaredCommand", "router"]

router = APIRouter(prefix="/commands", tags=["commands"])

SourceName = Literal["slash", "mention", "dm"]


class CommandDeclaration(RequestModel):
    """One command: a name (sent back in ``command.matched``), a pattern, and its help."""

    name: str = Field(description="a-z first, then a-z, 0-9, _ . - (at most 64)", max_length=64)
    pattern: str = Field(
        description="e.g. `add {title:text} [due {due:date}]` (docs/commands.md)", max_length=1000
    )
    description: str = Field("", max_length=500, description="one line for the help answer")
    examples: list[str] = Field(
        default_factory=list, max_length=10, description="each must match the pattern"
    )
    slash: str | None = Field(
        None, description="the slash command whose text this command reads, e.g. `/tasks`"
    )
    via: list[SourceName] | None = Field(
        None,
        description="where it can be run from (default: `slash` when `slash` is set, "
        "else `mention` and `dm`)",
    )


class CommandSet(RequestModel):
    """The API's whole set of commands (replaces the previous one)."""

    commands: list[CommandDeclaration] = Field(max_length=200)


class DeclaredCommand(BaseModel):
    """A declared command, as the router uses it."""

    name: str
    pattern: str
    description: str
    examples: list[str]
    slash: str | None
    via: list[SourceName]
    source: Literal["config", "api"] = Field(
        description="`config`: slackbridge.toml (read-only here); `api`: PUT /commands"
    )


class CommandList(BaseModel):
    """Every declared command, in the order they are tried (configured ones first)."""

    commands: list[DeclaredCommand]


def _listed(found: DeclaredSet) -> CommandList:
    return CommandList(
        commands=[
            DeclaredCommand(**c.declaration(), source=source)
            for source, commands in (("config", found.config), ("api", found.api))
            for c in commands
        ]
    )


@router.get("", summary="List declared commands", responses=error_responses())
async def list_commands(request: Request, _caller: ReadCaller) -> CommandList:
    """The commands of slackbridge.toml and of the API, in the order they are tried."""
    return _listed(await declared_set(gateway_of(request)))


@router.put(
    "", summary="Replace the declared commands", responses=error_responses("invalid_command")
)
async def replace_commands(body: CommandSet, request: Request, _caller: AdminCaller) -> CommandList:
    """Replace the API's commands with ``commands`` (an empty list removes them all)."""
    declarations = [c.model_dump() for c in body.commands]
    try:
        found = await replace_api_commands(gateway_of(request), declarations)
    except CommandError as exc:
        detail: dict[str, object] = {"field": exc.location, "message": exc.message}
        if exc.position is not None:
            detail["column"] = exc.position + 1
        raise ApiError("invalid_command", str(exc), details=[detail]) from None
    return _listed(found)
