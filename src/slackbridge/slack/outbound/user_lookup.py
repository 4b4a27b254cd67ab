"""``users.info`` for the pipeline's user enrichment, inside the shared rate limiter.

The pipeline asks Slack about a person through a ``lookup_user`` port
(``pipeline/enrich.py``); this is its implementation: the workspace's bot token (of the event's
app, when it names one; through the ``bot_token`` port), one ``users.info`` call through
:class:`~slackbridge.slack.outbound.web_api.Outbound` (so lookups and the outbox share Slack's
per-method budget, and a 429 holds back only that method's lane), and the answer as a user
cache entry. The email is kept only when the workspace granted ``users:read.email``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slackbridge.slack.outbound.web_api import outbound_of
from slackbridge.store.repositories.users import CachedUser

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway

__all__ = ["UserLookupFailed", "lookup_user", "user_lookup"]

_EMAIL_SCOPE = "users:read.email"
#: Seconds a lookup waits for the rate limiter; past that the event goes without the user
#: (enrichment gives a lookup 3 s in all).
_MAX_WAIT = 2.0


class UserLookupFailed(RuntimeError):
    """Slack did not describe the user (an error, a rate limit, a failed connection)."""


async def lookup_user(
    gateway: Gateway, team_id: str, user_id: str, app_id: str | None = None
) -> CachedUser:
    """The user ``user_id`` of ``team_id`` as Slack describes them now (``users.info``).

    Raises :class:`UserLookupFailed` when Slack answers with an error (or the limiter would
    make the call wait longer than a lookup may), and whatever finding the bot token raises
    (an unavailable workspace)."""
    creds = await gateway.ports.bot_token(team_id, app_id)
    outbound = outbound_of(gateway)
    outcome = await outbound.call(
        outbound.client(gateway, creds.token),
        team_id,
        "users.info",
        {"user": user_id},
        max_wait=_MAX_WAIT,
        form=True,
    )
    if outcome.disposition != "done":
        raise UserLookupFailed(f"users.info: {outcome.code or outcome.disposition}")
    user: dict[str, Any] = outcome.data.get("user") or {}
    profile: dict[str, Any] = user.get("profile") or {}
    email = profile.get("email") if _EMAIL_SCOPE in creds.scopes else None
    return CachedUser(
        team_id=team_id,
        user_id=user_id,
        name=user.get("name"),
        real_name=user.get("real_name") or profile.get("real_name"),
        display_name=profile.get("display_name") or None,
        email=email,
        is_bot=bool(user.get("is_bot")),
        deleted=bool(user.get("deleted")),
        profile=_kept_profile(user, profile),
    )


def user_lookup(gateway: Gateway) -> Callable[[str, str, str | None], Awaitable[CachedUser]]:
    """:func:`lookup_user` bound to ``gateway``: the enrichment's ``lookup_user`` port."""
    return functools.partial(lookup_user, gateway)


def _kept_profile(user: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """The profile fields worth caching, with the user's time zone (Slack puts ``tz`` on the
    user, not in the profile; declared commands read dates in it)."""
    kept: dict[str, Any] = {k: profile[k] for k in ("title", "image_72", "tz") if k in profile}
    if isinstance(user.get("tz"), str) and user["tz"]:
        kept["tz"] = user["tz"]
    return kept
