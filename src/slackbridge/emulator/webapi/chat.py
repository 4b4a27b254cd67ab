"""``chat.*``: postMessage, update, delete, postEphemeral, getPermalink."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.blocks import is_attachment_list, is_block_list
from slackbridge.emulator.state import Channel, Message, User
from slackbridge.emulator.webapi.args import as_bool, as_json, valid_ts
from slackbridge.emulator.webapi.common import caller, resolve_channel
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

MAX_TEXT = 40_000
_MAX_ATTACHMENTS = 100


def _blocks(ctx: CallContext) -> list[dict[str, Any]] | None:
    raw = ctx.arg("blocks")
    if raw is None:
        return None
    blocks = as_json(raw, error="invalid_blocks_format")
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    if not is_block_list(blocks):
        raise SlackError("invalid_blocks")
    return blocks


def _attachments(ctx: CallContext) -> list[dict[str, Any]] | None:
    raw = ctx.arg("attachments")
    if raw is None:
        return None
    attachments = as_json(raw, error="invalid_attachments")
    if attachments is None:
        return None
    if not is_attachment_list(attachments):
        raise SlackError("invalid_attachments")
    if len(attachments) > _MAX_ATTACHMENTS:
        raise SlackError("too_many_attachments")
    return attachments


def _metadata(ctx: CallContext) -> dict[str, Any] | None:
    raw = as_json(ctx.arg("metadata"), error="invalid_metadata_format")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("event_type"), str):
        raise SlackError("invalid_metadata_format")
    return raw


def _text(ctx: CallContext) -> str | None:
    text = ctx.args.get("text")
    if text is None:
        return None
    text = str(text)
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return text


def _check_post_access(ctx: CallContext, channel: Channel, author: User) -> None:
    if channel.is_archived:
        raise SlackError("is_archived")
    if author.id in channel.members:
        return
    assert ctx.token is not None
    if channel.kind == "public" and author.is_bot and "chat:write.public" in ctx.token.scopes:
        return
    raise SlackError("not_in_channel" if channel.kind == "public" else "channel_not_found")


def _thread_ts(ctx: CallContext) -> str | None:
    raw = ctx.arg("thread_ts")
    if raw is None:
        return None
    if not valid_ts(str(raw)):
        raise SlackError(
            "invalid_thread_ts",
            response_metadata={"messages": [f"[ERROR] {raw} is not a valid thread_ts"]},
        )
    return str(raw)


def _persona(ctx: CallContext, author: User) -> tuple[str | None, dict[str, str] | None]:
    """``username``/``icon_*`` apply only for apps holding chat:write.customize; otherwise Slack
    ignores them and posts under the app's own name."""
    assert ctx.token is not None
    if not author.is_bot or "chat:write.customize" not in ctx.token.scopes:
        return None, None
    username = ctx.arg("username")
    icons: dict[str, str] = {}
    if ctx.arg("icon_emoji"):
        icons["emoji"] = str(ctx.arg("icon_emoji"))
    if ctx.arg("icon_url"):
        icons["image_64"] = str(ctx.arg("icon_url"))
    return (str(username) if username else None), (icons or None)


@method("chat.postMessage", tier="post", scopes=("chat:write",))
async def chat_post_message(ctx: CallContext) -> dict[str, Any]:
    author = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"), open_user_dm=True)
    _check_post_access(ctx, channel, author)
    text = _text(ctx)
    blocks = _blocks(ctx)
    attachments = _attachments(ctx)
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    username, icons = _persona(ctx, author)
    msg = ops.post_message(
        ctx.state,
        channel,
        author,
        text=text or "",
        blocks=blocks,
        attachments=attachments,
        thread_ts=_thread_ts(ctx),
        reply_broadcast=as_bool(ctx.arg("reply_broadcast")),
        username=username,
        icons=icons,
        metadata=_metadata(ctx),
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
    text = _text(ctx)
    blocks = _blocks(ctx)
    attachments = _attachments(ctx)
    if text is None and blocks is None and attachments is None:
        raise SlackError("no_text")
    changes: dict[str, Any] = {}
    if blocks is not None:
        changes["blocks"] = blocks
    if attachments is not None:
        changes["attachments"] = attachments
    metadata = _metadata(ctx)
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
    _check_post_access(ctx, channel, author)
    target = str(ctx.require("user"))
    if target not in channel.members:
        raise SlackError("user_not_in_channel")
    text = _text(ctx)
    blocks = _blocks(ctx)
    attachments = _attachments(ctx)
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    record = ops.post_ephemeral(
        ctx.state,
        channel,
        target,
        author,
        text=text or "",
        blocks=blocks,
        attachments=attachments,
        thread_ts=_thread_ts(ctx),
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
