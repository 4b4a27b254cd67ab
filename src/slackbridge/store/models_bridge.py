"""The conversation bridge's tables (docs/bridge.md): conversations, their messages, user links
and watched channels.

A conversation is the product's own ``key`` (unique across the gateway) living in Slack as a
thread under a card in a channel (``still``) or as a channel of its own (``noisy``). Its Slack
place is created through the outbox: ``create_operation_id`` names the operation (the card's
``chat.postMessage`` or ``conversations.create``), and ``channel_id``/``thread_ts`` are filled in
once it has been sent. Messages map the product's message id to the Slack ``ts`` and to the
outbox operation that posts it (the loop guard's key: the post carries that id in its metadata).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from slackbridge.store.models_base import Base, BigId, Json, utcnow

__all__ = [
    "CONVERSATION_MODES",
    "CONVERSATION_STATES",
    "MESSAGE_ORIGINS",
    "MESSAGE_STATES",
    "OPEN_ON",
    "BridgeConversationRow",
    "BridgeMessageRow",
    "BridgeUserLinkRow",
    "BridgeWatchedChannelRow",
]

CONVERSATION_MODES = ("still", "noisy")
CONVERSATION_STATES = ("creating", "open", "closed", "failed")
MESSAGE_STATES = ("queued", "sent", "failed")
MESSAGE_ORIGINS = ("product", "slack")
OPEN_ON = ("message", "reaction")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class BridgeConversationRow(Base):
    """A product conversation and its place in Slack."""

    __tablename__ = "bridge_conversations"
    __table_args__ = (
        CheckConstraint(_in("mode", CONVERSATION_MODES), name="mode"),
        CheckConstraint(_in("state", CONVERSATION_STATES), name="state"),
        # One conversation per thread (still) or channel (noisy, thread_ts NULL).
        UniqueConstraint("team_id", "channel_id", "thread_ts"),
        Index("ix_bridge_conversations_list", "team_id", "state", "id"),
        Index("ix_bridge_conversations_activity", "state", "last_activity_at"),
        Index("ix_bridge_conversations_create_op", "create_operation_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    team_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str | None] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    product_metadata: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # What the creating request asked for (card, channel_name, invite, adopt): a later PUT is
    # compared against it, and the channel name's counter lives here.
    spec: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    create_operation_id: Mapped[str | None] = mapped_column(String(64))
    # The latest close or reopen operation (its status says whether Slack has followed).
    state_operation_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    # The API key scope that created it (for key-scoped visibility), NULL when opened from Slack.
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]
    # The last message either way (catch-up reconciles the most recently active first).
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The newest Slack ts the product has been told about (catch-up resumes after it).
    last_seen_ts: Mapped[str | None] = mapped_column(String(32))


class BridgeMessageRow(Base):
    """One message of a conversation: posted by the product (``origin='product'``, with its id
    and the outbox operation that posts it) or seen in Slack (``origin='slack'``)."""

    __tablename__ = "bridge_messages"
    __table_args__ = (
        CheckConstraint(_in("state", MESSAGE_STATES), name="state"),
        CheckConstraint(_in("origin", MESSAGE_ORIGINS), name="origin"),
        UniqueConstraint("conversation_id", "product_message_id"),
        UniqueConstraint("conversation_id", "ts"),
        Index("ix_bridge_messages_operation_id", "operation_id", unique=True),
        Index("ix_bridge_messages_pending", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("bridge_conversations.id", ondelete="CASCADE")
    )
    origin: Mapped[str] = mapped_column(String(8))
    product_message_id: Mapped[str | None] = mapped_column(String(255))
    # The post's outbox operation (``msg_…``); its metadata carries this id (loop guard).
    operation_id: Mapped[str | None] = mapped_column(String(64))
    # The latest edit, deletion or reaction operation on it.
    last_operation_id: Mapped[str | None] = mapped_column(String(64))
    file_operation_ids: Mapped[list[str]] = mapped_column(Json, default=list)
    file_ids: Mapped[list[str]] = mapped_column(Json, default=list)
    ts: Mapped[str | None] = mapped_column(String(32))
    # The thread a Slack message lives in (``origin='slack'``): a reply's ``thread_ts``, a
    # top-level message's (or thread parent's) own ts; NULL when unknown (recorded before the
    # column existed, or the product's own post). Catch-up proves a noisy channel's message
    # deleted by a complete read of this thread (or of the channel's history for its own ts).
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    author: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # A digest of the posting request (an idempotent retry must be the same request).
    request_digest: Mapped[str | None] = mapped_column(String(64))
    # A digest of the text, blocks and files last seen: an edit that changes none is not news.
    content_digest: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]


class BridgeUserLinkRow(Base):
    """A Slack user ↔ a product user in one workspace, and what posting as them needs (name,
    avatar). Rows without ``product_user`` are the ``users.lookupByEmail`` cache (a row without
    ``slack_user`` remembers that Slack knows no such email, until ``fetched_at`` is too old)."""

    __tablename__ = "bridge_user_links"
    __table_args__ = (
        UniqueConstraint("team_id", "product_user"),
        UniqueConstraint("team_id", "email"),
        Index("ix_bridge_user_links_slack_user", "team_id", "slack_user"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    product_user: Mapped[str | None] = mapped_column(String(255))
    slack_user: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BridgeWatchedChannelRow(Base):
    """A channel whose new top-level messages (or messages given ``reaction``) open
    conversations from Slack (``conversation.opened``)."""

    __tablename__ = "bridge_watched_channels"
    __table_args__ = (
        CheckConstraint(_in("open_on", OPEN_ON), name="open_on"),
        CheckConstraint(_in("mode", CONVERSATION_MODES), name="mode"),
        UniqueConstraint("team_id", "channel_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    open_on: Mapped[str] = mapped_column(String(16))
    reaction: Mapped[str | None] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(8), default="still")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
