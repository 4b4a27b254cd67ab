"""Synchronous product endpoints, the product's side: the call made while Slack waits.

Which payload a synchronous endpoint answers, and when, is decided in the pipeline
(``pipeline/sync_answer.py``); it is given :func:`call` as its port. The endpoint gets the
webhook (same body, headers and webhook-id as the normal delivery, plus
``slackbridge-synchronous: true``) with the time left before the deadline, and a 2xx answer's
body is relayed to Slack. An answered call is recorded as delivered; when the endpoint is late
or fails, the held async delivery is released at once, so the endpoint gets the webhook the
normal way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime

import httpx

from slackbridge import __version__, metrics
from slackbridge.pipeline.sync_answer import SyncAnswer, SyncPlan
from slackbridge.product.endpoints import endpoint_webhook_id
from slackbridge.product.signing import sign_headers
from slackbridge.product.webhook_addresses import refused_resolved
from slackbridge.product.webhook_policy import endpoint_wants, render_body
from slackbridge.runtime import Gateway
from slackbridge.store.repositories.deliveries import NewDelivery
from slackbridge.store.repositories.deliveries_sync import (
    record_sync_delivery,
    release_sync_hold,
)
from slackbridge.store.repositories.endpoints import WebhookEndpoint

__all__ = ["call", "wants"]

_log = logging.getLogger("slackbridge.webhooks")

_MIN_BUDGET = 0.05  # below this there is no point in calling


def wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
    """Whether ``endpoint``'s type filter lets ``event_type`` through."""
    return endpoint_wants(endpoint.event_types, event_type)


_BACKGROUND: set[asyncio.Task[None]] = set()


async def call(gateway: Gateway, sync_plan: SyncPlan, deadline: float) -> SyncAnswer | None:
    """Call the endpoint before ``deadline`` (a ``time.monotonic()`` value); its answer, or
    None when it was late or failed (the async delivery then takes over)."""
    budget = deadline - time.monotonic()
    if budget < _MIN_BUDGET:
        metrics.SYNC_CALLS.labels("late").inc()
        return None
    endpoint, event = sync_plan.endpoint, sync_plan.event
    webhook_id = endpoint_webhook_id(event, endpoint.id)
    body = render_body(event)
    secrets = endpoint.signing_secrets or ("",)
    headers = {
        "content-type": "application/json",
        "user-agent": f"slackbridge/{__version__}",
        "slackbridge-synchronous": "true",
        **sign_headers(secrets, webhook_id, int(time.time()), body),
    }
    if not gateway.settings.webhook_allow_link_local:
        why = await refused_resolved(endpoint.url)
        if why is not None:
            _fallback(gateway, endpoint, webhook_id, "failed", f"refused ({why})")
            return None
    try:
        response = await gateway.http.post(
            endpoint.url, content=body, headers=headers, timeout=budget
        )
    except httpx.TimeoutException:
        _fallback(gateway, endpoint, webhook_id, "late", "answered too late")
        return None
    except httpx.HTTPError as exc:
        why = f"failed ({exc.__class__.__name__})"
        _fallback(gateway, endpoint, webhook_id, "failed", why)
        return None
    if not 200 <= response.status_code < 300:
        _fallback(gateway, endpoint, webhook_id, "failed", f"answered {response.status_code}")
        return None
    metrics.SYNC_CALLS.labels("answered").inc()
    item = NewDelivery(
        webhook_id=webhook_id,
        endpoint_id=endpoint.id,
        event_type=event.type,
        payload=body.decode(),
        ordering_key=event.ordering_key,
    )
    status = response.status_code
    _in_background(record_sync_delivery(gateway.db, item, status, datetime.now(UTC)))
    content_type = response.headers.get("content-type", "application/json")
    return SyncAnswer(response.content, content_type)


def _fallback(
    gateway: Gateway, endpoint: WebhookEndpoint, webhook_id: str, outcome: str, why: str
) -> None:
    metrics.SYNC_CALLS.labels(outcome).inc()
    _log.info(
        "synchronous endpoint %s %s; delivering webhook %s async",
        endpoint.shown_url,
        why,
        webhook_id,
    )
    _in_background(release_sync_hold(gateway.db, webhook_id, datetime.now(UTC)))


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
