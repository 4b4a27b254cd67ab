"""The typed results of :mod:`slackbridge.client` (the API's own response models) and the
webhook body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from slackbridge.api.schemas import (
    Accepted,
    ErrorBody,
    InstallUrl,
    MessageMetadata,
    OperationStatus,
    Persona,
    SlackUser,
    Workspace,
    WorkspaceList,
)
from slackbridge.api.schemas_ops import Permalink, ViewResult

__all__ = [
    "Accepted",
    "ErrorBody",
    "InstallUrl",
    "MessageMetadata",
    "OperationStatus",
    "Permalink",
    "Persona",
    "SlackUser",
    "ViewResult",
    "WebhookEvent",
    "Workspace",
    "WorkspaceList",
]


class WebhookEvent(BaseModel):
    """A webhook body: ``{"type", "timestamp", "data"}`` (see docs/webhooks.md for each type)."""

    type: str
    timestamp: datetime
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def team_id(self) -> str | None:
        """The workspace the event is about."""
        workspace = self.data.get("workspace")
        return workspace.get("team_id") if isinstance(workspace, dict) else None

    @property
    def channel_id(self) -> str | None:
        channel = self.data.get("channel")
        return channel.get("id") if isinstance(channel, dict) else None
