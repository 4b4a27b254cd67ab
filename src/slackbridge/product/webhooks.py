"""Delivering product webhooks: signed POSTs, retried with backoff, dead-lettered at the end.

The delivery worker keeps up to ``webhook_concurrency`` requests in flight, and on PostgreSQL
up to :data:`LANES_PER_REQUEST` times as many lanes running (a lane whose request is answered is
recording the outcome while another lane's request goes out; on SQLite one lane per request, see
:func:`lanes_per_request`). It claims only the head of each lane (one endpoint + one Slack
channel), so webhooks about one channel reach an endpoint in order, while other channels go on;
once a lane's head is settled, the lane's next delivery goes at once (see
:class:`DeliveryWorker`). Each attempt is signed afresh per the Standard
Webhooks spec (same ``webhook-id`` every time, current ``webhook-timestamp``):

- a 2xx answer: delivered;
- anything else (another status, a timeout, a refused connection): retried after an exponential
  backoff with full jitter (``product/webhook_policy.py``; a ``Retry-After`` header is honoured,
  up to an hour), its lane waiting meanwhile, until ``webhook_max_attempts`` attempts have failed:
  then the delivery is *dead* (``slackbridge deliveries list --status dead``; replay with
  ``slackbridge deliveries retry``) and its lane moves on.

Webhooks are signed with every secret of the endpoint (the current one and those a rotation still
overlaps with). The endpoint's address is checked before each request, after resolving its name
(``webhook_addresses.py``): a refused address is a failed attempt like any other.

A 410 Gone is treated like any other failure: slackbridge never disables an endpoint by itself
(removing it from the configuration does). Deliveries of a disabled endpoint stay pending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from slackbridge import __version__, metrics
from slackbridge.product.endpoints import WebhookEndpoint, endpoint_by_id, sync_endpoints
from slackbridge.product.signing import sign_headers
from slackbridge.product.webhook_addresses import (
    RefusedAddress,
    Resolver,
    refused_resolved,
    system_resolver,
    vetted_addresses,
)
from slackbridge.product.webhook_client import (
    WebhookError,
    WebhookRefused,
    WebhookTimeout,
)
from slackbridge.product.webhook_policy import BACKOFF
from slackbridge.product.webhook_transport import webhook_poster
from slackbridge.redact import redact_in_text
from slackbridge.runtime import Gateway, Worker
from slackbridge.store.queue_policy import RetryPolicy
from slackbridge.store.queue_worker import QueueWorker, WorkerPolicy
from slackbridge.store.repositories.deliveries import (
    DeliveriesRepository,
    Delivery,
    DeliveryOutcome,
)

__all__ = [
    "LANES_PER_REQUEST",
    "SERIAL_LANES_PER_REQUEST",
    "DeliveryWorker",
    "lanes_per_request",
    "on_startup",
    "retry_after_seconds",
    "workers",
]

_log = logging.getLogger("slackbridge.webhooks")

_MAX_RETRY_AFTER = 3600.0
_DISABLED_RECHECK = timedelta(seconds=60)
# Deliveries a lane runner sends in a row before it hands the lane back to the claim.
_LANE_TURN = 64
#: Lanes that may run per request in flight where the store commits side by side (PostgreSQL).
#: A lane runner holds a request slot only while its request is out; between two requests it
#: waits for its outcome's write to commit (with the lane's next delivery), which on PostgreSQL
#: takes longer than the request to a product that answers at once: with one lane per slot, the
#: slots sat idle (measured: 16 lanes delivered ~885 events/s there, 64 lanes 1,518/s, the
#: product still seeing at most 16 requests).
LANES_PER_REQUEST = 4
#: The same on SQLite, whose one writer commits on the event loop's thread, within a couple of
#: milliseconds: a lane's write is rarely what keeps its slot idle, and more lanes only put more
#: delivery work beside Slack's acks (measured flat out over 64 channels, with the lanes never
#: fewer than the slots: 8-31% more acks/s and 7-29% more deliveries/s than 4 lanes per slot
#: halved down to one under a flood, in four back-to-back pairs).
SERIAL_LANES_PER_REQUEST = 1
# The event loop's lateness (seconds) above which fewer lanes run, and below which more do,
# checked every _LAG_TICK seconds.
_LAG_HIGH = 0.004
_LAG_LOW = 0.0015
_LAG_TICK = 0.01
# Seconds the wake-ups of new deliveries are gathered before a claim (see DeliveryWorker).
_CLAIM_LINGER = 0.005
# Seconds of lease, beyond a request's timeout, a runner wants left before it sends; with less
# (it waited for a request slot), it renews the lease first.
_LEASE_MARGIN = 5.0
# Headers of every webhook besides its signature's (built once, not per delivery).
_STATIC_HEADERS = {"content-type": "application/json", "user-agent": f"slackbridge/{__version__}"}
# The counter's child for the common outcome (a label lookup costs more than the increment).
_DELIVERED = metrics.DELIVERIES.labels("delivered")


async def on_startup(gateway: Gateway) -> None:
    """Gateway part hook: sync the configured endpoints into the store."""
    endpoints = await sync_endpoints(gateway)
    detail = ", ".join(e.shown_url for e in endpoints) or (
        "no webhook endpoint configured: set SLACKBRIDGE_WEBHOOK_URL"
    )
    gateway.health.report("webhooks", True, detail)


def lanes_per_request(gateway: Gateway) -> int:
    """Lanes that may run per request slot with ``gateway``'s store: :data:`LANES_PER_REQUEST`
    where its commits run side by side (PostgreSQL), :data:`SERIAL_LANES_PER_REQUEST` on
    SQLite's one writer."""
    return SERIAL_LANES_PER_REQUEST if gateway.db.is_sqlite else LANES_PER_REQUEST


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (delta-seconds only), capped at an hour."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


