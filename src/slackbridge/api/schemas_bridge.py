"""Request and response bodies of the conversation bridge's API (docs/bridge.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from slackbridge.api.schemas import Blocks, ChannelId, RequestModel, TeamId, Text, Ts, UserId
from slackbridge.api.schemas_ops import MAX_FILE_BYTES

__all__ = [
    "Adopt",
    "Author",
    "BridgeMessage",
    "Card",
    "CloseRequest",
    "Conversation",
    "ConversationKey",
    "ConversationList",
    "ConversationPut",
    "EditMessageRequest",
    "MessageFile",
    "PersonaSpec",
    "PostBridgeMessage",
    "ProductMessageId",
    "ReactionName",
    "ReactionRequest",
    "ReopenRequest",
    "UserLink",
    "UserLinkPut",
    "WatchedChannel",
    "WatchedChannelList",
    "WatchedChannelPut",
    "not_a_dot_segment",
]


def not_a_dot_segment(value: str) -> str:
    """``.`` and ``..`` can't be path segments: HTTP clients resolve them away."""
    if value in (".", ".."):
        raise ValueError(f"{value!r} can't be an id: clients resolve it away in a URL path")
    return value


ConversationKey = Annotated[
    str,
    AfterValidator(not_a_dot_segment),
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x2e\x30-\x7e](?:[\x20-\x2e\x30-\x7e]*[\x21-\x2e\x30-\x7e])?$",
        description="the product's own id of the conversation (1-200 printable characters, no /)",
        examples=["ticket-1042"],
    ),
]
ProductMessageId = Annotated[
    str,
    AfterValidator(not_a_dot_segment),
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x2e\x30-\x7e](?:[\x20-\x2e\x30-\x7e]*[\x21-\x2e\x30-\x7e])?$",
        description="the product's own id of the message (unique within its conversation)",
    ),
]
ReactionName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9_+'\-]{1,100}(::skin-tone-[2-6])?$",
        description="an emoji name, no colons",
    ),
]
#: How deep the product's ``metadata`` may nest (it is stored and answered back as given).
METADATA_MAX_DEPTH = 32
#: How large the product's ``metadata`` may be, as JSON.
METADATA_MAX_BYTES = 16_384


def _depth(value: Any) -> int:
    """How deep ``value`` nests (iteratively: a deep value must not exhaust the stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > METADATA_MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def _bounded_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if _depth(value) > METADATA_MAX_DEPTH:
        raise ValueError(f"metadata nests deeper than {METADATA_MAX_DEPTH} levels")
    if len(json.dumps(value, ensure_ascii=False).encode()) > METADATA_MAX_BYTES:
        raise ValueError(f"metadata is larger than {METADATA_MAX_BYTES} bytes as JSON")
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(_bounded_metadata)]
Mode = Literal["still", "noisy"]
ConversationState = Literal["creating", "open", "closed", "failed"]
MessageState = Literal["queued", "sent", "failed"]


class Card(RequestModel):
    """Still mode: the thread's root message in the channel."""

    text: Text = Field(description="the card's text (the fallback when blocks are given)")
    blocks: Blocks | None = None


class Adopt(RequestModel):
    """A conversation Slack opened (``conversation.opened``), taken under the product's key."""

    channel: ChannelId
    thread_ts: Ts | None = Field(default=None, description="still: the thread; noisy: omitted")


class ConversationPut(RequestModel):
    """Create the conversation, or get it when it exists (idempotent)."""

    workspace: TeamId
    mode: Mode = "still"
    channel: ChannelId | None = Field(
        default=None, description="still: the channel the thread lives in"
    )
    card: Card | None = Field(default=None, description="still: the root message")
    channel_name: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None,
        description='noisy: the channel name template, "{key}" and "{n}" placeholders '
        '(default "conv-{n}")',
    )
    invite: Annotated[list[UserId], Field(max_length=1000)] | None = Field(
        default=None, description="noisy: users to invite"
    )
    private: bool = Field(default=False, description="noisy: a private channel")
    title: Annotated[str, Field(max_length=1000)] | None = None
    metadata: Metadata | None = Field(
        default=None,
        description=f"yours, answered back as given (at most {METADATA_MAX_DEPTH} levels deep "
        f"and {METADATA_MAX_BYTES} bytes as JSON)",
    )
    adopt: Adopt | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ConversationPut:
        if self.adopt is not None:
            if self.mode == "still" and self.adopt.thread_ts is None:
                raise ValueError("adopting a still conversation needs adopt.thread_ts")
            return self
        if self.mode == "still":
            if self.channel is None or self.card is None:
                raise ValueError("a still conversation needs channel and card")
            if self.channel_name is not None or self.invite:
                raise ValueError("channel_name and invite are for noisy conversations")
        elif self.channel is not None or self.card is not None:
            raise ValueError("channel and card are for still conversations")
        return self


