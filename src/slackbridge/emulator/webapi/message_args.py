"""Reading a message's arguments as chat.postMessage and its relatives take them: text,
blocks, attachments, metadata, thread_ts, persona; and who may post where."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.blocks import is_attachment_list, is_block_list
from slackbridge.emulator.state import Channel, User
from slackbridge.emulator.webapi.args import as_json, valid_ts
from slackbridge.emulator.webapi.registry import CallContext, SlackError

__all__ = [
    "MAX_TEXT",
    "attachments_arg",
    "blocks_arg",
    "check_post_access",
    "content_args",
    "metadata_arg",
    "persona_args",
    "text_arg",
    "thread_ts_arg",
]

MAX_TEXT = 40_000
_MAX_ATTACHMENTS = 100


def blocks_arg(ctx: CallContext) -> list[dict[str, Any]] | None:
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


def attachments_arg(ctx: CallContext) -> list[dict[str, Any]] | None:
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


def metadata_arg(ctx: CallContext) -> dict[str, Any] | None:
    raw = as_json(ctx.arg("metadata"), error="invalid_metadata_format")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("event_type"), str):
        raise SlackError("invalid_metadata_format")
    return raw


def text_arg(ctx: CallContext) -> str | None:
    text = ctx.args.get("text")
    if text is None:
        return None
    text = str(text)
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return text


def content_args(
    ctx: CallContext,
) -> tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """A new message's text (``""`` when absent), blocks and attachments; ``no_text`` when it
    would have none of them (chat.update, which keeps what is not given, reads them itself)."""
    text = text_arg(ctx)
    blocks = blocks_arg(ctx)
    attachments = attachments_arg(ctx)
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    return text or "", blocks, attachments


def check_post_access(ctx: CallContext, channel: Channel, author: User) -> None:
    if channel.is_archived:
        raise SlackError("is_archived")
    if author.id in channel.members:
        return
    assert ctx.token is not None
    if channel.kind == "public" and author.is_bot and "chat:write.public" in ctx.token.scopes:
        return
    raise SlackError("not_in_channel" if channel.kind == "public" else "channel_not_found")


def thread_ts_arg(ctx: CallContext) -> str | None:
    raw = ctx.arg("thread_ts")
    if raw is None:
        return None
    if not valid_ts(str(raw)):
        raise SlackError(
            "invalid_thread_ts",
            response_metadata={"messages": [f"[ERROR] {raw} is not a valid thread_ts"]},
        )
    return str(raw)


def persona_args(ctx: CallContext, author: User) -> tuple[str | None, dict[str, str] | None]:
    """``username``/``icon_*`` apply only for apps holding chat:write.customize; otherwise Slack
    ignores them and posts under the app's own name."""
    assert ctx.token is not None
    if not author.is_bot or "chat:write.customize" not in ctx.token.scopes:
        return None, None
    username = ctx.arg("username")
    icons: dict[str, str] = {}
    # As on Slack, icon_emoji wins over icon_url; an image is shown at Slack's icon sizes.
    if ctx.arg("icon_emoji"):
        icons["emoji"] = str(ctx.arg("icon_emoji"))
    elif ctx.arg("icon_url"):
        url = str(ctx.arg("icon_url"))
        icons = {"image_36": url, "image_48": url, "image_72": url}
    return (str(username) if username else None), (icons or None)
