"""``conversations.setTopic``, ``setPurpose``, ``rename`` and ``unarchive``.

Each change is announced as Slack does: a ``channel_topic`` / ``channel_purpose`` /
``channel_name`` / ``channel_unarchive`` message in the channel (so ``message.*`` subscribers
hear it) and, for renames and unarchiving, the ``channel_rename`` / ``channel_unarchive``
events.
"""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.ops_common import announce
from slackbridge.emulator.render import channel_letter, render_channel
from slackbridge.emulator.state import Channel, User
from slackbridge.emulator.webapi.common import caller, resolve_channel, workspace
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

_MANAGE_SCOPES = ("channels:manage", "groups:write", "channels:write")
_TOPIC_SCOPES = ("channels:write.topic", "groups:write.topic", *_MANAGE_SCOPES)
_MAX_TOPIC = 250  # Slack's limit for topics and purposes (too_long)


def _require_any(ctx: CallContext, options: tuple[str, ...]) -> None:
    assert ctx.token is not None
    if not any(s in ctx.token.scopes for s in options):
        raise SlackError("missing_scope", needed=options[0], provided=",".join(ctx.token.scopes))


def _kind_scopes(channel: Channel, topic: bool) -> tuple[str, ...]:
    """The scopes that let a token change this kind of conversation."""
    if channel.kind == "public":
        return (
            ("channels:write.topic", "channels:manage", "channels:write")
            if topic
            else (
                "channels:manage",
                "channels:write",
            )
        )
    if channel.kind == "private":
        return ("groups:write.topic", "groups:write") if topic else ("groups:write",)
    return ("im:write.topic", "im:write") if channel.kind == "im" else ("mpim:write.topic",)


def _member_channel(ctx: CallContext, *, topic: bool) -> tuple[User, Channel]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    _require_any(ctx, _kind_scopes(channel, topic))
    if channel.is_archived:
        raise SlackError("is_archived")
    if me.id not in channel.members:
        raise SlackError("not_in_channel")
    return me, channel


def _rendered(channel: Channel, me: User) -> dict[str, Any]:
    return render_channel(channel, viewer_id=me.id)


def _set_text(ctx: CallContext, field: str) -> dict[str, Any]:
    me, channel = _member_channel(ctx, topic=True)
    value = str(ctx.require(field))
    if len(value) > _MAX_TOPIC:
        raise SlackError("too_long")
    setattr(channel, field, value)
    ops.post_message(
        ctx.state,
        channel,
        me,
        text=f"<@{me.id}> set the channel {field}: {value}",
        subtype=f"channel_{field}",
    )
    return {"channel": _rendered(channel, me)}


@method("conversations.setTopic", tier=2, scopes=_TOPIC_SCOPES)
async def conversations_set_topic(ctx: CallContext) -> dict[str, Any]:
    return _set_text(ctx, "topic")


@method("conversations.setPurpose", tier=2, scopes=_TOPIC_SCOPES)
async def conversations_set_purpose(ctx: CallContext) -> dict[str, Any]:
    return _set_text(ctx, "purpose")


@method("conversations.rename", tier=2, scopes=_MANAGE_SCOPES)
async def conversations_rename(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    if channel.kind not in {"public", "private"}:
        raise SlackError("method_not_supported_for_channel_type")
    _require_any(ctx, _kind_scopes(channel, topic=False))
    if channel.is_archived:
        raise SlackError("is_archived")
    if me.id not in channel.members:
        raise SlackError("not_in_channel")
    assert ctx.token is not None
    if ctx.token.kind == "user" and me.id != channel.creator and not me.is_admin:
        raise SlackError("not_authorized")
    name = str(ctx.arg("name") or "")
    error = ops.channel_name_error(name)
    if error:
        raise SlackError(error)
    ws = workspace(ctx)
    if any(
        c.name == name and c.id != channel.id and c.kind in {"public", "private"}
        for c in ws.channels.values()
    ):
        raise SlackError("name_taken")
    old = channel.name
    if name != old:
        channel.name = name
        event_ts = ops.new_ts(ctx.state)
        kind = "channel_rename" if channel.kind == "public" else "group_rename"
        event = {
            "type": kind,
            "channel": {"id": channel.id, "name": name, "created": channel.created},
            "event_ts": event_ts,
        }
        # Everyone sees a public channel's new name; a private one's only its members.
        announce(
            ctx.state, kind, channel, {"event": event, "members_only": channel.kind != "public"}
        )
        ops.post_message(
            ctx.state,
            channel,
            me,
            text=f"<@{me.id}> renamed the channel from \u201c{old}\u201d to \u201c{name}\u201d",
            subtype="channel_name",
        )
    return {"channel": _rendered(channel, me)}


@method("conversations.unarchive", tier=2, scopes=_MANAGE_SCOPES)
async def conversations_unarchive(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    if channel.kind not in {"public", "private"}:
        raise SlackError("method_not_supported_for_channel_type")
    _require_any(ctx, _kind_scopes(channel, topic=False))
    if not channel.is_archived:
        raise SlackError("not_archived")
    channel.is_archived = False
    announce(
        ctx.state,
        "channel_unarchive",
        channel,
        {
            "user": me.id,
            "channel_type": channel_letter(channel),
            "event_ts": ops.new_ts(ctx.state),
        },
    )
    if me.id not in channel.members:
        channel.members.append(me.id)
    ops.post_message(
        ctx.state,
        channel,
        me,
        text=f"<@{me.id}> un-archived the channel",
        subtype="channel_unarchive",
    )
    return {}
