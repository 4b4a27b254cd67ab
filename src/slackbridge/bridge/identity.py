"""Who a product message is posted as: a persona (a name and an icon, ``chat:write.customize``)
or a Slack user's own name and avatar (a linked user, found by id or by email through
``users.lookupByEmail``).

Slack is asked through a port (:class:`Lookups`) that the API supplies; answers are cached: users
in the user cache, emails (also "no such user") in the bridge's user links, for ``max_age``. A
``user_change`` event makes them stale (``Store.user_links.expire``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from slackbridge.store.repositories.users import CachedUser
from slackbridge.store.store import Store

__all__ = [
    "AuthorNotFound",
    "Lookups",
    "ResolvedAuthor",
    "avatar_of",
    "name_of",
    "persona_args",
    "resolve_author",
]


class AuthorNotFound(LookupError):
    """The author can't be posted as: the message says why."""


class Lookups(Protocol):
    """Slack, asked now: a user object (``users.info`` / ``users.lookupByEmail``), None when
    Slack knows no such user. The implementation caches users in the user cache."""

    async def user(self, team_id: str, user_id: str) -> CachedUser | None: ...

    async def by_email(self, team_id: str, email: str) -> CachedUser | None: ...


@dataclass(frozen=True)
class ResolvedAuthor:
    """The post's ``username``/``icon_*`` arguments and what is stored about the author."""

    args: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict)


def persona_args(
    name: str | None, icon_url: str | None = None, icon_emoji: str | None = None
) -> dict[str, Any]:
    """``chat.postMessage`` arguments posting as ``name`` with an icon (Slack's names)."""
    args: dict[str, Any] = {}
    if name:
        args["username"] = name[:80]
    if icon_url:
        args["icon_url"] = icon_url
    elif icon_emoji:
        args["icon_emoji"] = icon_emoji
    return args


def name_of(user: CachedUser) -> str:
    """What Slack shows for a person: display name, else real name, else the handle."""
    return user.display_name or user.real_name or user.name or user.user_id


def avatar_of(user: CachedUser) -> str | None:
    for size in ("image_72", "image_48", "image_192", "image_512", "image_original"):
        value = user.profile.get(size)
        if isinstance(value, str) and value:
            return value
    return None


def _as_user(user: CachedUser, record: Mapping[str, Any]) -> ResolvedAuthor:
    args = persona_args(name_of(user), avatar_of(user))
    return ResolvedAuthor(
        args=args, record={**record, "slack_user": user.user_id, "name": name_of(user)}
    )


async def _product_user(store: Store, team_id: str, slack_user: str) -> str | None:
    link = await store.user_links.by_slack_user(team_id, slack_user)
    return link.product_user if link else None


async def resolve_author(
    store: Store,
    team_id: str,
    author: Mapping[str, Any],
    lookups: Lookups,
    *,
    max_age: timedelta,
) -> ResolvedAuthor:
    """The author of a product message (``{"persona": {...}}``, ``{"slack_user": "U…"}`` or
    ``{"email": "…"}`` with an optional persona to fall back on). Raises
    :class:`AuthorNotFound` for a Slack user or email Slack does not know (without a persona)."""
    persona = author.get("persona")
    fallback = None
    if isinstance(persona, Mapping):
        fallback = ResolvedAuthor(
            args=persona_args(
                persona.get("name"), persona.get("icon_url"), persona.get("icon_emoji")
            ),
            record={"kind": "persona", "name": persona.get("name")},
        )
    slack_user = author.get("slack_user")
    if isinstance(slack_user, str):
        cached = await store.users.get(team_id, slack_user, max_age=max_age)
        user = cached or await lookups.user(team_id, slack_user)
        if user is None:
            if fallback is not None:
                return fallback
            raise AuthorNotFound(f"Slack knows no user {slack_user} in {team_id}")
        record = {
            "kind": "slack_user",
            "email": user.email,
            "product_user": await _product_user(store, team_id, user.user_id),
        }
        return _as_user(user, record)
    email = author.get("email")
    if isinstance(email, str):
        user = await _by_email(store, team_id, email, lookups, max_age)
        if user is None:
            if fallback is not None:
                return ResolvedAuthor(fallback.args, {**fallback.record, "email": email})
            raise AuthorNotFound(
                f"no Slack user in {team_id} has the email {email}; give a persona to post as"
            )
        link = await store.user_links.by_email(team_id, email)
        record = {
            "kind": "slack_user",
            "email": email,
            "product_user": link.product_user if link else None,
        }
        return _as_user(user, record)
    if fallback is not None:
        return fallback
    raise AuthorNotFound("an author needs a persona, a slack_user or an email")


async def _by_email(
    store: Store, team_id: str, email: str, lookups: Lookups, max_age: timedelta
) -> CachedUser | None:
    link = await store.user_links.by_email(team_id, email)
    if link is not None and store.user_links.is_fresh(link, max_age):
        if link.slack_user is None:
            return None  # Slack said so recently
        cached = await store.users.get(team_id, link.slack_user, max_age=max_age)
        if cached is not None:
            return cached
    user = await lookups.by_email(team_id, email)
    await store.user_links.remember_lookup(
        team_id,
        email,
        slack_user=user.user_id if user else None,
        name=name_of(user) if user else None,
        avatar_url=avatar_of(user) if user else None,
    )
    return user
