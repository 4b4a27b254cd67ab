"""Slack's JSON shapes for the emulator's objects: messages, files, users, channels, bots, teams.

Pure functions: they take everything they show as arguments, so the Web API, the Events API
builder and the control API render one object the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slackbridge.emulator.state import Channel, File, Message, User, Workspace

__all__ = [
    "channel_letter",
    "channel_type",
    "render_bot_profile",
    "render_channel",
    "render_file",
    "render_message",
    "render_profile",
    "render_team",
    "render_user",
]

_AVATAR_SIZES = (24, 32, 48, 72, 192, 512, 1024)
_BOT_ICON_SIZES = (36, 48, 72)


def channel_type(channel: Channel) -> str:
    """The Events API ``channel_type``: ``channel``, ``group``, ``im`` or ``mpim``."""
    return {"public": "channel", "private": "group", "im": "im", "mpim": "mpim"}[channel.kind]


def channel_letter(channel: Channel) -> str:
    """The ``channel_type`` of membership and archive events: ``C`` (public) or ``G``."""
    return "C" if channel.kind == "public" else "G"


def render_bot_profile(
    *, bot_id: str, app_id: str | None, name: str, team_id: str, updated: int
) -> dict[str, Any]:
    """The ``bot_profile`` object Slack attaches to messages posted by an app."""
    return {
        "id": bot_id,
        "deleted": False,
        "name": name,
        "updated": updated,
        "app_id": app_id,
        "icons": {
            f"image_{size}": f"https://avatars.slack-edge.example/{bot_id}_{size}.png"
            for size in _BOT_ICON_SIZES
        },
        "team_id": team_id,
    }


def render_message(
    msg: Message,
    *,
    team_id: str | None = None,
    files: Sequence[dict[str, Any]] = (),
    bot_profile: dict[str, Any] | None = None,
    parent_user_id: str | None = None,
    root: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message as Slack's Web API and Events API show it.

    ``files`` are already-rendered file objects; ``parent_user_id`` is the thread root's author
    (for replies); ``root`` is the rendered root (for ``thread_broadcast``).
    """
    out: dict[str, Any] = {"type": "message"}
    if msg.subtype:
        out["subtype"] = msg.subtype
    if msg.subtype == "tombstone":
        out["hidden"] = True
    if msg.user:
        out["user"] = msg.user
    if msg.bot_id:
        out["bot_id"] = msg.bot_id
    if msg.app_id:
        out["app_id"] = msg.app_id
    if msg.username:
        out["username"] = msg.username
    if msg.icons:
        out["icons"] = dict(msg.icons)
    out["text"] = msg.text
    out["ts"] = msg.ts
    if team_id:
        out["team"] = team_id
    if msg.blocks is not None:
        out["blocks"] = msg.blocks
    if msg.attachments:
        out["attachments"] = msg.attachments
    if files:
        out["files"] = list(files)
        out["upload"] = False
        out["display_as_bot"] = False
    if msg.thread_ts:
        out["thread_ts"] = msg.thread_ts
        if msg.thread_ts != msg.ts and parent_user_id:
            out["parent_user_id"] = parent_user_id
        elif msg.subtype == "tombstone":
            out["parent_user_id"] = "USLACKBOT"  # as Slack shows a deleted thread parent
    if msg.replies:
        out["reply_count"] = len(msg.replies)
        out["reply_users_count"] = len(msg.reply_users)
        out["latest_reply"] = msg.latest_reply
        out["reply_users"] = list(msg.reply_users)
        out["is_locked"] = False
        out["subscribed"] = False
    if msg.edited:
        out["edited"] = dict(msg.edited)
    if msg.reactions:
        out["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in msg.reactions.items()
        ]
    if msg.metadata:
        out["metadata"] = msg.metadata
    if bot_profile:
        out["bot_profile"] = bot_profile
    if root is not None:
        out["root"] = root
    return out


def file_urls(file: File, base_url: str) -> dict[str, str]:
    """Where the emulator serves a file (``url_private`` needs a bearer token)."""
    name = quote(file.name)
    return {
        "url_private": f"{base_url}/files-pri/{file.team_id}-{file.id}/{name}",
        "url_private_download": f"{base_url}/files-pri/{file.team_id}-{file.id}/download/{name}",
        "permalink": f"{base_url}/files/{file.user}/{file.id}/{name}",
        "permalink_public": f"{base_url}/files-pub/{file.team_id}-{file.id}/{name}",
    }


