"""Synchronous product endpoints: answers that must reach Slack within its 3-second ack.

An external select asks for options (``block_suggestion``), a modal submission may be refused
with field errors (``view_submission`` → ``response_action``), and a slash command
(``command.invoked``, or ``command.matched`` for a declared command) may be answered with a
message. An endpoint configured with ``synchronous = true`` receives these
types (those its ``event_types`` filter lets through) while Slack waits: slackbridge posts the
webhook (same body, headers and webhook-id as the normal delivery, plus
``slackbridge-synchronous: true``; the user is filled in only if that takes under 0.5 s) with a
deadline of ``sync_webhook_deadline`` seconds after the request arrived, and relays a 2xx
answer's body to Slack. When the endpoint is late or fails,
Slack gets the plain empty ack and the endpoint gets the webhook the normal way (async delivery,
held back for :data:`SYNC_HOLD_SECONDS` so that an answered call isn't delivered twice).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from slackbridge import __version__, metrics
from slackbridge.domain.events import DomainEvent
from slackbridge.domain.payloads import PayloadKind
from slackbridge.pipeline.commands import routed_events
from slackbridge.pipeline.enrich import enrich_users
from slackbridge.pipeline.normalize import normalize
from slackbridge.product.endpoints import (
    WebhookEndpoint,
    enabled_endpoints,
    endpoint_webhook_id,
)
from slackbridge.product.signing import sign_headers
from slackbridge.product.webhook_addresses import refused_resolved
from slackbridge.product.webhook_policy import endpoint_wants, render_body
from slackbridge.runtime import Gateway
from slackbridge.store.repositories.deliveries import NewDelivery
from slackbridge.store.repositories.deliveries_sync import (
    record_sync_delivery,
    release_sync_hold,
)

__all__ = [
    "SYNC_HOLD_SECONDS",
    "SYNC_TYPES",
    "SyncAnswer",
    "SyncPlan",
    "call",
    "plan",
]

_log = logging.getLogger("slackbridge.webhooks")

#: Webhook types a synchronous endpoint answers inline.
SYNC_TYPES = frozenset(
    {
        "interaction.block_suggestion",
        "interaction.view_submission",
        "command.invoked",
        "command.matched",
    }
)
#: How long the async delivery of a synchronously called webhook waits, so that the call's
#: outcome is known first (longer than the deadline plus recording the answer).
SYNC_HOLD_SECONDS = 10.0
_MIN_BUDGET = 0.05  # below this there is no point in calling
_ENRICH_BUDGET = 0.5  # seconds the user lookup may take out of the deadline


@dataclass(frozen=True)
class SyncPlan:
    """Which endpoint to call for which event, with the exact webhook it will get."""

    endpoint: WebhookEndpoint
    event: DomainEvent
    webhook_id: str
    body: bytes


@dataclass(frozen=True)
class SyncAnswer:
    """A synchronous endpoint's answer, to relay to Slack."""

    body: bytes
    content_type: str

    def payload(self) -> dict[str, Any] | None:
        """The answer as a JSON object (a Socket Mode ack payload): a JSON object as is, plain
        text as ``{"text": …}`` (a slash command's message), nothing for an empty body."""
        if not self.body.strip():
            return None
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return {"text": self.body.decode(errors="replace")}
        return value if isinstance(value, dict) else None


async def plan(
    gateway: Gateway,
    kind: PayloadKind,
    payload: Mapping[str, Any],
    dedupe_key: str,
    received_at: float,
) -> SyncPlan | None:
    """The synchronous call to make for this payload, if a synchronous endpoint wants it."""
    endpoints = [e for e in await enabled_endpoints(gateway) if e.synchronous and e.secret]
    if not endpoints:
        return None
    # The same payload the inbox worker normalizes: without Slack's verification token.
    payload = {k: v for k, v in payload.items() if k != "token"}
    try:
        normalized = normalize(kind, payload, dedupe_key=dedupe_key, received_at=received_at)
    except Exception as exc:
        # The inbox worker sets such a payload aside; Slack just gets the ordinary ack.
        _log.warning("not calling the synchronous endpoint: payload not understood (%r)", exc)
        return None
    # Declared commands turn a slash command into command.matched (or the gateway's help).
    routed = await routed_events(gateway, normalized.events, fetch_users=False)
    for event in routed.events:
        if event.type not in SYNC_TYPES:
            continue
        for endpoint in endpoints:
            if endpoint_wants(endpoint.event_types, event.type):
                enriched = await _enriched(gateway, event)
                return SyncPlan(
                    endpoint,
                    enriched,
                    endpoint_webhook_id(enriched, endpoint.id),
                    render_body(enriched),
                )
    return None


