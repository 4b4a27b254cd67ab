"""``reactions.add``, ``reactions.remove``, ``reactions.get``, ``reactions.list``."""

from __future__ import annotations

import re
from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.state import Channel, Message
from slackbridge.emulator.webapi.args import page, valid_ts
from slackbridge.emulator.webapi.chat import permalink
from slackbridge.emulator.webapi.common import caller, can_see, resolve_channel, workspace
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

_NAME = re.compile(r"^[a-z0-9_+\-']+(::skin-tone-[2-6])?$")
_MAX_DISTINCT = 50  # distinct emoji on one message (too_many_emoji)
_MAX_PER_USER = 23  # reactions one person may add to one message (too_many_reactions)


def _target(ctx: CallContext) -> tuple[Channel, Message]:
    channel_ref = ctx.arg("channel")
    ts = ctx.arg("timestamp")
    if not channel_ref or not ts:
        raise SlackError("no_item_specified")
    if not valid_ts(str(ts)):
        raise SlackError("bad_timestamp")
    channel = resolve_channel(ctx, channel_ref)
    return channel, ops.find_message(channel, str(ts))


def _name(ctx: CallContext) -> str:
    name = str(ctx.require("name")).strip(":")
    if not _NAME.match(name):
        raise SlackError("invalid_name")
    return name


@method("reactions.add", tier=3, scopes=("reactions:write",))
async def reactions_add(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    name = _name(ctx)
    channel, msg = _target(ctx)
    if channel.is_archived:
        raise SlackError("is_archived")
    if name not in msg.reactions and len(msg.reactions) >= _MAX_DISTINCT:
        raise SlackError("too_many_emoji")
    mine = sum(1 for users in msg.reactions.values() if me.id in users)
    if mine >= _MAX_PER_USER and me.id not in msg.reactions.get(name, []):
        raise SlackError("too_many_reactions")
    ops.add_reaction(ctx.state, channel, msg.ts, me.id, name)
    return {}


@method("reactions.remove", tier=2, scopes=("reactions:write",))
async def reactions_remove(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    name = _name(ctx)
    channel, msg = _target(ctx)
    ops.remove_reaction(ctx.state, channel, msg.ts, me.id, name)
    return {}


@method("reactions.get", tier=3, scopes=("reactions:read",))
async def reactions_get(ctx: CallContext) -> dict[str, Any]:
    channel, msg = _target(ctx)
    rendered = ops.message_json(ctx.state, channel, msg)
    rendered["permalink"] = permalink(ops.base_url(ctx.state), channel, msg)
    return {"type": "message", "channel": channel.id, "message": rendered}


@method("reactions.list", tier=2, scopes=("reactions:read",))
async def reactions_list(ctx: CallContext) -> dict[str, Any]:
    """What ``user`` (default: the caller) reacted to, most recent message first, in the
    conversations the caller can see."""
    me = caller(ctx)
    ws = workspace(ctx)
    who = str(ctx.arg("user") or me.id)
    if who not in ws.users:
        raise SlackError("user_not_found")
    found: list[tuple[Channel, Message]] = []
    for channel in ws.channels.values():
        if not can_see(channel, me):
            continue
        for msg in channel.messages:
            if not msg.deleted and any(who in users for users in msg.reactions.values()):
                found.append((channel, msg))
    found.sort(key=lambda pair: float(pair[1].ts), reverse=True)
    chunk, cursor = page(ctx, found, kind="reactions", default_limit=100)
    items = []
    for channel, msg in chunk:
        rendered = ops.message_json(ctx.state, channel, msg)
        rendered["permalink"] = permalink(ops.base_url(ctx.state), channel, msg)
        items.append({"type": "message", "channel": channel.id, "message": rendered})
    return {"items": items, "response_metadata": {"next_cursor": cursor}}
