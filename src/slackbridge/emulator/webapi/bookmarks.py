"""``bookmarks.add``, ``bookmarks.edit``, ``bookmarks.remove``, ``bookmarks.list``: links in a
conversation's header. Only ``link`` bookmarks can be made through the Web API, as on Slack."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.manifest import is_http_url
from slackbridge.emulator.state import Bookmark, Channel, User
from slackbridge.emulator.webapi.common import caller, resolve_channel
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

_MAX_BOOKMARKS = 100
_MAX_TITLE = 255


def _channel(ctx: CallContext, *, write: bool) -> tuple[User, Channel]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel_id"))
    if write:
        if channel.is_archived:
            raise SlackError("is_archived")
        if me.id not in channel.members:
            raise SlackError("not_in_channel")
    return me, channel


def _render(ctx: CallContext, mark: Bookmark, channel: Channel) -> dict[str, Any]:
    rank = "abcdefghijklmnopqrstuvwxyz"
    index = channel.bookmarks.index(mark) if mark in channel.bookmarks else 0
    return {
        "id": mark.id,
        "channel_id": mark.channel_id,
        "title": mark.title,
        "link": mark.link,
        "emoji": mark.emoji,
        "icon_url": None,
        "type": mark.type,
        "entity_id": mark.entity_id,
        "date_created": mark.date_created,
        "date_updated": mark.date_updated,
        "rank": rank[index % len(rank)] * (1 + index // len(rank)),
        "last_updated_by_user_id": mark.updated_by or mark.created_by,
        "last_updated_by_team_id": channel.team_id,
        "shortcut_id": None,
        "app_id": mark.app_id,
    }


def _title(ctx: CallContext, required: bool) -> str | None:
    title = ctx.require("title") if required else ctx.arg("title")
    if title is None:
        return None
    title = str(title)
    if not title.strip() or len(title) > _MAX_TITLE:
        raise SlackError("invalid_title")
    return title


def _link(ctx: CallContext, required: bool) -> str | None:
    link = ctx.require("link") if required else ctx.arg("link")
    if link is None:
        return None
    if not is_http_url(str(link)):
        raise SlackError("invalid_link")
    return str(link)


def _find(ctx: CallContext, channel: Channel) -> Bookmark:
    wanted = str(ctx.require("bookmark_id"))
    mark = next((b for b in channel.bookmarks if b.id == wanted), None)
    if mark is None:
        raise SlackError("not_found")
    return mark


@method("bookmarks.add", tier=2, scopes=("bookmarks:write",))
async def bookmarks_add(ctx: CallContext) -> dict[str, Any]:
    me, channel = _channel(ctx, write=True)
    kind = str(ctx.require("type"))
    if kind != "link":
        raise SlackError("invalid_bookmark_type")
    title = _title(ctx, required=True)
    link = _link(ctx, required=True)
    assert title is not None and link is not None
    if len(channel.bookmarks) >= _MAX_BOOKMARKS:
        raise SlackError("too_many_bookmarks")
    now = int(ctx.state.now())
    mark = Bookmark(
        id=ctx.state.ids.next("Bk", 11),
        channel_id=channel.id,
        title=title,
        link=link,
        type=kind,
        created_by=me.id,
        date_created=now,
        date_updated=now,
        emoji=str(ctx.arg("emoji")) if ctx.arg("emoji") else None,
        entity_id=str(ctx.arg("entity_id")) if ctx.arg("entity_id") else None,
        app_id=me.app_id,
    )
    channel.bookmarks.append(mark)
    return {"bookmark": _render(ctx, mark, channel)}


@method("bookmarks.edit", tier=2, scopes=("bookmarks:write",))
async def bookmarks_edit(ctx: CallContext) -> dict[str, Any]:
    me, channel = _channel(ctx, write=True)
    mark = _find(ctx, channel)
    title = _title(ctx, required=False)
    link = _link(ctx, required=False)
    if title is not None:
        mark.title = title
    if link is not None:
        mark.link = link
    if ctx.arg("emoji") is not None:
        mark.emoji = str(ctx.arg("emoji"))
    mark.updated_by = me.id
    mark.date_updated = int(ctx.state.now())
    return {"bookmark": _render(ctx, mark, channel)}


@method("bookmarks.remove", tier=2, scopes=("bookmarks:write",))
async def bookmarks_remove(ctx: CallContext) -> dict[str, Any]:
    _, channel = _channel(ctx, write=True)
    channel.bookmarks.remove(_find(ctx, channel))
    return {}


@method("bookmarks.list", tier=3, scopes=("bookmarks:read",))
async def bookmarks_list(ctx: CallContext) -> dict[str, Any]:
    _, channel = _channel(ctx, write=False)
    return {"bookmarks": [_render(ctx, b, channel) for b in channel.bookmarks]}
