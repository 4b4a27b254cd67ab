"""``chat.*``: postMessage, update, delete, postEphemeral, getPermalink."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.state import Channel, Message, User
from slackbridge.emulator.webapi.args import as_bool
from slackbridge.emulator.webapi.common import caller, resolve_channel
from slackbridge.emulator.webapi.message_args import (
    MAX_TEXT,
    attachments_arg,
    blocks_arg,
    check_post_access,
    content_args,
    metadata_arg,
    persona_args,
    text_arg,
    thread_ts_arg,
)
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__ = ["MAX_TEXT", "permalink"]


@method("chat.postMessage", tier="post", scopes=("chat:write",))
async def chat_post_message(ctx: CallContext) -> dict[str, Any]:
    author = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"), open_user_dm=True)
    check_post_access(ctx, channel, author)
    text, blocks, attachments = content_args(ctx)
    username, icons = persona_args(ctx, author)
    msg = ops.post_message(
        ctx.state,
        channel,
        author,
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts_arg(ctx),
        reply_broadcast=as_bool(ctx.arg("reply_broadcast")),
        username=username,
        icons=icons,
        metadata=metadata_arg(ctx),
    )
    return {
        "channel": channel.id,
        "ts": msg.ts,
        "message": ops.message_json(ctx.state, channel, msg),
    }


def _own_message(ctx: CallContext, msg: Message, me: User, error: str) -> None:
    mine = msg.user == me.id or (me.is_bot and me.bot_id is not None and msg.bot_id == me.bot_id)
    assert ctx.token is not None
    admin_override = error == "cant_delete_message" and ctx.token.kind == "user" and me.is_admin
    if not mine and not admin_override:
        raise SlackError(error)


@method("chat.update", tier=3, scopes=("chat:write",))
async def chat_update(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    msg = ops.find_message(channel, str(ctx.require("ts")))
    _own_message(ctx, msg, me, "cant_update_message")
    if channel.is_archived:
        raise SlackError("is_archived")
    text = text_arg(ctx)
    blocks = blocks_arg(ctx)
    attachments = attachments_arg(ctx)
    if text is None and blocks is None and attachments is None:
        raise SlackError("no_text")
    changes: dict[str, Any] = {}
    if blocks is not None:
        changes["blocks"] = blocks
    if attachments is not None:
        changes["attachments"] = attachments
    metadata = metadata_arg(ctx)
    if metadata is not None:
        changes["metadata"] = metadata
    ops.edit_message(ctx.state, channel, msg.ts, me, text=text, **changes)
    rendered = ops.message_json(ctx.state, channel, msg)
    return {"channel": channel.id, "ts": msg.ts, "text": msg.text, "message": rendered}


@method("chat.delete", tier=3, scopes=("chat:write",))
async def chat_delete(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    msg = ops.find_message(channel, str(ctx.require("ts")))
    _own_message(ctx, msg, me, "cant_delete_message")
    ops.delete_message(ctx.state, channel, msg.ts)
    return {"channel": channel.id, "ts": msg.ts}


@method("chat.postEphemeral", tier=4, scopes=("chat:write",))
async def chat_post_ephemeral(ctx: CallContext) -> dict[str, Any]:
    author = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"), open_user_dm=True)
    check_post_access(ctx, channel, author)
    target = str(ctx.require("user"))
    if target not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks, attachments = content_args(ctx)
    record = ops.post_ephemeral(
        ctx.state,
        channel,
        target,
        author,
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts_arg(ctx),
    )
    ts = record["ts"]
    return {"message_ts": ts}


def permalink(base_url: str, channel: Channel, msg: Message) -> str:
    link = f"{base_url}/archives/{channel.id}/p{msg.ts.replace('.', '')}"
    if msg.thread_ts and msg.thread_ts != msg.ts:
        link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
    return link


@method("chat.getPermalink", tier=4)
async def chat_get_permalink(ctx: CallContext) -> dict[str, Any]:
    channel = resolve_channel(ctx, ctx.require("channel"))
    msg = ops.find_message(channel, str(ctx.require("message_ts")))
    return {"channel": channel.id, "permalink": permalink(ops.base_url(ctx.state), channel, msg)}
