"""Control API: act as a workspace's users (post, edit, delete, react, invite, share files).

Each endpoint changes the world through ``ops`` exactly as the person's Slack client would, so
apps hear the same events as for a real user's action.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from slackbridge.emulator import ops
from slackbridge.emulator.control_common import (
    ControlError,
    blocks_field,
    bool_field,
    channel_field,
    endpoint,
    read_body,
    render_channel_summary,
    required_field,
    state_of,
    str_field,
    user_field,
)
from slackbridge.emulator.ops_users import PROFILE_FIELDS, change_user
from slackbridge.emulator.render import render_user

__all__ = ["routes"]


async def _post_message(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    channel = channel_field(state, body)
    user = user_field(state, channel.team_id, required_field(body, "user_id"))
    text = str_field(body, "text", required=False) or ""
    blocks = blocks_field(body)
    if not text and not blocks:
        raise ControlError("no_text", "text: required (or blocks)")
    if user.id not in channel.members:
        raise ControlError("not_in_channel", f"user_id: {user.id} is not in {channel.id}")
    if channel.is_archived:
        raise ControlError("is_archived", f"channel_id: {channel.id} is archived")
    thread_ts = str_field(body, "thread_ts", required=False)
    msg = ops.post_message(
        state,
        channel,
        user,
        text=text,
        blocks=blocks,
        thread_ts=thread_ts,
        reply_broadcast=bool_field(body, "reply_broadcast"),
    )
    return {"ts": msg.ts, "channel_id": channel.id, "thread_ts": msg.thread_ts}


async def _edit_message(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    channel = channel_field(state, body)
    msg = ops.find_message(channel, required_field(body, "ts"))
    user_id = str_field(body, "user_id", required=False) or msg.user or ""
    user = user_field(state, channel.team_id, user_id)
    if msg.user != user.id:
        raise ControlError("cant_update_message", f"user_id: {user.id} did not post {msg.ts}")
    text = str_field(body, "text", required=False)
    blocks = blocks_field(body)
    if text is None and blocks is None:
        raise ControlError("no_text", "text: required (or blocks)")
    changes: dict[str, Any] = {"blocks": blocks} if blocks is not None else {}
    ops.edit_message(state, channel, msg.ts, user, text=text, **changes)
    return {"ts": msg.ts, "channel_id": channel.id}


async def _delete_message(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    channel = channel_field(state, body)
    msg = ops.find_message(channel, required_field(body, "ts"))
    user_id = str_field(body, "user_id", required=False)
    if user_id is not None:
        user = user_field(state, channel.team_id, user_id)
        if msg.user != user.id and not user.is_admin:
            raise ControlError("cant_delete_message", f"user_id: {user.id} did not post {msg.ts}")
    ops.delete_message(state, channel, msg.ts)
    return {"ts": msg.ts, "channel_id": channel.id}


async def _change_profile(request: Request) -> dict[str, Any]:
    """A person (or an admin for them) changes their profile; apps hear ``user_change``."""
    state = state_of(request)
    body = await read_body(request)
    user_id = required_field(body, "user_id")
    found = state.user(user_id)
    if found is None:
        raise ControlError("user_not_found", f"user_id: no user {user_id}")
    user = user_field(state, found.team_id, user_id)
    unknown = sorted(set(body) - {"team_id", "user_id", *PROFILE_FIELDS})
    if unknown:
        allowed = ", ".join(PROFILE_FIELDS)
        raise ControlError("invalid_arguments", f"{unknown[0]}: unknown field (allowed: {allowed})")
    changes: dict[str, str] = {}
    for name in PROFILE_FIELDS:
        if name in body:
            value = body[name]
            if not isinstance(value, str):
                raise ControlError("invalid_arguments", f"{name}: expected a string")
            changes[name] = value
    if not changes:
        raise ControlError("invalid_arguments", f"give at least one of {', '.join(PROFILE_FIELDS)}")
    changed = change_user(state, user, changes)
    return {"changed": changed, "user": render_user(user, include_email=True)}


_LINK = re.compile(r"<(https?://[^|>]+)(?:\|[^>]*)?>|(https?://\S+)")


async def _unfurl(request: Request) -> dict[str, Any]:
    """Slack unfurls a link in a message (the first link in its text, or ``url``)."""
    state = state_of(request)
    body = await read_body(request)
    channel = channel_field(state, body)
    msg = ops.find_message(channel, required_field(body, "ts"))
    url = str_field(body, "url", required=False)
    if url is None:
        found = _LINK.search(msg.text or "")
        if found is None:
            raise ControlError("no_link", "url: the message has no link to unfurl; give url")
        url = found.group(1) or found.group(2)
    title = str_field(body, "title", required=False) or url
    attachment: dict[str, Any] = {
        "id": len(msg.attachments or []) + 1,
        "from_url": url,
        "original_url": url,
        "fallback": title,
        "title": title,
        "title_link": url,
        "text": str_field(body, "text", required=False) or "",
        "service_name": urlsplit(url).hostname or url,
    }
    ops.unfurl_message(state, channel, msg.ts, [attachment])
    return {"ts": msg.ts, "channel_id": channel.id, "attachment": attachment}


async def _react(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    channel = channel_field(state, body)
    user = user_field(state, channel.team_id, required_field(body, "user_id"))
    name = required_field(body, "name").strip(":")
    if not name:
        raise ControlError("invalid_name", "name: an emoji name such as thumbsup")
    ts = required_field(body, "ts")
    if bool_field(body, "remove"):
        ops.remove_reaction(state, channel, ts, user.id, name)
    else:
        ops.add_reaction(state, channel, ts, user.id, name)
    return {"channel_id": channel.id, "ts": ts, "name": name}


async def _invite(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    channel = channel_field(state, body)
    inviter = user_field(state, channel.team_id, required_field(body, "user_id"))
    raw = body.get("users")
    if isinstance(raw, str):
        user_ids = [u.strip() for u in raw.split(",") if u.strip()]
    elif isinstance(raw, list) and all(isinstance(u, str) for u in raw):
        user_ids = list(raw)
    else:
        raise ControlError("invalid_arguments", 'users: "U1,U2" or a list of user ids')
    if not user_ids:
        raise ControlError("invalid_arguments", "users: required")
    if channel.kind not in {"public", "private"}:
        raise ControlError(
            "method_not_supported_for_channel_type", f"channel_id: {channel.id} is a DM"
        )
    if channel.is_archived:
        raise ControlError("is_archived", f"channel_id: {channel.id} is archived")
    if inviter.id not in channel.members:
        raise ControlError("not_in_channel", f"user_id: {inviter.id} is not in {channel.id}")
    invitees = [user_field(state, channel.team_id, u, "users") for u in user_ids]
    joined = [u.id for u in invitees if ops.join_channel(state, channel, u, inviter=inviter.id)]
    return {"channel": render_channel_summary(channel), "joined": joined}


def _file_content(body: dict[str, Any]) -> bytes:
    if "content_base64" in body:
        raw = required_field(body, "content_base64")
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ControlError("invalid_arguments", "content_base64: not valid base64") from None
    content = body.get("content")
    if not isinstance(content, str):
        raise ControlError("invalid_arguments", "content: required (text), or content_base64")
    return content.encode()


async def _share_file(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    channel = channel_field(state, body)
    user = user_field(state, channel.team_id, required_field(body, "user_id"))
    filename = required_field(body, "filename")
    content = _file_content(body)
    if user.id not in channel.members:
        raise ControlError("not_in_channel", f"user_id: {user.id} is not in {channel.id}")
    if channel.is_archived:
        raise ControlError("is_archived", f"channel_id: {channel.id} is archived")
    file = ops.create_file(
        state,
        channel.team_id,
        user.id,
        name=filename,
        title=str_field(body, "title", required=False),
        content=content,
    )
    msg = ops.share_files(
        state,
        [file],
        channel,
        user,
        thread_ts=str_field(body, "thread_ts", required=False),
        initial_comment=str_field(body, "initial_comment", required=False) or "",
    )
    return {"file": ops.file_json(state, file), "ts": msg.ts, "channel_id": channel.id}


def routes() -> list[BaseRoute]:
    """The act-as-a-user routes of the control API."""
    p = "/_emulator"
    return [
        Route(f"{p}/conversations/invite", endpoint(_invite), methods=["POST"]),
        Route(f"{p}/messages", endpoint(_post_message), methods=["POST"]),
        Route(f"{p}/messages/edit", endpoint(_edit_message), methods=["POST"]),
        Route(f"{p}/messages/delete", endpoint(_delete_message), methods=["POST"]),
        Route(f"{p}/messages/unfurl", endpoint(_unfurl), methods=["POST"]),
        Route(f"{p}/reactions", endpoint(_react), methods=["POST"]),
        Route(f"{p}/users/profile", endpoint(_change_profile), methods=["POST"]),
        Route(f"{p}/files", endpoint(_share_file), methods=["POST"]),
    ]
