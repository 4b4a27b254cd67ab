"""Streaming messages for AI apps: ``chat.startStream``, ``chat.appendStream``,
``chat.stopStream``.

startStream posts the app's message (announced as a new message) and keeps it in streaming
state; appendStream adds markdown to it (given as ``markdown_text`` or as ``chunks`` of type
``markdown_text``, up to 12,000 characters a call); stopStream adds the last text, up to 50
``blocks`` and ``metadata``, and ends the stream. Outside DMs ``recipient_user_id`` and
``recipient_team_id`` are required, as on Slack. Appending to or stopping a stream that has
ended answers ``message_not_in_streaming_state``.
"""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.blocks import is_block_list
from slackbridge.emulator.state import Channel, Message, Stream, User
from slackbridge.emulator.webapi.args import as_json, invalid_args
from slackbridge.emulator.webapi.common import caller, resolve_channel
from slackbridge.emulator.webapi.message_args import (
    check_post_access,
    metadata_arg,
    thread_ts_arg,
)
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

MAX_MARKDOWN = 12_000
_MAX_BLOCKS = 50
_CHUNK_TYPES = {"markdown_text", "task_update", "plan_update", "blocks"}


def _markdown(ctx: CallContext) -> str:
    """The markdown a call adds: ``markdown_text`` plus the text of ``markdown_text`` chunks."""
    text = ctx.arg("markdown_text")
    parts = [str(text)] if text is not None else []
    chunks = as_json(ctx.arg("chunks"), error="invalid_chunks")
    if chunks is not None:
        if not isinstance(chunks, list) or not all(
            isinstance(c, dict) and c.get("type") in _CHUNK_TYPES for c in chunks
        ):
            raise SlackError("invalid_chunks")
        for chunk in chunks:
            if chunk["type"] == "markdown_text":
                if not isinstance(chunk.get("text"), str):
                    raise SlackError("invalid_chunks")
                parts.append(chunk["text"])
    added = "".join(parts)
    if len(added) > MAX_MARKDOWN:
        raise SlackError("msg_too_long")
    return added


def _bot(ctx: CallContext) -> User:
    me = caller(ctx)
    assert ctx.token is not None
    if ctx.token.kind != "bot":
        raise SlackError("not_allowed_token_type")
    return me


def _stream(ctx: CallContext) -> tuple[Channel, Message, Stream]:
    me = _bot(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    ts = str(ctx.require("ts"))
    msg = ops.find_message(channel, ts)
    stream = ctx.state.streams.get((channel.id, ts))
    if stream is None or msg.user != me.id:
        raise SlackError("message_not_in_streaming_state")
    if not stream.open:
        raise SlackError("message_not_in_streaming_state")
    return channel, msg, stream


@method("chat.startStream", tier=2, scopes=("chat:write",))
async def chat_start_stream(ctx: CallContext) -> dict[str, Any]:
    me = _bot(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"), open_user_dm=True)
    check_post_access(ctx, channel, me)
    recipient = ctx.arg("recipient_user_id")
    if channel.kind != "im":
        if not recipient:
            raise invalid_args("missing required field: recipient_user_id")
        if not ctx.arg("recipient_team_id"):
            raise invalid_args("missing required field: recipient_team_id")
        if str(ctx.arg("recipient_team_id")) != channel.team_id:
            raise SlackError("team_not_found")
        if str(recipient) not in channel.members:
            raise SlackError("user_not_found")
    text = _markdown(ctx)
    msg = ops.post_message(ctx.state, channel, me, text=text, thread_ts=thread_ts_arg(ctx))
    ctx.state.streams[(channel.id, msg.ts)] = Stream(
        channel_id=channel.id,
        ts=msg.ts,
        team_id=channel.team_id,
        app_id=me.app_id,
        recipient_user_id=str(recipient) if recipient else None,
    )
    return {"channel": channel.id, "ts": msg.ts}


@method("chat.appendStream", tier=4, scopes=("chat:write",))
async def chat_append_stream(ctx: CallContext) -> dict[str, Any]:
    channel, msg, _ = _stream(ctx)
    added = _markdown(ctx)
    if not added:
        raise invalid_args("missing required field: markdown_text")
    msg.text += added
    return {"channel": channel.id, "ts": msg.ts}


@method("chat.stopStream", tier=2, scopes=("chat:write",))
async def chat_stop_stream(ctx: CallContext) -> dict[str, Any]:
    channel, msg, stream = _stream(ctx)
    added = _markdown(ctx)
    blocks = as_json(ctx.arg("blocks"), error="invalid_blocks_format")
    if blocks is not None:
        if not isinstance(blocks, list) or not is_block_list(blocks):
            raise SlackError("invalid_blocks")
        if len(blocks) > _MAX_BLOCKS:
            raise SlackError("invalid_blocks")
    metadata = metadata_arg(ctx)
    msg.text += added
    if blocks:
        msg.blocks = [*(msg.blocks or []), *blocks]
    if metadata is not None:
        msg.metadata = metadata
    stream.open = False
    return {
        "channel": channel.id,
        "ts": msg.ts,
        "message": ops.message_json(ctx.state, channel, msg),
    }
