"""User enrichment: fill in ``data.user`` (name, real name, display name, email) from users.info.

Slack is asked through the ``lookup_user`` port the composition gives (the Slack side's
``users.info`` with the workspace's bot token, inside the shared rate limiter:
``slack/outbound/user_lookup.py``; it keeps the email only when the workspace granted
``users:read.email``). Answers are cached in the store (``user_cache``) for ``user_cache_ttl``
seconds and, in front of that, in process memory for a minute, so a busy channel costs one
users.info call per person per TTL. A lookup that fails (no token, a Slack error, a timeout)
leaves the user as Slack sent it: enrichment never fails a dispatch. Without a lookup, only the
caches are read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from slackbridge.domain.events import DomainEvent
from slackbridge.ports import WorkspaceUnavailable
from slackbridge.runtime import Gateway, Slot
from slackbridge.store.repositories.users import CachedUser, UsersRepository

__all__ = ["LOOKUP_TIMEOUT", "LookupUser", "enrich_users", "forget_user", "user_fields"]

_log = logging.getLogger("slackbridge.dispatch")

#: Seconds one users.info lookup may take before the event goes out without it.
LOOKUP_TIMEOUT = 3.0
_MEMORY_SECONDS = 60.0
_MEMORY_MAX = 10_000
#: Seconds a workspace that can't be asked (not installed, disconnected) is not asked again:
#: its events go out with the ids only, without a token lookup for every batch.
_UNAVAILABLE_SECONDS = 10.0

#: The port that asks Slack about one person: (team, user id, app id or None: the workspace's
#: app) → the user as Slack describes them now. Raises when Slack can't tell (enrichment then
#: sends the id only).
LookupUser = Callable[[str, str, str | None], Awaitable[CachedUser]]

_Key = tuple[str, str]  # (team, user)


class _Memory:
    """Users looked up lately, in front of the store's cache (one per runtime)."""

    def __init__(self, gateway: Gateway) -> None:
        self.users: dict[_Key, tuple[float, CachedUser]] = {}
        #: Workspaces (team ids) whose lookups failed as unavailable, until when.
        self.unavailable: dict[str, float] = {}

    def remember(self, key: _Key, user: CachedUser, ttl: float) -> None:
        if len(self.users) >= _MEMORY_MAX:
            self.users.clear()  # crude but bounded; the store cache is still there
        self.users[key] = (time.monotonic() + min(_MEMORY_SECONDS, ttl), user)


_MEMORY: Slot[_Memory] = Slot("enriched users", _Memory)


def user_fields(user: CachedUser) -> dict[str, Any]:
    """What a webhook's ``data.user`` gains from a cached user."""
    return {
        "name": user.name,
        "real_name": user.real_name,
        "display_name": user.display_name,
        "email": user.email,
        "is_bot": user.is_bot,
    }


def forget_user(gateway: Gateway, team_id: str, user_id: str) -> None:
    """Drop a user from this process's memory (``user_change``: the store has the new one)."""
    memory = _MEMORY.peek(gateway)
    if memory is not None:
        memory.users.pop((team_id, user_id), None)


async def _guarded(
    lookup_user: LookupUser, team_id: str, user_id: str, app_id: str | None, memory: _Memory
) -> CachedUser | None:
    try:
        return await asyncio.wait_for(lookup_user(team_id, user_id, app_id), LOOKUP_TIMEOUT)
    except WorkspaceUnavailable as exc:
        memory.unavailable[team_id] = time.monotonic() + _UNAVAILABLE_SECONDS
        _log.info("users.info for %s: workspace %s unavailable (%s)", user_id, team_id, exc)
        return None
    except Exception as exc:
        _log.info("users.info for %s in %s failed (%r); sending the id only", user_id, team_id, exc)
        return None


async def enrich_users(
    gateway: Gateway, events: Sequence[DomainEvent], lookup_user: LookupUser | None
) -> list[DomainEvent]:
    """``events`` with their ``data.user`` filled in where the user could be found: in the
    caches, or (with ``lookup_user``) from Slack."""
    wanted: dict[tuple[str, str], str | None] = {}
    for event in events:
        if event.team_id and event.user_id:
            wanted.setdefault((event.team_id, event.user_id), event.app_id)
    if not wanted:
        return list(events)
    memory = _MEMORY.of(gateway)
    now = time.monotonic()
    found: dict[tuple[str, str], CachedUser] = {}
    missing: list[tuple[str, str]] = []
    for pair in wanted:
        hit = memory.users.get(pair)
        if hit is not None and hit[0] > now:
            found[pair] = hit[1]
        else:
            missing.append(pair)
    if missing:
        repo = UsersRepository(gateway.db, gateway.keyring)
        max_age = timedelta(seconds=gateway.settings.user_cache_ttl)
        to_fetch: list[tuple[str, str]] = []
        for team_id, user_id in missing:
            cached = await repo.get(team_id, user_id, max_age=max_age)
            if cached is None:
                to_fetch.append((team_id, user_id))
            else:
                found[(team_id, user_id)] = cached
        fetched: list[CachedUser | None] = []
        to_fetch = [pair for pair in to_fetch if memory.unavailable.get(pair[0], 0.0) <= now]
        if lookup_user is not None:
            fetched = await asyncio.gather(
                *(
                    _guarded(lookup_user, team, user, wanted[(team, user)], memory)
                    for team, user in to_fetch
                )
            )
        fresh = [user for user in fetched if user is not None]
        if fresh:
            try:
                await repo.put_many(fresh)
            except Exception as exc:
                _log.warning("could not cache %d users: %r", len(fresh), exc)
        found.update({(u.team_id, u.user_id): u for u in fresh})
        for pair in missing:
            if pair in found:
                memory.remember(pair, found[pair], gateway.settings.user_cache_ttl)
    return [_with_user(event, found) for event in events]


def _with_user(event: DomainEvent, found: dict[tuple[str, str], CachedUser]) -> DomainEvent:
    if not event.team_id or not event.user_id:
        return event
    cached = found.get((event.team_id, event.user_id))
    if cached is None:
        return event
    user = dict(event.data["user"])
    for key, value in user_fields(cached).items():
        if value is not None or key not in user:
            user[key] = value
    return replace(event, data={**event.data, "user": user})
