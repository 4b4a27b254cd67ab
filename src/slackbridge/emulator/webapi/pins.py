"""``pins.add``, ``pins.remove``, ``pins.list``: messages pinned to a conversation.

Pinning announces ``pin_added`` / ``pin_removed`` to subscribed apps whose bot is in the
conversation.
"""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.ops_common import announce
from slackbridge.emulator.state import Channel, Message, User
from slackbridge.emulator.webapi.args import valid_ts
from slackbridge.emulator.webapi.chat import permalink
from slackbridge.emulator.webapi.common import caller, resolve_channel
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

_MAX_PINS = 100  # Slack's limit of pinned items per conversation (too_many_pins)


def _target(ctx: CallContext) -> tuple[User, Channel, Message]:
    me = caller(ctx)
    channel_ref = ctx.arg("channel")
    ts = ctx.arg("timestamp")
    if not channel_ref:
        raise SlackError("channel_not_found")
    if not ts:
        raise SlackError("no_item_specified")
    if not valid_ts(str(ts)):
        raise SlackError("bad_timestamp")
    channel = resolve_channel(ctx, channel_ref)
    if me.id not in channel.members:
        raise SlackError("not_in_channel")
    msg = ops.find_message(channel, str(ts))
    return me, channel, msg


def _item(
    ctx: CallContext, channel: Channel, msg: Message, pin: dict[str, Any] | None = None
) -> dict[str, Any]:
    pin = pin if pin is not None else channel.pins.get(msg.ts, {})
    rendered = ops.message_json(ctx.state, channel, msg)
    rendered["permalink"] = permalink(ops.base_url(ctx.state), channel, msg)
    rendered.setdefault("pinned_to", [channel.id])
    return {
        "type": "message",
        "created": pin.get("created", 0),
        "created_by": pin.get("created_by"),
        "channel": channel.id,
        "message": rendered,
    }


def _announce(
    ctx: CallContext, kind: str, me: User, channel: Channel, msg: Message, pin: dict[str, Any]
) -> None:
    item = _item(ctx, channel, msg, pin)
    event: dict[str, Any] = {
        "type": kind,
        "user": me.id,
        "channel_id": channel.id,
        "item": item,
        "item_user": msg.user,
        "pin_count": len(channel.pins),
        "pinned_info": {"channel": channel.id, "pinned_by": me.id, "pinned_ts": item["created"]},
        "event_ts": ops.new_ts(ctx.state),
    }
    if kind == "pin_removed":
        event["has_pins"] = bool(channel.pins)
    announce(ctx.state, kind, channel, {"event": event, "members_only": True})


@method("pins.add", tier=2, scopes=("pins:write",))
async def pins_add(ctx: CallContext) -> dict[str, Any]:
    me, channel, msg = _target(ctx)
    if channel.is_archived:
        raise SlackError("is_archived")
    if msg.ts in channel.pins:
        raise SlackError("already_pinned")
    if len(channel.pins) >= _MAX_PINS:
        raise SlackError("too_many_pins")
    pin = {"created": int(ctx.state.now()), "created_by": me.id}
    channel.pins[msg.ts] = pin
    _announce(ctx, "pin_added", me, channel, msg, pin)
    return {}


@method("pins.remove", tier=2, scopes=("pins:write",))
async def pins_remove(ctx: CallContext) -> dict[str, Any]:
    me, channel, msg = _target(ctx)
    if msg.ts not in channel.pins:
        raise SlackError("no_pin")
    pin = channel.pins.pop(msg.ts)
    _announce(ctx, "pin_removed", me, channel, msg, pin)
    return {}


@method("pins.list", tier=2, scopes=("pins:read",))
async def pins_list(ctx: CallContext) -> dict[str, Any]:
    channel = resolve_channel(ctx, ctx.require("channel"))
    items = []
    for ts in reversed(list(channel.pins)):  # newest pin first
        msg = channel.by_ts.get(ts)
        if msg is not None and not msg.deleted:
            items.append(_item(ctx, channel, msg))
    return {"items": items}
