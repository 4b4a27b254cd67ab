"""Records of the emulator's world for features beyond messages and channels: bookmarks, user
groups, scheduled messages, streamed messages and AI assistant threads. Data only; the
operations live in the Web API modules and ``scheduler.py``; ``state.py`` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["AssistantThread", "Bookmark", "ScheduledMessage", "Stream", "Usergroup"]


@dataclass
class Bookmark:
    """A link bookmarked in a channel's header (bookmarks.*)."""

    id: str  # Bk…
    channel_id: str
    title: str
    link: str
    type: str
    created_by: str
    date_created: int
    date_updated: int
    emoji: str | None = None
    entity_id: str | None = None
    app_id: str | None = None
    updated_by: str | None = None


@dataclass
class Usergroup:
    """A user group (``@handle``) of a workspace (usergroups.*)."""

    id: str  # S…
    team_id: str
    name: str
    handle: str
    description: str
    created_by: str
    date_create: int
    channels: list[str] = field(default_factory=list)  # default channels
    users: list[str] = field(default_factory=list)
    updated_by: str | None = None
    date_update: int = 0
    date_delete: int = 0  # set while disabled
    deleted_by: str | None = None


@dataclass
class ScheduledMessage:
    """A message an app scheduled with chat.scheduleMessage, posted by the scheduler at
    ``post_at`` (reached sooner in real time when the emulator runs faster: ``due``)."""

    id: str  # Q…
    team_id: str
    channel_id: str
    author_id: str  # the app's bot user, or the person behind a user token
    post_at: int
    date_created: int
    due: float  # state.now() value at which the scheduler posts it
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    metadata: dict[str, Any] | None = None


@dataclass
class Stream:
    """A message being streamed (chat.startStream → appendStream → stopStream)."""

    channel_id: str
    ts: str
    team_id: str
    app_id: str | None
    recipient_user_id: str | None
    open: bool = True


@dataclass
class AssistantThread:
    """A user's thread with an AI app in its assistant container (a DM thread)."""

    team_id: str
    app_id: str
    user_id: str
    channel_id: str  # the DM with the app
    thread_ts: str
    context: dict[str, Any] = field(default_factory=dict)  # channel_id, team_id, enterprise_id
    status: str = ""
    loading_messages: list[str] = field(default_factory=list)
    status_set_at: float = 0.0
    status_replies: int = 0  # replies the thread had when the status was set
    title: str = ""
    suggested_prompts: list[dict[str, str]] = field(default_factory=list)
    prompts_title: str = ""
