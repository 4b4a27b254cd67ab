"""The inbox pipeline, composed: the inbox worker and the intake's synchronous answers, wired
to the edges (a gateway part: ``on_startup``, ``workers``).

The pipeline imports no edge; this is where each of its ports gets the edge that answers it,
once per gateway:

- the inbox worker (``pipeline/inbox_worker.py``, :class:`~slackbridge.pipeline.inbox_ports.
  InboxPorts`): the loop guard's view of our own bots and the app lookup (the workspaces), the
  uninstall and token revocation (the workspace's life), the declared commands
  (``commands/routing.py``), the bridge's inbound listener (``compose_bridge.py``), the
  product's endpoints and webhook fan-out (``product/endpoints.py``, ``product/dispatch.py``),
  and users.info inside the rate limiter (``slack/outbound/user_lookup.py``);
- the synchronous answers (``pipeline/sync_answer.py``), given to the Slack intake: the same
  endpoints, type filter, commands and lookup, and the product's call (``product/sync.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slackbridge.commands.routing import route_commands, routed_events
from slackbridge.compose_bridge import bridge_listeners
from slackbridge.domain.events import DomainEvent, Normalized, SlackListener
from slackbridge.pipeline.inbox_ports import InboxPorts
from slackbridge.pipeline.inbox_worker import InboxWorker
from slackbridge.pipeline.retention import elected_retention
from slackbridge.pipeline.sync_answer import SyncAnswers
from slackbridge.product import sync
from slackbridge.product.dispatch import build_deliveries
from slackbridge.product.endpoints import enabled_endpoints
from slackbridge.runtime import Gateway, Worker
from slackbridge.slack.inbound.intake import answer_with
from slackbridge.slack.outbound.user_lookup import user_lookup
from slackbridge.slack.workspaces.apps import app_by_ref
from slackbridge.slack.workspaces.lifecycle import own_identity, revoke_user_tokens, uninstall
from slackbridge.store.repositories.deliveries import NewDelivery
from slackbridge.store.repositories.endpoints import WebhookEndpoint

__all__ = ["inbox_ports", "inbox_worker", "on_startup", "sync_answers", "workers"]


def inbox_ports(
    gateway: Gateway, *, listeners: Sequence[SlackListener] | None = None
) -> InboxPorts:
    """The inbox worker's ports wired to ``gateway``'s edges; ``listeners`` replaces the
    bridge's listener (tests)."""
    lookup = user_lookup(gateway)

    async def app_id_of(app_ref: int) -> str | None:
        app = await app_by_ref(gateway, app_ref)
        return app.app_id if app is not None else None

    async def route(normalized: Normalized) -> Normalized:
        return await route_commands(gateway, normalized, lookup)

    def fan_out(
        endpoints: Sequence[WebhookEndpoint],
        events: Sequence[DomainEvent],
        hold: Mapping[int, datetime] | None,
    ) -> list[NewDelivery]:
        return build_deliveries(endpoints, events, hold=hold)

    return InboxPorts(
        own_identity=functools.partial(own_identity, gateway),
        app_id_of=app_id_of,
        uninstall=functools.partial(uninstall, gateway),
        revoke_user_tokens=functools.partial(revoke_user_tokens, gateway),
        route=route,
        endpoints=functools.partial(enabled_endpoints, gateway),
        fan_out=fan_out,
        lookup_user=lookup,
        listeners=bridge_listeners(gateway) if listeners is None else listeners,
    )


def inbox_worker(
    gateway: Gateway, *, listeners: Sequence[SlackListener] | None = None, **options: Any
) -> InboxWorker:
    """An inbox worker for ``gateway`` with its ports (``options``: the worker's tuning)."""
    return InboxWorker(gateway, inbox_ports(gateway, listeners=listeners), **options)


def sync_answers(gateway: Gateway) -> SyncAnswers:
    """The synchronous answers wired to ``gateway``'s product endpoints and commands."""

    async def route(events: Sequence[DomainEvent]) -> Sequence[DomainEvent]:
        # The user cache only: Slack is waiting (no users.info for time zones).
        return (await routed_events(gateway, events, None)).events

    return SyncAnswers(
        gateway,
        endpoints=functools.partial(enabled_endpoints, gateway),
        wants=sync.wants,
        route=route,
        call=functools.partial(sync.call, gateway),
        lookup_user=user_lookup(gateway),
    )


async def on_startup(gateway: Gateway) -> None:
    """Gateway part hook: the intake's synchronous answers."""
    answer_with(gateway, sync_answers(gateway))


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: one inbox worker per process, and the retention of old rows."""
    return [inbox_worker(gateway), elected_retention(gateway)]
