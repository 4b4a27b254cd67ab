"""The queue worker on SQLite and PostgreSQL: lease expiry, backoff, order per lane, wake-ups.

The handler here runs over the deliveries table (a laned queue), the way the delivery worker
does, with a clock that moves only when told to."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from slackbridge.store.queue_policy import Backoff, RetryPolicy
from slackbridge.store.queue_worker import QueueWorker, WorkerPolicy
from slackbridge.store.repositories.deliveries import Delivery, DeliveryOutcome, NewDelivery
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.store import Store
from slackbridge.store.wakeups import LocalWakeups

from .conftest import FakeClock, wait_until

_LEASE = 30.0
_POLICY = RetryPolicy(Backoff(base=2.0, cap=60.0), max_attempts=3)


class _Handler:
    """Sends nothing: records what it handled and settles it as told."""

    def __init__(self, store: Store, clock: FakeClock, owner: str, *, fail: bool = False) -> None:
        self.store, self.clock, self.owner, self.fail = store, clock, owner, fail
        self.claims = 0
        self.handled: list[str] = []
        self.outcomes: list[str] = []
        self.release = asyncio.Event()
        self.release.set()

    async def claim(self, limit: int) -> Sequence[Delivery]:
        rows = await self.store.deliveries.claim(self.owner, limit=limit, lease_seconds=_LEASE)
        self.claims += 1
        return rows

    async def handle(self, items: Sequence[Delivery]) -> bool:
        for delivery in items:
            await self.release.wait()
            self.handled.append(delivery.webhook_id)
            outcome = self._outcome(delivery)
            await self.store.deliveries.settle(delivery, self.owner, outcome)
            self.outcomes.append(outcome.kind)  # settled
        return True  # the lane's next row is claimed at once

    def _outcome(self, delivery: Delivery) -> DeliveryOutcome:
        if not self.fail:
            return DeliveryOutcome("delivered", status_code=200)
        delay = _POLICY.retry_in(delivery.attempts, rng=random.Random(delivery.attempts))
        if delay is None:
            return DeliveryOutcome("dead", error="gave up")
        when = self.clock.now + timedelta(seconds=delay)
        return DeliveryOutcome("retry", error="503", not_before=when)

    async def extend(self, items: Sequence[Delivery]) -> None:
        await self.store.deliveries.extend([d.id for d in items], self.owner, _LEASE)

    async def give_back(self, items: Sequence[Delivery]) -> None:
        for delivery in items:
            await self.store.deliveries.release(delivery.id, self.owner)


@asynccontextmanager
async def _running(
    handler: _Handler,
    *,
    wakeups: LocalWakeups | None = None,
    poll: float = 0.01,
    units: int = 4,
) -> AsyncIterator[QueueWorker[Delivery]]:
    worker: QueueWorker[Delivery] = QueueWorker(
        handler,
        WorkerPolicy("deliveries", poll_seconds=poll, units=units, grace_seconds=5),
        wakeups or LocalWakeups(),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        handler.release.set()
        async with asyncio.timeout(20):
            await task


async def _endpoint(store: Store) -> int:
    return (await store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id


def _new(webhook_id: str, endpoint_id: int, lane: str | None) -> NewDelivery:
    return NewDelivery(webhook_id, endpoint_id, "message.posted", "{}", ordering_key=lane)


async def _status(store: Store, webhook_id: str) -> Delivery:
    found = await store.deliveries.get_by_webhook_id(webhook_id)
    assert found is not None
    return found


async def test_an_expired_lease_is_taken_again(cstore: Store, clock: FakeClock) -> None:
    ep = await _endpoint(cstore)
    await cstore.deliveries.enqueue([_new("m1", ep, "T1:C1"), _new("m2", ep, "T1:C1")])
    (held,) = await cstore.deliveries.claim("crashed", lease_seconds=_LEASE)
    assert held.webhook_id == "m1"
    handler = _Handler(cstore, clock, "survivor")
    async with _running(handler):
        await wait_until(lambda: _claimed_at_least(handler, 2), what="a few empty claims")
        assert handler.handled == []  # m1 is leased, and m2 waits behind it in its lane
        clock.advance(_LEASE + 1)
        await wait_until(lambda: _handled(handler, 2), what="both deliveries")
    assert handler.handled == ["m1", "m2"]
    m1 = await _status(cstore, "m1")
    assert m1.status == "delivered" and m1.attempts == 2
    assert not await cstore.deliveries.mark_delivered(m1.id, "crashed", status_code=200)


async def test_failures_back_off_then_give_up(cstore: Store, clock: FakeClock) -> None:
    ep = await _endpoint(cstore)
    await cstore.deliveries.enqueue([_new("m1", ep, "T1:C1"), _new("m2", ep, "T1:C1")])
    handler = _Handler(cstore, clock, "w", fail=True)
    async with _running(handler):
        for attempt in (1, 2):
            await wait_until(lambda n=attempt: _handled(handler, n), what=f"attempt {attempt}")
            m1 = await _status(cstore, "m1")
            assert (m1.status, m1.attempts) == ("pending", attempt)
            waited = (m1.not_before - clock.now).total_seconds()
            ceiling = _POLICY.backoff.ceiling(attempt)
            assert ceiling / 2 <= waited <= ceiling
            polls = handler.claims + 2
            await wait_until(lambda p=polls: _claimed_at_least(handler, p), what="more polls")
            assert len(handler.handled) == attempt  # not due yet, and m2 waits behind it
            clock.advance(waited)
        await wait_until(lambda: _handled(handler, 4), what="the dead letter, then m2")
    assert handler.handled == ["m1", "m1", "m1", "m2"]
    assert (await _status(cstore, "m1")).status == "dead"


async def test_each_lane_is_served_in_order_while_lanes_go_side_by_side(
    cstore: Store, clock: FakeClock
) -> None:
    ep = await _endpoint(cstore)
    lanes = ["T1:C1", "T1:C2", "T1:C3"]
    await cstore.deliveries.enqueue(
        [_new(f"{lane}/{n}", ep, lane) for n in range(6) for lane in lanes]
    )
    handler = _Handler(cstore, clock, "w")
    async with _running(handler, units=3):
        await wait_until(lambda: _handled(handler, 18), what="every delivery")
    for lane in lanes:
        assert [h for h in handler.handled if h.startswith(lane)] == [
            f"{lane}/{n}" for n in range(6)
        ]


async def test_a_wake_up_skips_the_poll(cstore: Store, clock: FakeClock) -> None:
    ep = await _endpoint(cstore)
    wakeups = LocalWakeups()
    handler = _Handler(cstore, clock, "w")
    async with _running(handler, wakeups=wakeups, poll=3600):
        await wait_until(lambda: _claimed_at_least(handler, 1), what="the first claim")
        await cstore.deliveries.enqueue([_new("m1", ep, "T1:C1")])
        wakeups.signal("deliveries")  # without it, the next claim is an hour away
        await wait_until(lambda: _handled(handler, 1), what="the delivery")
    assert handler.handled == ["m1"]


async def test_stopping_gives_back_what_is_held(cstore: Store, clock: FakeClock) -> None:
    ep = await _endpoint(cstore)
    await cstore.deliveries.enqueue([_new("m1", ep, "T1:C1")])
    handler = _Handler(cstore, clock, "w")
    handler.release.clear()  # the handler hangs on its row
    worker: QueueWorker[Delivery] = QueueWorker(
        handler, WorkerPolicy("deliveries", poll_seconds=0.01, grace_seconds=0), LocalWakeups()
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await wait_until(lambda: _is(cstore, "m1", "delivering"), what="the claim")
    stop.set()
    async with asyncio.timeout(20):
        await task
    m1 = await _status(cstore, "m1")
    assert m1.status == "pending" and m1.lease_owner is None and handler.handled == []


async def _claimed_at_least(handler: _Handler, n: int) -> bool:
    return handler.claims >= n


async def _handled(handler: _Handler, n: int) -> bool:
    return len(handler.outcomes) >= n


async def _is(store: Store, webhook_id: str, status: str) -> bool:
    return (await _status(store, webhook_id)).status == status
