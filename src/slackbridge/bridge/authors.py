"""Who wrote it: the author objects of conversation webhooks, and ``user_change`` refreshes.

An author is ``{"slack_user", "name", "real_name", "email", "product_user", "bot_id"}``: the
names come from the gateway's user cache (``users.info``, through the ``lookup`` port the
composition gives, the same enrichment every other webhook gets; ``email`` only where the
workspace granted ``users:read.email``), ``product_user`` from the bridge's user links (the
product's id for that person, when it linked one). A ``user_change`` event refreshes the cache
at once and marks the person's links stale, so a new name or email shows on the next message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from slackbridge.bridge.events import Author
from slackbridge.store.repositories.bridge_users import UserLinksRepository
from slackbridge.store.repositories.users import CachedUser, UsersRepository

__all__ = ["Identities", "UserLookup", "author"]

#: (team, app id, Slack user ids) → user fields by id (``name``, ``real_name``, ``email``, …);
#: users it can't find are left out.
UserLookup = Callable[[str, str | None, Sequence[str]], Awaitable[dict[str, dict[str, Any]]]]


def author(user_id: str, fields: Mapping[str, Any] | None, product_user: str | None) -> Author:
    """An author object from the cached fields of a person (or just their id)."""
    found = fields or {}
    return {
        "slack_user": user_id,
        "name": found.get("name"),
        "real_name": found.get("real_name"),
        "email": found.get("email"),
        "product_user": product_user,
        "bot_id": None,
    }


class Identities:
    """Resolve authors, and keep them fresh on ``user_change``."""

    def __init__(
        self,
        users: UsersRepository,
        links: UserLinksRepository,
        lookup: UserLookup,
        *,
        forget: Callable[[str, str], None] | None = None,
    ) -> None:
        self._users = users
        self._links = links
        self._lookup = lookup
        self._forget = forget

    async def authors(
        self, team_id: str, app_id: str | None, user_ids: Iterable[str]
    ) -> dict[str, Author]:
        """The author object of each of ``user_ids`` (an id alone when nothing is known)."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        fields = await self._lookup(team_id, app_id, wanted)
        found: dict[str, Author] = {}
        for user_id in wanted:
            link = await self._links.by_slack_user(team_id, user_id)
            found[user_id] = author(
                user_id, fields.get(user_id), link.product_user if link is not None else None
            )
        return found

    async def user_changed(
        self, team_id: str, user: Mapping[str, Any], *, email_allowed: bool = True
    ) -> None:
        """Take in Slack's ``user_change`` (``event.user``, a full user object)."""
        user_id = user.get("id")
        if not isinstance(user_id, str) or not user_id:
            return
        profile = user.get("profile") if isinstance(user.get("profile"), Mapping) else {}
        assert isinstance(profile, Mapping)
        kept = {k: profile[k] for k in ("title", "image_72") if k in profile}
        if isinstance(user.get("tz"), str):
            kept["tz"] = user["tz"]
        await self._users.put(
            CachedUser(
                team_id=team_id,
                user_id=user_id,
                name=user.get("name"),
                real_name=user.get("real_name") or profile.get("real_name"),
                display_name=profile.get("display_name") or None,
                email=profile.get("email") if email_allowed else None,
                is_bot=bool(user.get("is_bot")),
                deleted=bool(user.get("deleted")),
                profile=kept,
            )
        )
        if self._forget is not None:
            self._forget(team_id, user_id)
        name = profile.get("display_name") or user.get("real_name") or user.get("name")
        avatar = profile.get("image_72")
        await self._links.remember_profile(
            team_id,
            user_id,
            name=name if isinstance(name, str) else None,
            avatar_url=avatar if isinstance(avatar, str) else None,
        )
        # Their email may have changed: the email → user lookups are asked again on next use.
        await self._links.expire(team_id, user_id)