async def _enriched(gateway: Gateway, event: DomainEvent) -> DomainEvent:
    """The event with its user filled in, if that is quick (usually a cache hit)."""
    try:
        (found,) = await asyncio.wait_for(enrich_users(gateway, [event]), _ENRICH_BUDGET)
    except TimeoutError:
        return event
    return found


_BACKGROUND: set[asyncio.Task[None]] = set()


async def call(gateway: Gateway, sync_plan: SyncPlan, deadline: float) -> SyncAnswer | None:
    """Call the endpoint before ``deadline`` (a ``time.monotonic()`` value); its answer, or
    None when it was late or failed (the async delivery then takes over)."""
    budget = deadline - time.monotonic()
    if budget < _MIN_BUDGET:
        metrics.SYNC_CALLS.labels("late").inc()
        return None
    endpoint = sync_plan.endpoint
    secrets = endpoint.signing_secrets or ("",)
    headers = {
        "content-type": "application/json",
        "user-agent": f"slackbridge/{__version__}",
        "slackbridge-synchronous": "true",
        **sign_headers(secrets, sync_plan.webhook_id, int(time.time()), sync_plan.body),
    }
    if not gateway.settings.webhook_allow_link_local:
        why = await refused_resolved(endpoint.url)
        if why is not None:
            _fallback(gateway, sync_plan, "failed", f"refused ({why})")
            return None
    try:
        response = await gateway.http.post(
            endpoint.url, content=sync_plan.body, headers=headers, timeout=budget
        )
    except httpx.TimeoutException:
        _fallback(gateway, sync_plan, "late", "answered too late")
        return None
    except httpx.HTTPError as exc:
        _fallback(gateway, sync_plan, "failed", f"failed ({exc.__class__.__name__})")
        return None
    if not 200 <= response.status_code < 300:
        _fallback(gateway, sync_plan, "failed", f"answered {response.status_code}")
        return None
    metrics.SYNC_CALLS.labels("answered").inc()
    item = NewDelivery(
        webhook_id=sync_plan.webhook_id,
        endpoint_id=endpoint.id,
        event_type=sync_plan.event.type,
        payload=sync_plan.body.decode(),
        ordering_key=sync_plan.event.ordering_key,
    )
    status = response.status_code
    _in_background(record_sync_delivery(gateway.db, item, status, datetime.now(UTC)))
    content_type = response.headers.get("content-type", "application/json")
    return SyncAnswer(response.content, content_type)


def _fallback(gateway: Gateway, sync_plan: SyncPlan, outcome: str, why: str) -> None:
    metrics.SYNC_CALLS.labels(outcome).inc()
    _log.info(
        "synchronous endpoint %s %s; delivering webhook %s async",
        sync_plan.endpoint.shown_url,
        why,
        sync_plan.webhook_id,
    )
    _in_background(release_sync_hold(gateway.db, sync_plan.webhook_id, datetime.now(UTC)))


def _in_background(work: Awaitable[object]) -> None:
    """Record the call's outcome without making Slack wait for it. If this is lost (a crash),
    the held async delivery still goes out, with the same webhook-id, once its hold ends."""

    async def run() -> None:
        try:
            await work
        except Exception as exc:
            _log.warning("could not record a synchronous call's outcome: %r", exc)

    task = asyncio.get_running_loop().create_task(run())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
