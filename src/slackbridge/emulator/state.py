"""The emulator's in-memory world: apps, workspaces, users, channels, messages, installations.

This module is the shared model. It holds data and lookups only; operations that change the world
live in ``ops.py`` and announce each change as a :class:`Signal` on the state's bus, which the
event builder (``events.py``) turns into Events API deliveries for subscribed apps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from slackbridge.emulator.faults import FaultRegistry
from slackbridge.emulator.ids import IdFactory, TsClock
from slackbridge.emulator.ratelimit import RateLimiter
from slackbridge.emulator.state_records import (
    AssistantThread,
    Bookmark,
    ScheduledMessage,
    Stream,
    Usergroup,
)

__all__ = [
    "App",
    "AppToken",
    "AssistantThread",
    "Bookmark",
    "Channel",
    "EmulatorState",
    "File",
    "Installation",
    "Message",
    "OAuthCode",
    "ScheduledMessage",
    "Signal",
    "Stream",
    "Token",
    "User",
    "Usergroup",
    "View",
    "Workspace",
]

ChannelKind = Literal["public", "private", "im", "mpim"]
InstallStatus = Literal["active", "revoked", "uninstalled"]


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    bot_id: str | None = None  # set for a bot user
    app_id: str | None = None  # set for an app's bot user
    deleted: bool = False
    tz: str = "America/Los_Angeles"
    title: str = ""
    status_text: str = ""
    status_emoji: str = ""
    display_name: str = ""

    def avatar(self, size: int) -> str:
        return f"https://avatars.slack-edge.example/{self.id}_{size}.png"


@dataclass
class Workspace:
    id: str
    name: str
    domain: str
    enterprise_id: str | None = None
    email_domain: str = ""
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)

    def channel_named(self, ref: str) -> Channel | None:
        """The public or private channel called ``ref`` (``#name`` or ``name``), if any."""
        name = ref[1:] if ref.startswith("#") else ref
        return next(
            (
                c
                for c in self.channels.values()
                if c.name == name and c.kind in {"public", "private"}
            ),
            None,
        )


@dataclass
class Message:
    ts: str
    channel_id: str
    text: str
    user: str | None = None  # U… of a human or of an app's bot user
    bot_id: str | None = None
    app_id: str | None = None
    username: str | None = None  # persona name (chat:write.customize)
    icons: dict[str, str] | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    subtype: str | None = None
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    files: list[str] = field(default_factory=list)  # F… ids
    edited: dict[str, str] | None = None  # {"user": U…, "ts": …}
    reactions: dict[str, list[str]] = field(default_factory=dict)  # name -> [user ids] in order
    reply_users: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # ts of replies (on a thread root)
    latest_reply: str | None = None
    metadata: dict[str, Any] | None = None
    deleted: bool = False

    @property
    def is_thread_root(self) -> bool:
        return bool(self.replies)


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    kind: ChannelKind
    creator: str
    created: int
    members: list[str] = field(default_factory=list)  # user ids (humans and bot users)
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""
    messages: list[Message] = field(default_factory=list)  # in ts order, roots and replies
    by_ts: dict[str, Message] = field(default_factory=dict)
    # Pinned messages: ts -> {"created": unix time, "created_by": user id}, oldest pin first.
    pins: dict[str, dict[str, Any]] = field(default_factory=dict)
    bookmarks: list[Bookmark] = field(default_factory=list)  # in rank order

    @property
    def is_im(self) -> bool:
        return self.kind == "im"

    @property
    def is_mpim(self) -> bool:
        return self.kind == "mpim"

    @property
    def is_private(self) -> bool:
        return self.kind != "public"

    @property
    def is_general(self) -> bool:
        """The workspace-wide #general, which no one may archive, leave or be removed from."""
        return self.kind == "public" and self.name == "general"


@dataclass
class File:
    id: str
    team_id: str
    user: str
    name: str
    title: str
    mimetype: str
    filetype: str
    content: bytes
    created: int
    channels: list[str] = field(default_factory=list)
    shares: dict[str, list[str]] = field(default_factory=dict)  # channel id -> message ts
    alt_txt: str = ""
    upload_ticket: str | None = None  # set between getUploadURLExternal and completion
    completed: bool = False


@dataclass
class SlashCommand:
    command: str  # "/ticket"
    url: str
    description: str = ""
    usage_hint: str = ""


@dataclass
class App:
    """An app provisioned from a manifest (apps.manifest.create) or the seed."""

    id: str  # A…
    name: str
    client_id: str
    client_secret: str
    signing_secret: str
    verification_token: str
    manifest: dict[str, Any]
    redirect_urls: list[str] = field(default_factory=list)
    bot_scopes: list[str] = field(default_factory=list)
    user_scopes: list[str] = field(default_factory=list)
    event_request_url: str | None = None
    bot_events: list[str] = field(default_factory=list)
    user_events: list[str] = field(default_factory=list)
    interactivity_url: str | None = None
    options_load_url: str | None = None
    slash_commands: list[SlashCommand] = field(default_factory=list)
    socket_mode: bool = False
    token_rotation: bool = False
    app_tokens: list[str] = field(default_factory=list)  # xapp-… (connections:write)
    bot_display_name: str | None = None
    owner_team_id: str | None = None  # the workspace the app was created in (its home)
    # Public distribution (Slack's "Manage Distribution" page): without it an app with a home
    # workspace installs there only. Apps without a home (tests, seeds) install anywhere.
    distributed: bool = False
    # settings.event_subscriptions.metadata_subscriptions: [{"app_id": "A…" | "*", "event_type"}]
    metadata_subscriptions: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Token:
    """An access token the Web API accepts."""

    token: str
    kind: Literal["bot", "user", "app", "config"]
    team_id: str | None
    user_id: str | None  # the bot user for bot tokens, the person for user tokens
    app_id: str | None
    scopes: list[str]
    expires_at: float | None = None  # with token rotation
    refresh_token: str | None = None
    revoked: bool = False
    installation_key: tuple[str, str] | None = None  # (app_id, team_id)


@dataclass
class Installation:
    app_id: str
    team_id: str
    bot_user_id: str
    bot_id: str
    installer_user_id: str
    bot_scopes: list[str]
    status: InstallStatus = "active"
    bot_token: str | None = None
    user_tokens: dict[str, str] = field(default_factory=dict)  # user id -> xoxp token
    incoming_webhooks: list[dict[str, str]] = field(default_factory=list)
    installed_at: float = field(default_factory=time.time)


@dataclass
class OAuthCode:
    code: str
    app_id: str
    team_id: str
    user_id: str
    redirect_uri: str | None
    scopes: list[str]
    user_scopes: list[str]
    expires_at: float
    incoming_webhook_channel: str | None = None
    used: bool = False
    version: int = 2  # 2: from /oauth/v2/authorize (oauth.v2.access); 1: /oauth/authorize;
    # 3: from /openid/connect/authorize (Sign in with Slack, openid.connect.token)
    nonce: str | None = None  # OpenID Connect: echoed in the id_token


@dataclass
class AppToken:
    token: str
    app_id: str
    scopes: list[str]


@dataclass
class View:
    id: str  # V…
    team_id: str
    app_id: str
    user_id: str
    view: dict[str, Any]
    hash: str
    kind: Literal["modal", "home"] = "modal"
    previous_view_id: str | None = None
    root_view_id: str | None = None
    open: bool = True


@dataclass
class Trigger:
    trigger_id: str
    team_id: str
    user_id: str
    app_id: str
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class Signal:
    """A change in the world that may produce Events API deliveries.

    ``kind`` is one of: ``message`` (a new message, including bot posts and file shares),
    ``message_changed``, ``message_deleted``, ``reaction_added``, ``reaction_removed``,
    ``member_joined_channel``, ``app_uninstalled``, ``tokens_revoked``, ``channel_created``,
    ``channel_archive``, ``channel_unarchive``, ``app_home_opened``, and ``reset`` (the world
    went back to the seed; listeners drop pending work). ``channel_rename``, ``group_rename``,
    ``pin_added``, ``pin_removed``, ``assistant_thread_started`` and
    ``assistant_thread_context_changed`` carry the finished event as ``data["event"]`` (see
    ``events.py``). ``data`` carries what the event builder needs (each kind's
    fields are listed in ``ops.py``). Listeners ignore kinds they do not know.
    """

    kind: str
    team_id: str
    channel_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class EmulatorState:
    """Everything the emulator knows. One instance per emulator app."""

    ids: IdFactory = field(default_factory=IdFactory)
    ts_clock: TsClock = field(default_factory=TsClock)
    speed: float = 1.0  # >1 makes Slack's waits (retries, expiries) shorter
    # How long an app may take to answer (real seconds); None: Slack's 3 s divided by speed.
    # Tests that speed up retries set it apart, so that a loaded machine never turns an
    # ordinary answer into a timeout.
    ack_timeout: float | None = None
    rate_limits_enabled: bool = True
    configuration_token: str = ""
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    apps: dict[str, App] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    app_tokens: dict[str, AppToken] = field(default_factory=dict)
    installations: dict[tuple[str, str], Installation] = field(default_factory=dict)
    oauth_codes: dict[str, OAuthCode] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)  # refresh token -> access token
    files: dict[str, File] = field(default_factory=dict)
    views: dict[str, View] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    listeners: list[Callable[[Signal], None]] = field(default_factory=list)
    # Where the emulator is reached, for links it generates (file URLs, permalinks, upload
    # URLs). The CLI sets it; otherwise the first Web API request sets it from its base URL.
    base_url: str | None = None
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    # Options apps returned to block_suggestion, so a pick in an external select echoes the
    # app's option: (team_id, user_id, app_id) -> action_id -> value -> option.
    offered_options: dict[tuple[str, str, str], dict[str, dict[str, dict[str, Any]]]] = field(
        default_factory=dict
    )
    scheduled_messages: dict[str, ScheduledMessage] = field(default_factory=dict)
    usergroups: dict[str, Usergroup] = field(default_factory=dict)
    streams: dict[tuple[str, str], Stream] = field(default_factory=dict)  # (channel, ts)
    # (channel, thread_ts) -> the assistant thread there
    assistant_threads: dict[tuple[str, str], AssistantThread] = field(default_factory=dict)
    # Sign in with Slack: the RSA key signing id_tokens (made on first use; see oidc.py).
    oidc_key: Any = None
    # chat.postEphemeral messages (never in history), newest last, bounded.
    ephemerals: list[dict[str, Any]] = field(default_factory=list)

    # --- time -----------------------------------------------------------------------------
    def now(self) -> float:
        return time.time()

    def scaled(self, seconds: float) -> float:
        """A Slack wait (retry delay, 3 s timeouts) scaled by ``speed``."""
        return seconds / self.speed

    def answer_timeout(self, slack_seconds: float = 3.0) -> float:
        """How long to wait for an app's answer: ``ack_timeout``, else Slack's wait scaled."""
        return self.ack_timeout if self.ack_timeout is not None else self.scaled(slack_seconds)

    # --- signals ----------------------------------------------------------------------------
    def emit(self, signal: Signal) -> None:
        for listener in list(self.listeners):
            listener(signal)

    # --- lookups ----------------------------------------------------------------------------
    def workspace(self, team_id: str) -> Workspace | None:
        return self.workspaces.get(team_id)

    def user(self, user_id: str) -> User | None:
        for ws in self.workspaces.values():
            if user_id in ws.users:
                return ws.users[user_id]
        return None

    def channel(self, team_id: str, channel_id: str) -> Channel | None:
        ws = self.workspaces.get(team_id)
        return ws.channels.get(channel_id) if ws else None

    def find_channel(self, channel_id: str) -> Channel | None:
        for ws in self.workspaces.values():
            if channel_id in ws.channels:
                return ws.channels[channel_id]
        return None

    def installation(self, app_id: str, team_id: str) -> Installation | None:
        return self.installations.get((app_id, team_id))

    def active_installations(self, team_id: str) -> list[Installation]:
        return [
            inst
            for (_, tid), inst in self.installations.items()
            if tid == team_id and inst.status == "active"
        ]

    def app_by_client_id(self, client_id: str) -> App | None:
        return next((a for a in self.apps.values() if a.client_id == client_id), None)

    def app_for_bot_user(self, user_id: str) -> App | None:
        user = self.user(user_id)
        return self.apps.get(user.app_id) if user and user.app_id else None
