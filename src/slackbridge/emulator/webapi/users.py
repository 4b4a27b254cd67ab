"""``users.*``: info, list, lookupByEmail, profile.get, profile.set."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.ops_users import change_user
from slackbridge.emulator.render import render_profile, render_user
from slackbridge.emulator.state import User
from slackbridge.emulator.webapi.args import as_bool, as_json, page
from slackbridge.emulator.webapi.common import caller, workspace
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

# Profile fields users.profile.set may change, mapped to User attributes.
_PROFILE_FIELDS = {
    "real_name": "real_name",
    "display_name": "display_name",
    "title": "title",
    "status_text": "status_text",
    "status_emoji": "status_emoji",
}


def _sees_email(ctx: CallContext) -> bool:
    assert ctx.token is not None
    return "users:read.email" in ctx.token.scopes


def _user_json(ctx: CallContext, user: User) -> dict[str, Any]:
    out = render_user(user, include_email=_sees_email(ctx))
    if as_bool(ctx.arg("include_locale")):
        out["locale"] = "en-US"
    return out


@method("users.info", tier=4, scopes=("users:read",))
async def users_info(ctx: CallContext) -> dict[str, Any]:
    user = workspace(ctx).users.get(str(ctx.require("user")))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": _user_json(ctx, user)}


@method("users.list", tier=2, scopes=("users:read",))
async def users_list(ctx: CallContext) -> dict[str, Any]:
    users = list(workspace(ctx).users.values())
    chunk, cursor = page(ctx, users, kind="users", default_limit=1000)
    return {
        "members": [_user_json(ctx, u) for u in chunk],
        "cache_ts": int(ctx.state.now()),
        "response_metadata": {"next_cursor": cursor},
    }


@method("users.lookupByEmail", tier=3, scopes=("users:read.email",))
async def users_lookup_by_email(ctx: CallContext) -> dict[str, Any]:
    email = str(ctx.require("email")).strip().lower()
    for user in workspace(ctx).users.values():
        if user.email and user.email.lower() == email and not user.deleted:
            return {"user": _user_json(ctx, user)}
    raise SlackError("users_not_found")


@method("users.profile.get", tier=4, scopes=("users.profile:read",))
async def users_profile_get(ctx: CallContext) -> dict[str, Any]:
    who = ctx.arg("user")
    user = workspace(ctx).users.get(str(who)) if who else caller(ctx)
    if user is None:
        raise SlackError("user_not_found")
    return {"profile": render_profile(user, include_email=_sees_email(ctx))}


@method("users.profile.set", tier=3, scopes=("users.profile:write",))
async def users_profile_set(ctx: CallContext) -> dict[str, Any]:
    assert ctx.token is not None
    if ctx.token.kind != "user":
        raise SlackError("not_allowed_token_type")
    me = caller(ctx)
    target = me
    who = ctx.arg("user")
    if who and who != me.id:
        if not me.is_admin:
            raise SlackError("not_admin")
        found = workspace(ctx).users.get(str(who))
        if found is None:
            raise SlackError("user_not_found")
        if found.is_owner and not me.is_owner:
            raise SlackError("cannot_update_admin_user")
        target = found
    changes: dict[str, Any] = {}
    profile = as_json(ctx.arg("profile"), error="invalid_profile")
    if profile is not None:
        if not isinstance(profile, dict):
            raise SlackError("invalid_profile")
        changes.update(profile)
    name = ctx.arg("name")
    if name:
        changes[str(name)] = ctx.args.get("value", "")
    if not changes:
        raise SlackError("invalid_profile")
    updates: dict[str, str] = {}
    for key, value in changes.items():
        attr = _PROFILE_FIELDS.get(key)
        if attr is None:
            # Slack rejects profile fields it does not know.
            raise SlackError("invalid_profile")
        updates[attr] = "" if value is None else str(value)
    change_user(ctx.state, target, updates)
    return {"username": target.name, "profile": render_profile(target, include_email=True)}
