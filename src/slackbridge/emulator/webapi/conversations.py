"""``conversations.*``: list, info, members, history, replies, create, join, invite, open,
archive, kick, leave; and ``users.conversations``."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.metadata import for_history
from slackbridge.emulator.render import render_channel
from slackbridge.emulator.state import Channel, Message, User
from slackbridge.emulator.webapi.args import (
    as_bool,
    as_float,
    as_int,
    as_list,
    decode_cursor,
    encode_cursor,
    page,
    valid_ts,
)
from slackbridge.emulator.webapi.common import (
    KIND_SCOPES,
    caller,
    can_see,
    channel_for_read,
    require_kind_scope,
    resolve_channel,
    workspace,
)
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

_READ_SCOPES = ("channels:read", "groups:read", "im:read", "mpim:read")
_HISTORY_SCOPES = ("channels:history", "groups:history", "im:history", "mpim:history")
_MANAGE_SCOPES = ("channels:manage", "groups:write", "channels:write")
_TYPE_KINDS = {"public_channel": "public", "private_channel": "private", "im": "im", "mpim": "mpim"}


def _render(ctx: CallContext, channel: Channel, me: User, *, num_members: bool) -> dict[str, Any]:
    other = None
    if channel.kind == "im":
        other = next((m for m in channel.members if m != me.id), me.id)
    return render_channel(
        channel, viewer_id=me.id, num_members=num_members and channel.kind != "im", im_user=other
    )


def _kinds(ctx: CallContext) -> list[str]:
    types = as_list(ctx.arg("types")) or ["public_channel"]
    kinds = []
    for name in types:
        kind = _TYPE_KINDS.get(name)
        if kind is None:
            raise SlackError("invalid_types")
        _require_read_scope(ctx, kind)
        kinds.append(kind)
    return kinds


def _require_read_scope(ctx: CallContext, kind: str) -> None:
    assert ctx.token is not None
    needed = f"{KIND_SCOPES[kind]}:read"
    if needed not in ctx.token.scopes:
        raise SlackError("missing_scope", needed=needed, provided=",".join(ctx.token.scopes))


def _listing(ctx: CallContext, member: User, *, only_member: bool) -> dict[str, Any]:
    me = caller(ctx)
    kinds = _kinds(ctx)
    exclude_archived = as_bool(ctx.arg("exclude_archived"))
    found = [
        c
        for c in workspace(ctx).channels.values()
        if c.kind in kinds
        and can_see(c, me)
        and (member.id in c.members or not only_member)
        and not (exclude_archived and c.is_archived)
    ]
    chunk, cursor = page(ctx, found, kind="conversations", default_limit=100)
    return {
        "channels": [_render(ctx, c, me, num_members=True) for c in chunk],
        "response_metadata": {"next_cursor": cursor},
    }


@method("conversations.list", tier=2, scopes=_READ_SCOPES)
async def conversations_list(ctx: CallContext) -> dict[str, Any]:
    return _listing(ctx, caller(ctx), only_member=False)


@method("users.conversations", tier=3, scopes=_READ_SCOPES)
async def users_conversations(ctx: CallContext) -> dict[str, Any]:
    ws = workspace(ctx)
    who = str(ctx.arg("user") or caller(ctx).id)
    member = ws.users.get(who)
    if member is None:
        raise SlackError("user_not_found")
    return _listing(ctx, member, only_member=True)


@method("conversations.info", tier=3, scopes=_READ_SCOPES)
async def conversations_info(ctx: CallContext) -> dict[str, Any]:
    channel = channel_for_read(ctx, ctx.require("channel"), "read")
    num = as_bool(ctx.arg("include_num_members"))
    out = _render(ctx, channel, caller(ctx), num_members=num)
    if as_bool(ctx.arg("include_locale")):
        out["locale"] = "en-US"
    return {"channel": out}


@method("conversations.members", tier=4, scopes=_READ_SCOPES)
async def conversations_members(ctx: CallContext) -> dict[str, Any]:
    channel = channel_for_read(ctx, ctx.require("channel"), "read")
    chunk, cursor = page(ctx, channel.members, kind="members", default_limit=100)
    return {"members": chunk, "response_metadata": {"next_cursor": cursor}}


def _history_channel(ctx: CallContext) -> Channel:
    channel = resolve_channel(ctx, ctx.require("channel"))
    require_kind_scope(ctx, channel, "history")
    me = caller(ctx)
    if me.is_bot and me.id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


def _window(ctx: CallContext) -> tuple[float | None, float | None, bool]:
    latest = as_float(ctx.arg("latest"), error="invalid_ts_latest")
    oldest = as_float(ctx.arg("oldest"), error="invalid_ts_oldest")
    return latest, oldest, as_bool(ctx.arg("inclusive"))


def _in_window(ts: str, latest: float | None, oldest: float | None, inclusive: bool) -> bool:
    value = float(ts)
    if latest is not None and (value > latest or (value == latest and not inclusive)):
        return False
    return not (oldest is not None and (value < oldest or (value == oldest and not inclusive)))


@method("conversations.history", tier=3, scopes=_HISTORY_SCOPES)
async def conversations_history(ctx: CallContext) -> dict[str, Any]:
    channel = _history_channel(ctx)
    latest, oldest, inclusive = _window(ctx)
    page_max = ctx.state.rate_limiter.history_page_max or 999
    limit = min(max(as_int(ctx.arg("limit"), "limit", 100), 1), 999, page_max)
    visible = [
        m
        for m in reversed(channel.messages)
        if (not m.thread_ts or m.thread_ts == m.ts or m.subtype == "thread_broadcast")
        and _in_window(m.ts, latest, oldest, inclusive)
    ]
    # Slack pages by time: with ``oldest`` and no ``latest`` the page holds the messages nearest
    # ``oldest`` (still newest first) and the cursor moves forward in time; otherwise it starts
    # at the newest message and moves back.
    forward = oldest is not None and latest is None
    chunk, has_more, next_cursor = (_page_forward if forward else _page_back)(ctx, visible, limit)
    out: dict[str, Any] = {
        "messages": _shown(ctx, channel, chunk),
        "has_more": has_more,
        "pin_count": len(channel.pins),
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }
    if ctx.arg("latest") is not None:
        out["latest"] = str(ctx.arg("latest"))
    return out


def _shown(ctx: CallContext, channel: Channel, messages: list[Message]) -> list[dict[str, Any]]:
    """Messages as history/replies render them: metadata payloads only with
    ``include_all_metadata`` (see ``metadata.py``)."""
    include_all = as_bool(ctx.arg("include_all_metadata"))
    return [
        for_history(ops.message_json(ctx.state, channel, m), include_all=include_all)
        for m in messages
    ]


_Page = tuple[list[Message], bool, str]


def _page_back(ctx: CallContext, newest_first: list[Message], limit: int) -> _Page:
    cursor = ctx.arg("cursor")
    if cursor:
        # The cursor names the newest message of the next page, so new posts don't shift pages.
        start_ts = decode_cursor(str(cursor), "next_ts")
        if not valid_ts(start_ts):
            raise SlackError("invalid_cursor")
        newest_first = [m for m in newest_first if float(m.ts) <= float(start_ts)]
    has_more = len(newest_first) > limit
    next_cursor = encode_cursor("next_ts", newest_first[limit].ts) if has_more else ""
    return newest_first[:limit], has_more, next_cursor


def _page_forward(ctx: CallContext, newest_first: list[Message], limit: int) -> _Page:
    oldest_first = newest_first[::-1]
    cursor = ctx.arg("cursor")
    if cursor:
        # The cursor names the oldest message of the next (newer) page.
        start_ts = decode_cursor(str(cursor), "after_ts")
        if not valid_ts(start_ts):
            raise SlackError("invalid_cursor")
        oldest_first = [m for m in oldest_first if float(m.ts) >= float(start_ts)]
    has_more = len(oldest_first) > limit
    next_cursor = encode_cursor("after_ts", oldest_first[limit].ts) if has_more else ""
    return oldest_first[:limit][::-1], has_more, next_cursor


@method("conversations.replies", tier=3, scopes=_HISTORY_SCOPES)
async def conversations_replies(ctx: CallContext) -> dict[str, Any]:
    channel = _history_channel(ctx)
    msg = ops.thread_root(channel, str(ctx.require("ts")))
    latest, oldest, inclusive = _window(ctx)
    thread: list[Message] = ops.thread_of(channel, msg)
    # The parent always leads the page, as Slack returns it; the window filters replies.
    replies = [m for m in thread[1:] if _in_window(m.ts, latest, oldest, inclusive)]
    page_max = ctx.state.rate_limiter.history_page_max
    chunk, cursor = page(
        ctx,
        replies,
        kind="replies",
        default_limit=page_max or 1000,
        max_limit=page_max or 1000,
    )
    first_page = not ctx.arg("cursor")
    messages = ([thread[0]] if first_page else []) + chunk
    return {
        "messages": _shown(ctx, channel, messages),
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def _manage_scope(ctx: CallContext, private: bool) -> None:
    assert ctx.token is not None
    options = ("groups:write",) if private else ("channels:manage", "channels:write")
    if not any(s in ctx.token.scopes for s in options):
        raise SlackError("missing_scope", needed=options[0], provided=",".join(ctx.token.scopes))


@method("conversations.create", tier=2, scopes=_MANAGE_SCOPES)
async def conversations_create(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    private = as_bool(ctx.arg("is_private"))
    _manage_scope(ctx, private)
    name = str(ctx.arg("name") or "")
    channel = ops.create_channel(ctx.state, workspace(ctx).id, name, me.id, private=private)
    return {"channel": _render(ctx, channel, me, num_members=False)}


def _managed_channel(ctx: CallContext) -> tuple[User, Channel]:
    """The caller and the channel (not a DM) named by ``channel`` that invite, kick and archive
    act on, once the token holds the scope to manage that kind of channel."""
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    if channel.kind not in {"public", "private"}:
        raise SlackError("method_not_supported_for_channel_type")
    _manage_scope(ctx, channel.kind == "private")
    return me, channel


@method("conversations.join", tier=3, scopes=("channels:join", "channels:write"))
async def conversations_join(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    if channel.kind != "public":
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    out: dict[str, Any] = {}
    if not ops.join_channel(ctx.state, channel, me):
        ctx.warnings.append("already_in_channel")
    out["channel"] = _render(ctx, channel, me, num_members=False)
    return out


@method("conversations.invite", tier=3, scopes=_MANAGE_SCOPES)
async def conversations_invite(ctx: CallContext) -> dict[str, Any]:
    me, channel = _managed_channel(ctx)
    user_ids = as_list(ctx.arg("users"))
    if not user_ids:
        raise SlackError("no_user")
    if len(user_ids) > 1000:
        raise SlackError("too_many_users")
    if channel.is_archived:
        raise SlackError("is_archived")
    if me.id not in channel.members:
        raise SlackError("not_in_channel")
    ws = workspace(ctx)
    invitees = []
    for uid in user_ids:
        if uid == me.id:
            raise SlackError("cant_invite_self")
        user = ws.users.get(uid)
        if user is None or user.deleted:
            raise SlackError("user_not_found")
        invitees.append(user)
    if all(u.id in channel.members for u in invitees):
        raise SlackError("already_in_channel")
    for user in invitees:
        ops.join_channel(ctx.state, channel, user, inviter=me.id)
    return {"channel": _render(ctx, channel, me, num_members=False)}


@method(
    "conversations.open",
    tier=3,
    scopes=("im:write", "mpim:write", "channels:manage", "groups:write"),
)
async def conversations_open(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    ws = workspace(ctx)
    channel_ref = ctx.arg("channel")
    user_ids = as_list(ctx.arg("users"))
    if channel_ref:
        channel = resolve_channel(ctx, channel_ref)
        if channel.kind not in {"im", "mpim"}:
            raise SlackError("method_not_supported_for_channel_type")
        created = False
    elif user_ids:
        if len(user_ids) > 8:
            raise SlackError("too_many_users")
        for uid in user_ids:
            user = ws.users.get(uid)
            if user is None:
                raise SlackError("user_not_found")
            if user.deleted:
                raise SlackError("user_disabled")
        members = list(dict.fromkeys([me.id, *user_ids]))
        if len(members) <= 2:
            other = next((u for u in members if u != me.id), me.id)
            channel, created = ops.open_dm(ctx.state, ws.id, me.id, other)
        else:
            channel, created = ops.open_mpim(ctx.state, ws.id, members, creator=me.id)
    else:
        raise SlackError("users_list_not_supplied")
    out: dict[str, Any] = {}
    if not created:
        out["no_op"] = True
        out["already_open"] = True
    if as_bool(ctx.arg("return_im")) or channel.kind == "mpim":
        out["channel"] = _render(ctx, channel, me, num_members=False)
    else:
        out["channel"] = {"id": channel.id}
    return out


@method("conversations.archive", tier=2, scopes=_MANAGE_SCOPES)
async def conversations_archive(ctx: CallContext) -> dict[str, Any]:
    me, channel = _managed_channel(ctx)
    if channel.is_general:
        raise SlackError("cant_archive_general")
    ops.archive_channel(ctx.state, channel, me.id)
    return {}


@method("conversations.kick", tier=3, scopes=_MANAGE_SCOPES)
async def conversations_kick(ctx: CallContext) -> dict[str, Any]:
    me, channel = _managed_channel(ctx)
    target = str(ctx.require("user"))
    if target == me.id:
        raise SlackError("cant_kick_self")
    if workspace(ctx).users.get(target) is None:
        raise SlackError("user_not_found")
    if channel.is_general:
        raise SlackError("cant_kick_from_general")
    if not ops.kick_from_channel(ctx.state, channel, target):
        raise SlackError("not_in_channel")
    return {}


@method("conversations.leave", tier=3, scopes=_MANAGE_SCOPES)
async def conversations_leave(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel"))
    if channel.kind == "im":
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_general:
        raise SlackError("cant_leave_general")
    if not ops.kick_from_channel(ctx.state, channel, me.id):
        return {"not_in_channel": True}
    return {}
