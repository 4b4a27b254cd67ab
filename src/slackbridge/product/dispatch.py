"""The product's webhook fan-out: domain events → one delivery row per interested endpoint.

:func:`build_deliveries` is the fan-out itself (pure), which the inbox worker is given at
composition to store with its batch. :func:`dispatch` is what other parts call to tell the
product something (the install flow for ``workspace.*``; the sender for ``message.delivered`` /
``message.failed``; the bridge's catch-up). It fills in ``data.user`` (``pipeline/enrich.py``,
asking Slack through the ``lookup_user`` port when given one), renders each webhook body once,
and stores the deliveries of all ``events`` in ONE transaction, in order (lanes keep that order
per endpoint and Slack channel). Each delivery's ``webhook_id`` is derived from the event's
dedupe key, so dispatching the same event again stores nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from slackbridge.domain.events import DomainEvent
from slackbridge.pipeline.enrich import LookupUser, enrich_users
from slackbridge.product.endpoints import (
    WebhookEndpoint,
    enabled_endpoints,
    endpoint_webhook_id,
)
from slackbridge.product.webhook_policy import endpoint_wants, render_body
from slackbridge.runtime import Gateway
from slackbridge.store.repositories.deliveries import DeliveriesRepository, NewDelivery

__all__ = ["build_deliveries", "dispatch", "prepare_deliveries"]


def build_deliveries(
    endpoints: Sequence[WebhookEndpoint],
    events: Sequence[DomainEvent],
    *,
    hold: Mapping[int, datetime] | None = None,
) -> list[NewDelivery]:
    """The deliveries of ``events`` (in order) to every endpoint that wants each type.

    ``hold`` maps endpoint ids to a time before which their deliveries must not go (a
    synchronous endpoint that is being called inline).
    """
    items: list[NewDelivery] = []
    for event in events:
        targets = [e for e in endpoints if endpoint_wants(e.event_types, event.type)]
        if not targets:
            continue
        body = render_body(event).decode()
        for endpoint in targets:
            items.append(
                NewDelivery(
                    webhook_id=endpoint_webhook_id(event, endpoint.id),
                    endpoint_id=endpoint.id,
                    event_type=event.type,
                    payload=body,
                    ordering_key=event.ordering_key,
                    not_before=(hold or {}).get(endpoint.id),
                )
            )
    return items


async def prepare_deliveries(
    gateway: Gateway,
    events: Sequence[DomainEvent],
    *,
    hold: Mapping[int, datetime] | None = None,
    lookup_user: LookupUser | None = None,
) -> list[NewDelivery]:
    """Enrich the events some endpoint wants and build their deliveries (nothing stored yet).
    Without ``lookup_user`` people are filled in from the user cache only."""
    endpoints = await enabled_endpoints(gateway)
    wanted = [
        event
        for event in events
        if any(endpoint_wants(e.event_types, event.type) for e in endpoints)
    ]
    if not wanted:
        return []
    enriched = await enrich_users(gateway, wanted, lookup_user)
    return build_deliveries(endpoints, enriched, hold=hold)


async def dispatch(
    gateway: Gateway, events: Sequence[DomainEvent], *, lookup_user: LookupUser | None = None
) -> int:
    """Store one delivery per matching endpoint for each of ``events`` (one transaction) and
    wake the delivery worker; returns how many rows were inserted (0 for events dispatched
    before). ``lookup_user`` asks Slack about people the user cache doesn't know (events that
    name no Slack user, such as ``workspace.*`` and ``message.delivered``, need none)."""
    items = await prepare_deliveries(gateway, events, lookup_user=lookup_user)
    if not items:
        return 0
    results = await DeliveriesRepository(gateway.db, gateway.keyring).enqueue(items)
    inserted = sum(1 for result in results if result.inserted)
    if inserted:
        gateway.wakeups.signal("deliveries")
    return inserted