class Conversation(BaseModel):
    key: str
    workspace: str
    mode: Mode
    state: ConversationState
    channel: str | None = Field(description="where it lives in Slack, once known")
    thread_ts: str | None = Field(description="still: the card's ts (the thread), once known")
    permalink: str | None
    title: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    closed_at: datetime | None
    error: str | None = Field(description="why creating it in Slack failed (state failed)")


class ConversationList(BaseModel):
    conversations: list[Conversation]
    next_cursor: str | None


class CloseRequest(RequestModel):
    message: Annotated[str, Field(max_length=4000)] | None = Field(
        default=None, description="posted in the conversation before it closes"
    )


class ReopenRequest(RequestModel):
    pass


class PersonaSpec(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    icon_url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    icon_emoji: Annotated[str, Field(pattern=r"^:[a-z0-9_+'\-]{1,100}:$")] | None = None


class Author(RequestModel):
    """Who the message is by: a persona, a Slack user (by id) or a person by email (the linked
    Slack user when Slack knows the email, else the persona, which is then required)."""

    persona: PersonaSpec | None = None
    slack_user: UserId | None = None
    email: Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None

    @model_validator(mode="after")
    def _one(self) -> Author:
        if self.slack_user and self.email:
            raise ValueError("give slack_user or email, not both")
        if not (self.persona or self.slack_user or self.email):
            raise ValueError("give persona, slack_user or email")
        return self


class MessageFile(RequestModel):
    filename: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^/\\\x00]+$")]
    content_base64: Annotated[
        str,
        Field(max_length=(MAX_FILE_BYTES * 4) // 3 + 4, pattern=r"^[A-Za-z0-9+/]*={0,2}$"),
    ]
    title: Annotated[str, Field(max_length=255)] | None = None


class PostBridgeMessage(RequestModel):
    id: ProductMessageId
    author: Author
    text: Text | None = None
    blocks: Blocks | None = None
    files: Annotated[list[MessageFile], Field(max_length=10)] | None = None
    broadcast: bool = Field(default=False, description="still: also show the reply in the channel")

    @model_validator(mode="after")
    def _content(self) -> PostBridgeMessage:
        if not ((self.text and self.text.strip()) or self.blocks or self.files):
            raise ValueError("give text, blocks or files")
        return self


class EditMessageRequest(RequestModel):
    text: Text | None = None
    blocks: Blocks | None = None

    @model_validator(mode="after")
    def _content(self) -> EditMessageRequest:
        if not ((self.text and self.text.strip()) or self.blocks):
            raise ValueError("give text or blocks")
        return self


class ReactionRequest(RequestModel):
    name: ReactionName


class BridgeMessage(BaseModel):
    id: str = Field(description="the product's message id")
    conversation: str = Field(description="the conversation's key")
    state: MessageState
    ts: str | None = Field(description="the Slack ts, once sent")
    operation_id: str | None = Field(
        description="the latest outbox operation on the message (msg_…; GET /messages/{id})"
    )
    error: str | None = None
    deleted: bool = False


class UserLinkPut(RequestModel):
    workspace: TeamId
    email: Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    slack_user: UserId | None = None

    @model_validator(mode="after")
    def _one(self) -> UserLinkPut:
        if not (self.email or self.slack_user):
            raise ValueError("give email or slack_user")
        return self


class UserLink(BaseModel):
    product_user: str
    workspace: str
    slack_user: str | None
    email: str | None


class WatchedChannelPut(RequestModel):
    workspace: TeamId
    open_on: Literal["message", "reaction"] = "message"
    reaction: ReactionName | None = None
    mode: Literal["still"] = "still"

    @model_validator(mode="after")
    def _reaction(self) -> WatchedChannelPut:
        if self.open_on == "reaction" and not self.reaction:
            raise ValueError('open_on "reaction" needs reaction (an emoji name, e.g. ticket)')
        if self.open_on == "message" and self.reaction:
            raise ValueError('reaction is for open_on "reaction"')
        return self


class WatchedChannel(BaseModel):
    workspace: str
    channel: str
    open_on: str
    reaction: str | None
    mode: str


class WatchedChannelList(BaseModel):
    watched_channels: list[WatchedChannel]
