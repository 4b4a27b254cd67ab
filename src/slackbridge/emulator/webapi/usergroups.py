"""``usergroups.*``: a workspace's user groups (``@handle`` mentions) and their members.

create, list, update, disable, enable, users.list and users.update, with Slack's answer shape
(``usergroup`` objects with ``prefs``, ``users`` and ``user_count``) and errors.
"""

from __future__ import annotations

import re
from typing import Any

from slackbridge.emulator.state import User, Usergroup
from slackbridge.emulator.webapi.args import as_bool, as_list
from slackbridge.emulator.webapi.common import caller, workspace
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,20}$")


def render_usergroup(group: Usergroup, *, include_users: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": group.id,
        "team_id": group.team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": group.name,
        "description": group.description,
        "handle": group.handle,
        "is_external": False,
        "date_create": group.date_create,
        "date_update": group.date_update,
        "date_delete": group.date_delete,
        "auto_type": None,
        "auto_provision": False,
        "enterprise_subteam_id": "",
        "created_by": group.created_by,
        "updated_by": group.updated_by,
        "deleted_by": group.deleted_by,
        "prefs": {"channels": list(group.channels), "groups": []},
        "user_count": len(group.users),
        "channel_count": len(group.channels),
    }
    if include_users:
        out["users"] = list(group.users)
    return out


def _groups(ctx: CallContext) -> list[Usergroup]:
    team_id = workspace(ctx).id
    return [g for g in ctx.state.usergroups.values() if g.team_id == team_id]


def _group(ctx: CallContext) -> Usergroup:
    wanted = str(ctx.require("usergroup"))
    group = next((g for g in _groups(ctx) if g.id == wanted), None)
    if group is None:
        raise SlackError("no_such_subteam")
    return group


def _check_names(ctx: CallContext, name: str | None, handle: str | None, own: str = "") -> None:
    ws = workspace(ctx)
    others = [g for g in _groups(ctx) if g.id != own]
    if name is not None:
        if not name.strip():
            raise SlackError("invalid_name")
        if any(g.name == name for g in others):
            raise SlackError("name_already_exists")
    if handle is not None:
        if not _HANDLE.match(handle):
            raise SlackError("invalid_handle")
        taken = any(u.name == handle for u in ws.users.values()) or any(
            c.name == handle for c in ws.channels.values()
        )
        if any(g.handle == handle for g in others) or taken:
            raise SlackError("handle_already_exists")


def _channels(ctx: CallContext) -> list[str] | None:
    raw = ctx.arg("channels")
    if raw is None:
        return None
    ids = as_list(raw)
    ws = workspace(ctx)
    for channel_id in ids:
        channel = ws.channels.get(channel_id)
        if channel is None or channel.kind not in ("public", "private"):
            raise SlackError("channel_not_found")
    return ids


def _touch(ctx: CallContext, group: Usergroup, me: User) -> None:
    group.updated_by = me.id
    group.date_update = int(ctx.state.now())


def _answer(ctx: CallContext, group: Usergroup) -> dict[str, Any]:
    include = as_bool(ctx.arg("include_count"), True)
    out = render_usergroup(group)
    if not include:
        out.pop("user_count", None)
    return {"usergroup": out}


@method("usergroups.create", tier=2, scopes=("usergroups:write",))
async def usergroups_create(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    name = str(ctx.require("name"))
    handle = str(ctx.arg("handle") or re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-"))
    _check_names(ctx, name, handle)
    now = int(ctx.state.now())
    group = Usergroup(
        id=ctx.state.ids.next("S", 10),
        team_id=workspace(ctx).id,
        name=name,
        handle=handle,
        description=str(ctx.arg("description") or ""),
        created_by=me.id,
        date_create=now,
        channels=_channels(ctx) or [],
        updated_by=me.id,
        date_update=now,
    )
    ctx.state.usergroups[group.id] = group
    return _answer(ctx, group)


@method("usergroups.list", tier=2, scopes=("usergroups:read",))
async def usergroups_list(ctx: CallContext) -> dict[str, Any]:
    include_disabled = as_bool(ctx.arg("include_disabled"))
    include_users = as_bool(ctx.arg("include_users"))
    include_count = as_bool(ctx.arg("include_count"))
    out = []
    for group in _groups(ctx):
        if group.date_delete and not include_disabled:
            continue
        rendered = render_usergroup(group, include_users=include_users)
        if not include_count:
            rendered.pop("user_count", None)
        out.append(rendered)
    return {"usergroups": out}


@method("usergroups.update", tier=2, scopes=("usergroups:write",))
async def usergroups_update(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    group = _group(ctx)
    name = ctx.arg("name")
    handle = ctx.arg("handle")
    _check_names(
        ctx, None if name is None else str(name), None if handle is None else str(handle), group.id
    )
    if name is not None:
        group.name = str(name)
    if handle is not None:
        group.handle = str(handle)
    if ctx.arg("description") is not None:
        group.description = str(ctx.arg("description"))
    channels = _channels(ctx)
    if channels is not None:
        group.channels = channels
    _touch(ctx, group, me)
    return _answer(ctx, group)


@method("usergroups.disable", tier=2, scopes=("usergroups:write",))
async def usergroups_disable(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    group = _group(ctx)
    if group.date_delete:
        raise SlackError("no_such_subteam")
    _touch(ctx, group, me)
    group.date_delete = group.date_update
    group.deleted_by = me.id
    return _answer(ctx, group)


@method("usergroups.enable", tier=2, scopes=("usergroups:write",))
async def usergroups_enable(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    group = _group(ctx)
    if not group.date_delete:
        raise SlackError("already_enabled")
    group.date_delete = 0
    group.deleted_by = None
    _touch(ctx, group, me)
    return _answer(ctx, group)


@method("usergroups.users.list", tier=2, scopes=("usergroups:read",))
async def usergroups_users_list(ctx: CallContext) -> dict[str, Any]:
    group = _group(ctx)
    if group.date_delete and not as_bool(ctx.arg("include_disabled")):
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}


@method("usergroups.users.update", tier=2, scopes=("usergroups:write",))
async def usergroups_users_update(ctx: CallContext) -> dict[str, Any]:
    me = caller(ctx)
    group = _group(ctx)
    ids = as_list(ctx.require("users"))
    ws = workspace(ctx)
    for user_id in ids:
        user = ws.users.get(user_id)
        if user is None or user.deleted:
            raise SlackError("invalid_users")
    if not ids:
        raise SlackError("no_users_provided")
    group.users = list(dict.fromkeys(ids))
    _touch(ctx, group, me)
    return _answer(ctx, group)