def _refusal(why: str) -> str:
    return f"refused: {why} (SLACKBRIDGE_WEBHOOK_ALLOW_LINK_LOCAL=true allows it)"


class DeliveryWorker:
    """Sends due deliveries (a supervised gateway worker).

    Each claimed delivery starts a *lane runner*: it sends the delivery, then records the
    outcome and leases the lane's next due delivery in the same write (``DeliveriesRepository.
    settle``), and goes on with it at once, so a busy channel drains as fast as the endpoint
    answers instead of one delivery per claim. At most ``webhook_concurrency`` requests are
    out at a time (a semaphore held only around the request), and at most
    :func:`lanes_per_request` times as many lanes run (fewer while the event loop runs late, never
    fewer than the request slots: :meth:`adjust_lanes`);
    a runner hands its lane back after :data:`_LANE_TURN` deliveries, so that a busy lane
    can't keep other lanes waiting while they are more than the runners.
    """

    name = "webhook-delivery"

    def __init__(
        self,
        gateway: Gateway,
        *,
        poll_seconds: float = 1.0,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._gateway = gateway
        self._resolver = resolver
        self._settings = gateway.settings
        self._repo = DeliveriesRepository(gateway.db, gateway.keyring)
        self._owner = f"webhooks:{gateway.instance_id}"[:64]
        self._requests = asyncio.Semaphore(max(1, self._settings.webhook_concurrency))
        self._limit = self._most_lanes
        self._retry = RetryPolicy(
            BACKOFF, self._settings.webhook_max_attempts, scale=self._settings.webhook_retry_scale
        )
        self._worker: QueueWorker[Delivery] = QueueWorker(
            self,
            WorkerPolicy(
                "deliveries",
                poll_seconds=poll_seconds,
                grace_seconds=self._settings.webhook_timeout + 1,
                # The inbox signals after every batch it stores; under load that was a claim
                # every few ms, mostly finding lanes already running.
                linger_seconds=_CLAIM_LINGER,
            ),
            gateway.wakeups,
            units=lambda: self._limit,
            on_health=self._report,
        )
        # Kept-alive connections to the endpoints; a tenth of a general client's CPU per
        # webhook (see product/webhook_client.py and bench/RESULTS.md). Each new connection
        # goes to an address vetted by _dial (so a kept one needs no new lookup). A transport
        # given to the gateway (tests, embedding) is used instead, the host vetted per request.
        allow_any = self._settings.webhook_allow_link_local
        self._client = webhook_poster(
            gateway.http, gateway.http_transport, None if allow_any else self._dial
        )

    @property
    def _most_lanes(self) -> int:
        return max(1, self._settings.webhook_concurrency) * lanes_per_request(self._gateway)

    @property
    def _lease(self) -> float:
        # Longer than a request may take, so that a slow endpoint can't make the row look
        # abandoned mid-request; short enough that a crashed process's deliveries resume soon.
        # A runner that waited for a request slot renews it first (_lease_covers_request).
        return self._settings.webhook_timeout * 1.5 + 5

    async def run(self, stop: asyncio.Event) -> None:
        self._gateway.health.report(f"worker:{self.name}", True, "delivering webhooks")
        watch = asyncio.create_task(self._watch_lag(stop), name="webhook-loop-lag")
        try:
            await self._worker.run(stop)  # runners finish the delivery they hold, then stop
        finally:
            watch.cancel()
            await self._client.aclose()

    def _report(self, ok: bool, detail: str) -> None:
        self._gateway.health.report(f"worker:{self.name}", ok, detail or "delivering webhooks")

    # --- the queue (store/queue_worker.py runs the loop) ---------------------------------------

    async def claim(self, limit: int) -> Sequence[Delivery]:
        """The heads of lanes (endpoint + channel) that are due: one runner per lane (after a
        wake-up, without first looking whether any is: deliveries were just added)."""
        return await self._repo.claim(
            self._owner, limit=limit, lease_seconds=self._lease, probe=not self._worker.woken
        )

    async def handle(self, items: Sequence[Delivery]) -> bool:
        more = False
        for delivery in items:
            more = await self._lane(delivery) or more
        return more

    async def extend(self, items: Sequence[Delivery]) -> None:
        """Not used: a lease outlasts one request (see :attr:`_lease`)."""

    async def give_back(self, items: Sequence[Delivery]) -> None:
        """Nothing to do: a runner cut short leaves its delivery to the lease's expiry."""

    async def _watch_lag(self, stop: asyncio.Event) -> None:
        """Adjust :attr:`_limit` to the event loop's lateness (see the class doc)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            asked = loop.time()
            await asyncio.sleep(_LAG_TICK)
            self.adjust_lanes(loop.time() - asked - _LAG_TICK)

    def adjust_lanes(self, late: float) -> None:
        """Halve the lanes that may run when the event loop ran ``late`` seconds behind, add
        one back when it was on time. Never fewer lanes than request slots: a backlog must
        still drain at a fair pace (on SQLite, one lane per slot, the lanes then stay as many
        as the slots: fewer, under a flood, left slots idle and delivered less without
        acking more)."""
        most = self._most_lanes
        least = min(most, max(1, self._settings.webhook_concurrency))
        if late > _LAG_HIGH:
            self._limit = max(least, self._limit // 2)
        elif late < _LAG_LOW and self._limit < most:
            self._limit += 1

    @property
    def lanes(self) -> int:
        """Lanes that may run now (see :meth:`adjust_lanes`)."""
        return self._limit

    async def _lane(self, delivery: Delivery) -> bool:
        """Deliver ``delivery`` and the rest of its lane that is due, one after the other;
        returns whether the lane was handed back with rows perhaps due (its turn ended, or
        fewer lanes may run), rather than run dry or left waiting for a retry."""
        current: Delivery | None = delivery
        turns = 0
        go_on = True
        while current is not None:
            turns += 1
            go_on = (
                turns < _LANE_TURN
                and not self._worker.stopping
                and self._worker.in_flight <= self._limit
            )
            sending = current
            try:
                current = await self.deliver(sending, next_in_lane=go_on)
            except Exception:
                # The lease expires and the delivery is claimed again; nothing is lost.
                _log.exception("delivering %s failed unexpectedly", sending.webhook_id)
                return False
        return not go_on

    async def deliver(self, delivery: Delivery, *, next_in_lane: bool = False) -> Delivery | None:
        """One attempt at ``delivery`` (already claimed), then settle it; with
        ``next_in_lane``, returns the lane's next delivery, leased in the same write."""
        endpoint = await endpoint_by_id(self._gateway, delivery.endpoint_id)
        if endpoint is None or not endpoint.enabled or not endpoint.secret:
            when = datetime.now(UTC) + _DISABLED_RECHECK
            await self._repo.settle(
                delivery, self._owner, DeliveryOutcome("release", None, None, when)
            )
            return None
        body = delivery.payload.encode()
        signed = sign_headers(endpoint.signing_secrets, delivery.webhook_id, int(time.time()), body)
        headers = {**_STATIC_HEADERS, **signed}
        async with self._requests:
            if not await self._lease_covers_request(delivery):
                return None  # its lease ran out while it waited: the row may be another's
            outcome = await self._attempt(delivery, endpoint, body, headers)
        lease = self._lease if next_in_lane else None
        _ours, following = await self._repo.settle(delivery, self._owner, outcome, next_lease=lease)
        return following

    async def _lease_covers_request(self, delivery: Delivery) -> bool:
        """Whether ``delivery`` is still ours for long enough to make a request (its runner
        may have waited for a slot behind slow requests): its lease is renewed when less
        than a request's time (and a margin) is left; False if it ran out and the row is not
        ours any more (it is then another runner's, which sends it)."""
        expires = delivery.lease_expires_at
        need = self._settings.webhook_timeout + _LEASE_MARGIN
        if expires is not None and (expires - datetime.now(UTC)).total_seconds() > need:
            return True
        return await self._repo.extend([delivery.id], self._owner, self._lease) == 1

    async def _attempt(
        self,
        delivery: Delivery,
        endpoint: WebhookEndpoint,
        body: bytes,
        headers: dict[str, str],
    ) -> DeliveryOutcome:
        """One request (its caller holds a slot); its outcome."""
        started = time.perf_counter()  # the request's time, not the wait for a slot
        status: int | None = None
        retry_after: float | None = None
        try:
            if not self._client.dials:
                await self._check_address(endpoint)
            response = await self._client.post(
                endpoint.url, body, headers, timeout=self._settings.webhook_timeout
            )
            status = response.status_code
            error = None if 200 <= status < 300 else f"HTTP {status}"
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
        except WebhookTimeout:
            error = f"timed out after {self._settings.webhook_timeout:g}s"
        except WebhookRefused as exc:
            error = str(exc)
        except WebhookError as exc:
            error = redact_in_text(f"{exc.__class__.__name__}: {exc}", endpoint.url)[:500]
        finally:
            metrics.DELIVERY_SECONDS.observe(time.perf_counter() - started)
        if error is None and status is not None:
            outcome = DeliveryOutcome("delivered", status_code=status)
            _DELIVERED.inc()
        else:
            outcome = self._failed(delivery, error or "failed", status, retry_after)
        return outcome

    async def _check_address(self, endpoint: WebhookEndpoint) -> None:
        if self._settings.webhook_allow_link_local:
            return
        why = await refused_resolved(endpoint.url, self._resolver)
        if why is not None:
            raise WebhookRefused(_refusal(why))

    async def _dial(self, host: str, port: int) -> list[str]:
        """The addresses a new connection to ``host`` may use (see the client's ``dial``)."""
        try:
            return await vetted_addresses(host, port, self._resolver)
        except RefusedAddress as refused:
            raise WebhookRefused(_refusal(str(refused))) from None
        except OSError as exc:
            raise WebhookError(f"{exc.__class__.__name__}: {exc}") from None

    def _failed(
        self, delivery: Delivery, error: str, status: int | None, retry_after: float | None
    ) -> DeliveryOutcome:
        delay = self._retry.retry_in(delivery.attempts, at_least=retry_after or 0.0)
        if delay is None:
            return self._dead(delivery, error, status)
        when = datetime.now(UTC) + timedelta(seconds=delay)
        metrics.DELIVERIES.labels("retry").inc()
        _log.info(
            "webhook %s attempt %d failed (%s); retrying in %.1fs",
            delivery.webhook_id,
            delivery.attempts,
            error,
            delay,
        )
        return DeliveryOutcome("retry", status_code=status, error=error, not_before=when)

    def _dead(self, delivery: Delivery, error: str, status: int | None) -> DeliveryOutcome:
        metrics.DELIVERIES.labels("dead").inc()
        _log.warning(
            "webhook %s to endpoint %d is dead after %d attempts: %s",
            delivery.webhook_id,
            delivery.endpoint_id,
            delivery.attempts,
            error,
        )
        return DeliveryOutcome("dead", status_code=status, error=error)


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: the delivery worker."""
    return [DeliveryWorker(gateway)]
