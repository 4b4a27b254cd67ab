"""``/workspaces/{team_id}/users``: Slack users by id or email, from the user cache.

A cached answer younger than ``SLACKBRIDGE_USER_CACHE_TTL`` seconds is served without asking
Slack; otherwise ``users.info`` / ``users.lookupByEmail`` is called (inside the rate limiter) and
the answer cached. ``refresh=true`` skips the cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from slackbridge.api.auth import Caller, ReadCaller
from slackbridge.api.common import call_slack, locate, slack_refusal
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas import AppId, SlackUser, TeamId, UserId
from slackbridge.runtime import Gateway, gateway_of
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.users import CachedUser, UsersRepository

__all__ = ["cached_user", "router"]

router = APIRouter(prefix="/workspaces/{team_id}/users", tags=["users"])

_ERRORS = error_responses(
    "workspace_forbidden",
    "workspace_not_found",
    "user_not_found",
    "rate_limited",
    "slack_error",
    "slack_unavailable",
    "workspace_disconnected",
    "workspace_uninstalled",
)
_NOT_FOUND = frozenset({"user_not_found", "users_not_found"})
TeamPath = Annotated[TeamId, Path(description="the Slack workspace id (T…)")]
AppQuery = Annotated[AppId | None, Query(description="when several apps are installed")]
Refresh = Annotated[bool, Query(description="ask Slack even when a cached answer is fresh")]


def cached_user(team_id: str, user: Mapping[str, Any]) -> CachedUser:
    """A user cache entry from a Slack user object."""
    profile = user.get("profile") if isinstance(user.get("profile"), Mapping) else {}
    assert isinstance(profile, Mapping)
    return CachedUser(
        team_id=team_id,
        user_id=str(user.get("id")),
        name=user.get("name"),
        real_name=user.get("real_name") or profile.get("real_name"),
        display_name=profile.get("display_name"),
        email=profile.get("email"),
        is_bot=bool(user.get("is_bot")),
        deleted=bool(user.get("deleted")),
        # Slack keeps the time zone on the user, not in the profile: cached with the profile.
        profile={**profile, **({"tz": user["tz"]} if isinstance(user.get("tz"), str) else {})},
    )


def _public(user: CachedUser) -> SlackUser:
    return SlackUser(
        id=user.user_id,
        team_id=user.team_id,
        name=user.name,
        real_name=user.real_name,
        display_name=user.display_name,
        email=user.email,
        is_bot=user.is_bot,
        deleted=user.deleted,
        profile=dict(user.profile),
        fetched_at=user.fetched_at,
    )


def _fresh(gateway: Gateway, user: CachedUser | None) -> bool:
    if user is None or user.fetched_at is None:
        return False
    ttl = timedelta(seconds=float(gateway.settings.user_cache_ttl))
    return utcnow() - user.fetched_at < ttl


async def _ask_slack(
    gateway: Gateway,
    caller: Caller,
    team_id: str,
    app_id: str | None,
    method: str,
    args: dict[str, str],
) -> SlackUser:
    outcome = await call_slack(
        gateway, team_id, method, args, caller=caller, app_id=app_id, form=True
    )
    if outcome.disposition != "done":
        if outcome.code in _NOT_FOUND:
            raise ApiError("user_not_found", f"Slack knows no such user in {team_id}")
        raise slack_refusal(outcome, method)
    raw = outcome.data.get("user")
    if not isinstance(raw, Mapping) or not raw.get("id"):
        raise ApiError("slack_unavailable", f"{method} answered without a user")
    users = UsersRepository(gateway.db, gateway.keyring)
    await users.put(cached_user(team_id, raw))
    stored = await users.get(team_id, str(raw["id"]))
    assert stored is not None
    return _public(stored)


async def _user(
    request: Request,
    caller: Caller,
    team_id: str,
    app_id: str | None,
    refresh: bool,
    cached: Callable[[UsersRepository], Awaitable[CachedUser | None]],
    method: str,
    args: dict[str, str],
) -> SlackUser:
    """The cached answer when fresh (and not ``refresh``), else Slack's (``method``), cached."""
    gateway = gateway_of(request)
    await locate(gateway, team_id, app_id, caller=caller)
    if not refresh:
        found = await cached(UsersRepository(gateway.db, gateway.keyring))
        if found is not None and _fresh(gateway, found):
            return _public(found)
    return await _ask_slack(gateway, caller, team_id, app_id, method, args)


@router.get("", summary="Find a user by email", responses=_ERRORS)
async def lookup_by_email(
    team_id: TeamPath,
    request: Request,
    caller: ReadCaller,
    email: Annotated[
        str, Query(min_length=3, max_length=320, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")
    ],
    app_id: AppQuery = None,
    refresh: Refresh = False,
) -> SlackUser:
    """The workspace member with this email (``users.lookupByEmail``, cached)."""
    return await _user(
        request,
        caller,
        team_id,
        app_id,
        refresh,
        lambda users: users.find_by_email(team_id, email),
        "users.lookupByEmail",
        {"email": email},
    )


@router.get("/{user_id}", summary="Get a user", responses=_ERRORS)
async def user_info(
    team_id: TeamPath,
    user_id: Annotated[UserId, Path(description="the Slack user id (U…)")],
    request: Request,
    caller: ReadCaller,
    app_id: AppQuery = None,
    refresh: Refresh = False,
) -> SlackUser:
    """A member of the workspace (``users.info``, cached)."""
    return await _user(
        request,
        caller,
        team_id,
        app_id,
        refresh,
        lambda users: users.get(team_id, user_id),
        "users.info",
        {"user": user_id},
    )
