"""Request bodies of the operations: messages, files, views and command/action responses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from slackbridge.api.schemas import (
    AppId,
    Attachments,
    Blocks,
    ChannelId,
    MessageId,
    MessageMetadata,
    Persona,
    RequestModel,
    TeamId,
    Text,
    Ts,
    UserId,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_FILE_BYTES",
    "MAX_UPLOAD_BODY_BYTES",
    "DeleteMessageRequest",
    "EphemeralRequest",
    "FileUploadRequest",
    "MessageRef",
    "Permalink",
    "PermalinkRequest",
    "PostMessageRequest",
    "ResponseRequest",
    "UpdateMessageRequest",
    "ViewOpenRequest",
    "ViewPublishRequest",
    "ViewResult",
    "ViewUpdateRequest",
]

#: The largest upload the API takes (bytes); bigger files belong in a direct Slack upload.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: The largest request body of any route but uploads (bytes): far above what Slack accepts in a
#: message or a view, far below what could hurt the gateway.
MAX_BODY_BYTES = 1024 * 1024
#: The largest upload request body: the file base64-encoded in JSON, plus the other fields.
MAX_UPLOAD_BODY_BYTES = (MAX_FILE_BYTES * 4) // 3 + 64 * 1024

View = Annotated[dict[str, Any], Field(description="a Block Kit view (modal or home tab)")]
_APP_ID_HELP = "which app's installation to use, when several apps are installed in the workspace"


def _has_content(text: str | None, blocks: list[Any] | None, attachments: list[Any] | None) -> bool:
    return bool((text and text.strip()) or blocks or attachments)


class PostMessageRequest(RequestModel):
    """Post a message to a channel or a thread: as the app's bot, as a persona, or as a person
    who installed the app (``as_user``, with the user token they granted)."""

    workspace: TeamId
    app_id: AppId | None = Field(default=None, description=_APP_ID_HELP)
    channel: ChannelId
    text: Text | None = Field(default=None, description="the text, or the fallback for blocks")
    blocks: Blocks | None = None
    attachments: Attachments | None = None
    thread_ts: Ts | None = Field(default=None, description="reply in the thread of this ts")
    reply_to: MessageId | None = Field(
        default=None,
        description="reply in the thread of a message posted through this API (msg_…); "
        "usable before that message has reached Slack",
    )
    reply_broadcast: bool = Field(default=False, description="also show the reply in channel")
    persona: Persona | None = None
    as_user: UserId | None = Field(default=None, description="post as this person")
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    mrkdwn: bool | None = None
    metadata: MessageMetadata | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PostMessageRequest:
        if not _has_content(self.text, self.blocks, self.attachments):
            raise ValueError("give text, blocks or attachments")
        if self.thread_ts and self.reply_to:
            raise ValueError("give thread_ts or reply_to, not both")
        if self.reply_broadcast and not (self.thread_ts or self.reply_to):
            raise ValueError("reply_broadcast needs thread_ts or reply_to")
        if self.persona and self.as_user:
            raise ValueError("give persona or as_user, not both")
        return self


class MessageRef(RequestModel):
    """A message: ``message_id`` for one posted through this API, else workspace, channel, ts."""

    message_id: MessageId | None = None
    workspace: TeamId | None = None
    app_id: AppId | None = Field(default=None, description=_APP_ID_HELP)
    channel: ChannelId | None = None
    ts: Ts | None = None

    @model_validator(mode="after")
    def _addressed(self) -> MessageRef:
        if self.message_id is None and not (self.workspace and self.channel and self.ts):
            raise ValueError("give message_id, or workspace, channel and ts")
        if self.message_id is not None and (self.channel or self.ts):
            raise ValueError("give message_id or channel and ts, not both")
        return self


class UpdateMessageRequest(MessageRef):
    text: Text | None = None
    blocks: Blocks | None = None
    attachments: Attachments | None = None
    metadata: MessageMetadata | None = None
    as_user: UserId | None = Field(default=None, description="the person who posted it")

    @model_validator(mode="after")
    def _content(self) -> UpdateMessageRequest:
        if not _has_content(self.text, self.blocks, self.attachments):
            raise ValueError("give text, blocks or attachments")
        return self


class DeleteMessageRequest(MessageRef):
    as_user: UserId | None = Field(default=None, description="the person who posted it")


class PermalinkRequest(MessageRef):
    pass


class Permalink(BaseModel):
    permalink: str
    channel: str
    ts: str


class EphemeralRequest(RequestModel):
    """A message only ``user`` sees, in a channel they are in."""

    workspace: TeamId
    app_id: AppId | None = Field(default=None, description=_APP_ID_HELP)
    channel: ChannelId
    user: UserId
    text: Text | None = None
    blocks: Blocks | None = None
    attachments: Attachments | None = None
    thread_ts: Ts | None = None
    persona: Persona | None = None

    @model_validator(mode="after")
    def _content(self) -> EphemeralRequest:
        if not _has_content(self.text, self.blocks, self.attachments):
            raise ValueError("give text, blocks or attachments")
        return self


class FileUploadRequest(RequestModel):
    """Upload a file and share it into a channel or thread (JSON form; the content base64)."""

    workspace: TeamId
    app_id: AppId | None = Field(default=None, description=_APP_ID_HELP)
    channel: ChannelId | None = Field(
        default=None, description="share here (omitted: upload without sharing)"
    )
    thread_ts: Ts | None = None
    reply_to: MessageId | None = None
    filename: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^/\\\x00]+$")]
    title: Annotated[str, Field(max_length=255)] | None = None
    alt_text: Annotated[str, Field(max_length=1000)] | None = None
    initial_comment: Text | None = None
    snippet_type: Annotated[str, Field(pattern=r"^[a-z0-9_+\-]{1,40}$")] | None = None
    content_base64: Annotated[
        str,
        Field(
            max_length=(MAX_FILE_BYTES * 4) // 3 + 4,
            pattern=r"^[A-Za-z0-9+/]*={0,2}$",
            description="the file's bytes, base64",
        ),
    ]

    @model_validator(mode="after")
    def _threading(self) -> FileUploadRequest:
        if (self.thread_ts or self.reply_to) and not self.channel:
            raise ValueError("a thread needs a channel")
        if self.thread_ts and self.reply_to:
            raise ValueError("give thread_ts or reply_to, not both")
        return self


class ViewOpenRequest(RequestModel):
    """Open (or push) a modal; ``trigger_id`` comes from the command or action (valid 3 s)."""

    workspace: TeamId
    app_id: AppId | None = Field(default=None, description=_APP_ID_HELP)
    trigger_id: Annotated[str, Field(min_length=1, max_length=255)]
    view: View


class ViewUpdateRequest(RequestModel):
    workspace: TeamId
    app_id: AppId | None = Field(default=None, description=_APP_ID_HELP)
    view_id: Annotated[str, Field(pattern=r"^V[A-Z0-9]{2,31}$")] | None = None
    external_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    hash: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    view: View

    @model_validator(mode="after")
    def _one_id(self) -> ViewUpdateRequest:
        if (self.view_id is None) == (self.external_id is None):
            raise ValueError("give exactly one of view_id or external_id")
        return self


class ViewPublishRequest(RequestModel):
    """Publish a user's App Home tab."""

    workspace: TeamId
    app_id: AppId | None = Field(default=None, description=_APP_ID_HELP)
    user_id: UserId
    hash: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    view: View


class ViewResult(BaseModel):
    view: dict[str, Any] = Field(description="the view as Slack answered it (with its id)")


class ResponseRequest(RequestModel):
    """Answer a slash command or an interaction through its ``response_url``."""

    workspace: TeamId
    response_url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]
    text: Text | None = None
    blocks: Blocks | None = None
    attachments: Attachments | None = None
    response_type: Literal["in_channel", "ephemeral"] | None = None
    replace_original: bool | None = None
    delete_original: bool | None = None
    thread_ts: Ts | None = None

    @model_validator(mode="after")
    def _content(self) -> ResponseRequest:
        if not self.delete_original and not _has_content(self.text, self.blocks, self.attachments):
            raise ValueError("give text, blocks or attachments (or delete_original)")
        return self