def render_file(
    file: File,
    *,
    base_url: str,
    channel_kinds: dict[str, str] | None = None,
    channel_names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A file object. ``channel_kinds`` maps each shared channel id to its kind."""
    kinds = channel_kinds or {}
    names = channel_names or {}
    public: dict[str, list[dict[str, Any]]] = {}
    private: dict[str, list[dict[str, Any]]] = {}
    for channel_id, share_ts in file.shares.items():
        target = public if kinds.get(channel_id) == "public" else private
        target[channel_id] = [
            {
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": ts,
                "channel_name": names.get(channel_id, ""),
                "team_id": file.team_id,
                "share_user_id": file.user,
                "source": "UNKNOWN",
            }
            for ts in share_ts
        ]
    shares: dict[str, Any] = {}
    if public:
        shares["public"] = public
    if private:
        shares["private"] = private
    return {
        "id": file.id,
        "created": file.created,
        "timestamp": file.created,
        "name": file.name,
        "title": file.title,
        "mimetype": file.mimetype,
        "filetype": file.filetype,
        "pretty_type": file.filetype.upper() if file.filetype else "Binary",
        "user": file.user,
        "user_team": file.team_id,
        "editable": False,
        "size": len(file.content),
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": any(kinds.get(c) == "public" for c in file.channels),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        **file_urls(file, base_url),
        "channels": [c for c in file.channels if kinds.get(c) == "public"],
        "groups": [c for c in file.channels if kinds.get(c) in {"private", "mpim"}],
        "ims": [c for c in file.channels if kinds.get(c) == "im"],
        "shares": shares,
        "comments_count": 0,
        "is_starred": False,
        "has_rich_preview": False,
        "file_access": "visible",
        "alt_txt": file.alt_txt,
    }


def _tz(tz: str) -> tuple[str, int]:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        label = datetime.now(ZoneInfo(tz)).tzname() or tz
    except (ZoneInfoNotFoundError, ValueError):
        return tz, 0
    return label, int(offset.total_seconds()) if offset else 0


def render_profile(user: User, *, include_email: bool) -> dict[str, Any]:
    """``users.profile.get``'s ``profile`` (and ``users.info``'s ``user.profile``)."""
    first, _, last = user.real_name.partition(" ")
    profile: dict[str, Any] = {
        "title": user.title,
        "phone": "",
        "skype": "",
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.display_name,
        "display_name_normalized": user.display_name,
        "fields": {},
        "status_text": user.status_text,
        "status_emoji": user.status_emoji,
        "status_emoji_display_info": [],
        "status_expiration": 0,
        "avatar_hash": hashlib.sha1(user.id.encode()).hexdigest()[:12],
        "first_name": first,
        "last_name": last,
        **{f"image_{size}": user.avatar(size) for size in _AVATAR_SIZES},
        "status_text_canonical": "",
        "team": user.team_id,
    }
    if include_email and user.email and not user.is_bot:
        profile["email"] = user.email
    if user.is_bot:
        profile["bot_id"] = user.bot_id
        profile["api_app_id"] = user.app_id or ""
        profile["always_active"] = True
    return profile


def render_user(user: User, *, include_email: bool, updated: int = 0) -> dict[str, Any]:
    """A user object as ``users.info`` / ``users.list`` show it."""
    tz_label, tz_offset = _tz(user.tz)
    return {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "color": hashlib.sha1(user.name.encode()).hexdigest()[:6],
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "profile": render_profile(user, include_email=include_email),
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": user.is_owner,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": updated,
        "is_email_confirmed": not user.is_bot,
        "who_can_share_contact_card": "EVERYONE",
    }


def render_channel(
    channel: Channel,
    *,
    viewer_id: str | None,
    num_members: bool = False,
    im_user: str | None = None,
) -> dict[str, Any]:
    """A conversation as ``conversations.info``/``list`` show it.

    ``viewer_id`` is the calling user or bot user (for ``is_member``); ``im_user`` is the other
    member of a DM as seen by the viewer.
    """
    updated = channel.created * 1000
    if channel.kind == "im":
        return {
            "id": channel.id,
            "created": channel.created,
            "is_archived": channel.is_archived,
            "is_im": True,
            "is_org_shared": False,
            "context_team_id": channel.team_id,
            "updated": updated,
            "user": im_user or "",
            "is_user_deleted": False,
            "priority": 0,
        }
    legacy_group = channel.id.startswith("G") and channel.kind == "private"
    out: dict[str, Any] = {
        "id": channel.id,
        "name": channel.name,
        "is_channel": channel.kind in {"public", "private"} and not legacy_group,
        "is_group": legacy_group,
        "is_im": False,
        "is_mpim": channel.kind == "mpim",
        "is_private": channel.is_private,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_general": channel.is_general,
        "unlinked": 0,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": channel.team_id,
        "updated": updated,
        "parent_conversation": None,
        "creator": channel.creator,
        "is_ext_shared": False,
        "shared_team_ids": [channel.team_id],
        "pending_connected_team_ids": [],
        "is_member": viewer_id in channel.members if viewer_id else False,
        "topic": {"value": channel.topic, "creator": "", "last_set": 0},
        "purpose": {"value": channel.purpose, "creator": "", "last_set": 0},
        "previous_names": [],
    }
    if num_members:
        out["num_members"] = len(channel.members)
    return out


def render_team(ws: Workspace, *, base_url: str) -> dict[str, Any]:
    """``team.info``'s ``team``."""
    icon = {
        f"image_{size}": f"https://avatars.slack-edge.example/{ws.id}_{size}.png"
        for size in (34, 44, 68, 88, 102, 132, 230)
    }
    team: dict[str, Any] = {
        "id": ws.id,
        "name": ws.name,
        "url": f"https://{ws.domain}.slack.com/",
        "domain": ws.domain,
        "email_domain": ws.email_domain,
        "icon": {**icon, "image_default": True},
        "avatar_base_url": f"{base_url}/avatars/",
        "is_verified": False,
        "lob_sales_home_enabled": False,
    }
    if ws.enterprise_id:
        team["enterprise_id"] = ws.enterprise_id
    return team
