"""The client's part for declared commands: declaring them, and reading ``command.matched``.

::

    async with Slackbridge(url, api_key) as sb:
        await sb.commands.replace([
            CommandDeclaration(name="add", pattern="add {title:text} [due {due:date}]",
                               description="Add a task", examples=['add "Ship it" due friday']),
            CommandDeclaration(name="done", pattern="done {id:number}", examples=["done 3"]),
        ])

    event = parse_webhook(secret, headers, body)
    if (matched := CommandMatched.from_event(event)) is not None:
        if matched.command == "add":
            title, due = matched.arguments["title"], matched.arguments["due"]
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from slackbridge.api.commands import CommandDeclaration, CommandList, DeclaredCommand
from slackbridge.client_models import WebhookEvent

if TYPE_CHECKING:
    from slackbridge.client import Slackbridge

__all__ = ["CommandDeclaration", "CommandMatched", "Commands", "DeclaredCommand"]


class Commands:
    """``/commands``: the product's declared commands."""

    def __init__(self, client: Slackbridge) -> None:
        self._client = client

    async def list(self) -> builtins.list[DeclaredCommand]:
        """Every declared command (the configuration file's and the API's), in the order they
        are tried."""
        data = await self._client.request("GET", "/commands")
        return CommandList.model_validate(data).commands

    async def replace(
        self, commands: Sequence[CommandDeclaration | Mapping[str, Any]]
    ) -> builtins.list[DeclaredCommand]:
        """Replace the API's commands (raises ``InvalidRequestError`` with code
        ``invalid_command`` and ``details`` naming the bad field and column)."""
        body = {
            "commands": [
                c.model_dump(exclude_none=True) if isinstance(c, BaseModel) else dict(c)
                for c in commands
            ]
        }
        data = await self._client.request("PUT", "/commands", json=body)
        return CommandList.model_validate(data).commands


class CommandMatched(BaseModel):
    """The ``data`` of a ``command.matched`` webhook (docs/commands.md), typed."""

    command: str = Field(description="the declared command's name")
    arguments: dict[str, Any] = Field(description="typed arguments by name")
    text: str = Field(description="the command's text (after the slash command or mention)")
    source: Literal["slash", "mention", "dm"]
    slash_command: str | None = None
    team_id: str | None = None
    app_id: str | None = None
    channel_id: str | None = None
    channel_kind: str | None = None
    user_id: str | None = None
    user_email: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    edited: bool = False

    @classmethod
    def from_event(cls, event: WebhookEvent) -> CommandMatched | None:
        """The matched command of ``event``; None for any other webhook type."""
        if event.type != "command.matched":
            return None
        data = event.data
        workspace = data.get("workspace") or {}
        channel = data.get("channel") or {}
        user = data.get("user") or {}
        return cls(
            command=data["command"],
            arguments=dict(data.get("arguments") or {}),
            text=data.get("text") or "",
            source=data["source"],
            slash_command=data.get("slash_command"),
            team_id=workspace.get("team_id"),
            app_id=workspace.get("app_id"),
            channel_id=channel.get("id"),
            channel_kind=channel.get("kind"),
            user_id=user.get("id"),
            user_email=user.get("email"),
            ts=data.get("ts"),
            thread_ts=data.get("thread_ts"),
            response_url=data.get("response_url"),
            trigger_id=data.get("trigger_id"),
            edited=bool(data.get("edited")),
        )
