"""``chat.scheduleMessage``, ``chat.scheduledMessages.list``, ``chat.deleteScheduledMessage``.

A scheduled message is posted by the scheduler (``scheduler.py``) at ``post_at``, as its
author, with everything chat.postMessage takes (text, blocks, attachments, thread_ts,
reply_broadcast, metadata). As on Slack, ``post_at`` must be in the future and at most 120 days
ahead, at most 30 messages may be scheduled for one channel within 5 minutes, and a message
that is about to be posted (within 60 seconds) can no longer be deleted.
"""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.render import render_bot_profile
from slackbridge.emulator.scheduler import scheduler_of
from slackbridge.emulator.state import ScheduledMessage, User
from slackbridge.emulator.webapi.args import as_bool, as_float, decode_cursor, encode_cursor
from slackbridge.emulator.webapi.common import caller, resolve_channel, workspace
from slackbridge.emulator.webapi.message_args import (
    check_post_access,
    content_args,
    metadata_arg,
    thread_ts_arg,
)
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

_MAX_AHEAD = 120 * 86_400  # seconds
_WINDOW = 300  # restricted_too_many: per channel, within 5 minutes
_MAX_IN_WINDOW = 30
_DELETE_CUTOFF = 60  # seconds before post_at after which deleting fails


def _post_at(ctx: CallContext) -> int:
    raw = ctx.require("post_at")
    if isinstance(raw, bool):
        raise SlackError("invalid_time")
    try:
        value = int(float(str(raw)))
    except (ValueError, OverflowError):
        raise SlackError("invalid_time") from None
    now = ctx.state.now()
    if value <= now:
        raise SlackError("time_in_past")
    if value > now + _MAX_AHEAD:
        raise SlackError("time_too_far")
    return value


def _preview(ctx: CallContext, item: ScheduledMessage, author: User) -> dict[str, Any]:
    """The ``message`` Slack answers: a ``delayed_message`` as it will look."""
    out: dict[str, Any] = {"type": "delayed_message", "text": item.text, "user": author.id}
    if author.is_bot:
        app = ctx.state.apps.get(author.app_id or "")
        out["bot_id"] = author.bot_id
        out["bot_profile"] = render_bot_profile(
            bot_id=author.bot_id or "",
            app_id=author.app_id,
            name=app.name if app else author.name,
            team_id=item.team_id,
            updated=item.date_created,
        )
    if item.blocks is not None:
        out["blocks"] = item.blocks
    if item.attachments is not None:
        out["attachments"] = item.attachments
    out["team"] = item.team_id
    return out


@method("chat.scheduleMessage", tier=3, scopes=("chat:write",))
async def chat_schedule_message(ctx: CallContext) -> dict[str, Any]:
    author = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"), open_user_dm=True)
    check_post_access(ctx, channel, author)
    text, blocks, attachments = content_args(ctx)
    post_at = _post_at(ctx)
    thread_ts = thread_ts_arg(ctx)
    if thread_ts is not None:
        ops.thread_root(channel, thread_ts)  # thread_not_found now, not at post time
    nearby = [
        m
        for m in ctx.state.scheduled_messages.values()
        if m.channel_id == channel.id and abs(m.post_at - post_at) < _WINDOW
    ]
    if len(nearby) >= _MAX_IN_WINDOW:
        raise SlackError("restricted_too_many")
    now = ctx.state.now()
    item = ScheduledMessage(
        id=ctx.state.ids.next("Q", 10),
        team_id=channel.team_id,
        channel_id=channel.id,
        author_id=author.id,
        post_at=post_at,
        date_created=int(now),
        due=now + ctx.state.scaled(post_at - now),
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts,
        reply_broadcast=as_bool(ctx.arg("reply_broadcast")),
        metadata=metadata_arg(ctx),
    )
    ctx.state.scheduled_messages[item.id] = item
    scheduler = scheduler_of(ctx.request)
    if scheduler is not None:
        scheduler.wake()
    return {
        "channel": channel.id,
        "scheduled_message_id": item.id,
        "post_at": post_at,
        "message": _preview(ctx, item, author),
    }


@method("chat.scheduledMessages.list", tier=3, scopes=("chat:write",))
async def chat_scheduled_messages_list(ctx: CallContext) -> dict[str, Any]:
    """The caller's scheduled messages (an app sees its own), soonest first."""
    me = caller(ctx)
    team_id = workspace(ctx).id
    channel_id = None
    if ctx.arg("channel"):
        channel_id = resolve_channel(ctx, ctx.arg("channel")).id
    latest, oldest = as_float(ctx.arg("latest")), as_float(ctx.arg("oldest"))
    found = sorted(
        (
            m
            for m in ctx.state.scheduled_messages.values()
            if m.team_id == team_id
            and m.author_id == me.id
            and (channel_id is None or m.channel_id == channel_id)
            and (latest is None or m.post_at <= latest)
            and (oldest is None or m.post_at >= oldest)
        ),
        key=lambda m: (m.post_at, m.id),
    )
    limit = ctx.arg("limit")
    try:
        size = max(1, min(int(str(limit)), 100)) if limit is not None else 100
    except ValueError:
        raise SlackError("invalid_arguments") from None
    start = 0
    if ctx.arg("cursor"):
        position = decode_cursor(str(ctx.arg("cursor")), "scheduled")
        if not position.isdigit():
            raise SlackError("invalid_cursor")
        start = int(position)
    chunk = found[start : start + size]
    end = start + len(chunk)
    return {
        "scheduled_messages": [
            {
                "id": m.id,
                "channel_id": m.channel_id,
                "post_at": m.post_at,
                "date_created": m.date_created,
                "text": m.text,
            }
            for m in chunk
        ],
        "response_metadata": {
            "next_cursor": encode_cursor("scheduled", str(end)) if end < len(found) else ""
        },
    }


@method("chat.deleteScheduledMessage", tier=3, scopes=("chat:write",))
async def chat_delete_scheduled_message(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    item = ctx.state.scheduled_messages.get(str(ctx.require("scheduled_message_id")))
    if item is None or item.channel_id != channel.id or item.author_id != me.id:
        raise SlackError("invalid_scheduled_message_id")
    if item.due - ctx.state.now() < ctx.state.scaled(_DELETE_CUTOFF):
        raise SlackError("invalid_scheduled_message_id")
    del ctx.state.scheduled_messages[item.id]
    return {}
