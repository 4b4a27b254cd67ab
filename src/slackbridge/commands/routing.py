"""Declared commands as a step of the inbox pipeline: normalized events → routed events.

The inbox worker is given :func:`route_commands` at composition and calls it between
normalizing a payload and building its deliveries; the synchronous answers
(``pipeline/sync_answer.py``) are given :func:`routed_events` and route the same payload, so
that both produce the same ``command.matched`` (same arguments, same webhook id). The matching
itself is pure (``commands/route.py``); here the declared set is read (cached), the people's
time zones are looked up in the user cache, and, in the worker only, the help answers are
queued. With no commands declared this costs one cached read and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from slackbridge.commands.answer import send_help
from slackbridge.commands.declared import declared_commands
from slackbridge.commands.route import Routed, routable, route
from slackbridge.domain.events import DomainEvent, Normalized
from slackbridge.pipeline.enrich import LookupUser, enrich_users
from slackbridge.runtime import Gateway
from slackbridge.store.repositories.users import UsersRepository

__all__ = ["route_commands", "routed_events"]


async def _timezones(
    gateway: Gateway, events: Sequence[DomainEvent], lookup_user: LookupUser | None
) -> dict[str, str]:
    """The time zone (Slack's ``tz``) of each person in ``events``, where the user cache has
    it (with ``lookup_user``, enrichment fills the cache first, as it would for the delivery)."""
    if lookup_user is not None:
        await enrich_users(gateway, events, lookup_user)
    users = UsersRepository(gateway.db, gateway.keyring)
    zones: dict[str, str] = {}
    for event in events:
        if not event.team_id or not event.user_id or event.user_id in zones:
            continue
        cached = await users.get(event.team_id, event.user_id)
        tz = cached.profile.get("tz") if cached is not None else None
        if isinstance(tz, str) and tz:
            zones[event.user_id] = tz
    return zones


async def routed_events(
    gateway: Gateway, events: Sequence[DomainEvent], lookup_user: LookupUser | None
) -> Routed:
    """``events`` routed through the declared commands (help answers returned, not sent).
    Without ``lookup_user`` only the user cache is read (Slack is waiting: no users.info)."""
    commands = await declared_commands(gateway) if events else []
    rerun = gateway.settings.commands_rerun_on_edit
    candidates = routable(events, commands, rerun_on_edit=rerun)
    if not candidates:
        return Routed(events=list(events))
    zones = await _timezones(gateway, candidates, lookup_user)
    return route(events, commands, rerun_on_edit=rerun, timezones=zones)


async def route_commands(
    gateway: Gateway, normalized: Normalized, lookup_user: LookupUser | None
) -> Normalized:
    """``normalized`` with its command events routed and its help answers queued."""
    routed = await routed_events(gateway, normalized.events, lookup_user)
    if routed.replies:
        await send_help(gateway, routed.replies)
    if routed.events is normalized.events or routed.events == normalized.events:
        return normalized
    reason = normalized.ignored_reason
    if not routed.events and not normalized.actions:
        reason = "answered with the commands' help"
    return replace(normalized, events=routed.events, ignored_reason=reason)
