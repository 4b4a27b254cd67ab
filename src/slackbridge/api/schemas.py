"""Request and response bodies of the product API (they make its OpenAPI document).

Requests reject unknown fields (a typo is a 422, not a silently ignored option). Ids are checked
against Slack's formats: workspaces ``T…``, channels ``C…``/``G…``/``D…`` (or a user ``U…``/``W…``
for a direct message), users ``U…``/``W…``, message timestamps ``1531420618.000200`` and
slackbridge's own operation ids ``msg_…``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Accepted",
    "AppId",
    "Attachments",
    "Blocks",
    "ChannelId",
    "ErrorBody",
    "ErrorResponse",
    "InstallUrl",
    "InstallUrlRequest",
    "MessageId",
    "MessageMetadata",
    "OperationStatus",
    "Persona",
    "RequestModel",
    "SlackUser",
    "TeamId",
    "Text",
    "Ts",
    "UserId",
    "Workspace",
    "WorkspaceList",
    "WorkspaceStatus",
]

TeamId = Annotated[
    str,
    Field(
        pattern=r"^[TE][A-Z0-9]{2,31}$",
        description="Slack workspace id (T…)",
        examples=["T0ACME0001"],
    ),
]
ChannelId = Annotated[
    str,
    Field(
        pattern=r"^[CDGUW][A-Z0-9]{2,31}$",
        description="conversation id (C…, G…, D…), or a user id (U…) for a direct message",
        examples=["C0ACME0SUP"],
    ),
]
UserId = Annotated[
    str,
    Field(pattern=r"^[UW][A-Z0-9]{2,31}$", description="Slack user id", examples=["U0ACME0002"]),
]
AppId = Annotated[str, Field(pattern=r"^A[A-Z0-9]{2,31}$", description="Slack app id (A…)")]
Ts = Annotated[
    str,
    Field(
        pattern=r"^\d{10}\.\d{6}$",
        description="a Slack message ts",
        examples=["1700000000.000100"],
    ),
]
MessageId = Annotated[
    str,
    Field(
        pattern=r"^msg_[A-Za-z0-9]{1,60}$",
        description="an id slackbridge gave an operation (msg_…)",
    ),
]
Blocks = Annotated[list[dict[str, Any]], Field(max_length=100, description="Block Kit blocks")]
Attachments = Annotated[list[dict[str, Any]], Field(max_length=100)]
Text = Annotated[str, Field(max_length=40_000)]

WorkspaceStatus = Literal["active", "disconnected", "uninstalled", "removed"]
OperationState = Literal["queued", "sending", "sent", "failed"]


def nul_at(value: Any) -> str | None:
    """Where in ``value`` (a JSON body) a string or a key holds a NUL character (``a.b.0``,
    ``""`` for ``value`` itself), or None. Iterative: a deep body must not exhaust the stack."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                shown = str(key).replace("\x00", "\\u0000")
                where = f"{path}.{shown}" if path else shown
                if isinstance(key, str) and "\x00" in key:
                    return where
                stack.append((child, where))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(item))
    return None


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are refused, and so is a NUL character in any
    string (PostgreSQL can't store one; Slack has no use for it)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        where = nul_at(data)
        if where is not None:
            raise ValueError(f"{where or 'the value'} holds a NUL character (\\u0000)")
        return data


class ErrorBody(BaseModel):
    code: str = Field(description="stable, machine-readable error code")
    message: str = Field(description="what went wrong, for people")
    details: list[dict[str, Any]] | None = Field(
        default=None, description="per-field problems (validation errors only)"
    )


class ErrorResponse(BaseModel):
    """Every error answer has this shape."""

    error: ErrorBody


class Persona(RequestModel):
    """Post under another name and icon (needs the ``chat:write.customize`` scope)."""

    username: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    icon_url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    icon_emoji: Annotated[str, Field(pattern=r"^:[a-z0-9_+'\-]{1,100}:$")] | None = None

    @model_validator(mode="after")
    def _one_icon(self) -> Persona:
        if self.icon_url and self.icon_emoji:
            raise ValueError("give icon_url or icon_emoji, not both")
        if not (self.username or self.icon_url or self.icon_emoji):
            raise ValueError("a persona needs a username or an icon")
        return self


class MessageMetadata(RequestModel):
    """Slack message metadata (``event_type`` + ``event_payload``)."""

    event_type: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,255}$")]
    event_payload: dict[str, Any] = Field(default_factory=dict)


# --- workspaces --------------------------------------------------------------------------------


class Workspace(BaseModel):
    """An installation of the app in a Slack workspace."""

    team_id: str | None
    team_name: str | None
    enterprise_id: str | None
    enterprise_name: str | None
    app_id: str | None = Field(description="the Slack app (A…) installed there")
    status: WorkspaceStatus
    bot_user_id: str | None
    installer_user_id: str | None
    product_ref: str | None = Field(description="the ref given when the install URL was made")
    scopes: list[str]
    missing_scopes: list[str] = Field(
        default_factory=list,
        description="scopes the app asks for that this workspace has not granted (reinstall)",
    )
    reinstall_url: str | None = Field(
        default=None, description="where an admin reinstalls the app to grant missing scopes"
    )
    reinstall_hint: str | None = Field(default=None, description="what is missing, in words")
    last_error: str | None
    installed_at: datetime
    updated_at: datetime


class WorkspaceList(BaseModel):
    workspaces: list[Workspace]


class InstallUrlRequest(RequestModel):
    product_ref: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None,
        description="your own reference (an account id…); it comes back on workspace.installed. "
        "A link with a ref is signed and expires: hand it only to that account's people",
    )
    app: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="the configured app's name, when several are configured"
    )
    team: TeamId | None = Field(
        default=None, description="preselect this workspace on Slack's consent page"
    )
    ttl_seconds: int | None = Field(
        default=None,
        ge=60,
        le=2_592_000,
        description="how long a link with a ref stays valid (default a day, at most 30 days)",
    )


class InstallUrl(BaseModel):
    url: str = Field(description="send the person here to start 'Add to Slack'")
    expires_at: datetime | None = Field(
        default=None, description="when the link stops working (links with a ref only)"
    )


# --- operations (the outbox) ---------------------------------------------------------------------


class OperationStatus(BaseModel):
    """Where an operation (a message post, update, upload, …) stands."""

    id: str = Field(description="the operation id (msg_…)")
    operation: str = Field(description="what was asked: chat.postMessage, files.upload, …")
    workspace: str
    channel: str | None
    thread_ts: str | None
    status: OperationState
    ts: str | None = Field(description="the Slack ts of the message, once sent")
    error: ErrorBody | None
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    result: dict[str, Any] = Field(
        default_factory=dict, description="what Slack answered that is worth keeping"
    )


class Accepted(OperationStatus):
    """The operation is stored and will be delivered; follow it at ``GET /messages/{id}``."""

    replayed: bool = Field(
        default=False, description="true when an earlier request with the same Idempotency-Key"
    )


# --- users ---------------------------------------------------------------------------------------


class SlackUser(BaseModel):
    id: str
    team_id: str
    name: str | None
    real_name: str | None
    display_name: str | None
    email: str | None
    is_bot: bool
    deleted: bool
    profile: dict[str, Any]
    fetched_at: datetime | None
