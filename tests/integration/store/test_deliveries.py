"""Webhook endpoints and deliveries: dedupe by webhook id, head-of-lane claims, dead letters."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from slackbridge.store import purge_pace
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database, open_database
from slackbridge.store.repositories import _base as repository_base
from slackbridge.store.repositories.deliveries import NewDelivery
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.store import Store

from .conftest import FakeClock
from .rawdump import raw_dump


async def _endpoint(store: Store, url: str = "http://127.0.0.1:9/hook") -> int:
    return (await store.endpoints.upsert(EndpointSpec(url, secret="whsec_abc123"))).id


def _delivery(webhook_id: str, endpoint_id: int, lane: str | None) -> NewDelivery:
    return NewDelivery(
        webhook_id=webhook_id,
        endpoint_id=endpoint_id,
        event_type="message.posted",
        payload='{"type":"message.posted"}',
        ordering_key=lane,
    )


async def test_endpoints_upsert_sync_and_secret_at_rest(store: Store) -> None:
    first = await store.endpoints.upsert(
        EndpointSpec("http://a", secret="whsec_abc123", event_types=["message.posted"])
    )
    assert first.secret == "whsec_abc123" and first.event_types == ("message.posted",)
    assert b"whsec_abc123" not in await raw_dump(store.db)
    second = await store.endpoints.upsert(EndpointSpec("http://b", synchronous=True))
    synced = await store.endpoints.sync([EndpointSpec("http://b", secret="s2")])
    assert [e.id for e in synced] == [second.id]
    assert [e.url for e in await store.endpoints.list(enabled_only=True)] == ["http://b"]
    a = await store.endpoints.get(first.id)
    assert a is not None and not a.enabled
    assert await store.endpoints.set_enabled(first.id, True)
    assert len(await store.endpoints.list(enabled_only=True)) == 2


async def test_enqueue_is_idempotent_by_webhook_id(store: Store) -> None:
    ep = await _endpoint(store)
    first = await store.deliveries.enqueue([_delivery("msg_1", ep, "T1:C1")])
    again = await store.deliveries.enqueue(
        [_delivery("msg_1", ep, "T1:C1"), _delivery("msg_2", ep, "T1:C1")]
    )
    assert [tuple(r) for r in first] == [("msg_1", True)]
    assert [tuple(r) for r in again] == [("msg_1", False), ("msg_2", True)]
    stored = await store.deliveries.get_by_webhook_id("msg_1")
    assert stored is not None and stored.payload == '{"type":"message.posted"}'


async def test_only_the_head_of_each_lane_is_handed_out(cstore: Store, clock: FakeClock) -> None:
    ep = await _endpoint(cstore)
    other = await _endpoint(cstore, "http://127.0.0.1:9/other")
    await cstore.deliveries.enqueue(
        [
            _delivery("a1", ep, "T1:C1"),
            _delivery("b1", ep, "T1:C2"),
            _delivery("a2", ep, "T1:C1"),
            _delivery("x1", ep, None),
            _delivery("a3", ep, "T1:C1"),
            _delivery("x2", ep, None),
            _delivery("o1", other, "T1:C1"),  # same channel, other endpoint: its own lane
            _delivery("b2", ep, "T1:C2"),
        ]
    )
    first = await cstore.deliveries.claim("w1")
    assert [d.webhook_id for d in first] == ["a1", "b1", "x1", "x2", "o1"]
    assert await cstore.deliveries.claim("w2") == []  # every lane's head is out
    by_id = {d.webhook_id: d for d in first}

    assert await cstore.deliveries.mark_delivered(by_id["a1"].id, "w1", status_code=200)
    # a1's failure to deliver holds back only lane T1:C1 — b's lane goes on.
    assert await cstore.deliveries.retry_later(
        by_id["b1"].id, "w1", clock.now + timedelta(seconds=30), error="503", status_code=503
    )
    assert [d.webhook_id for d in await cstore.deliveries.claim("w2")] == ["a2"]
    clock.advance(31)
    (b1,) = await cstore.deliveries.claim("w2")
    assert b1.webhook_id == "b1" and b1.attempts == 2 and b1.last_status == 503
    # Dead-lettering the head lets the rest of its lane go.
    assert await cstore.deliveries.mark_dead(b1.id, "w2", error="gave up", status_code=500)
    assert [d.webhook_id for d in await cstore.deliveries.claim("w3")] == ["b2"]


async def test_crashed_head_is_redelivered_before_the_rest_of_its_lane(
    cstore: Store, clock: FakeClock
) -> None:
    ep = await _endpoint(cstore)
    await cstore.deliveries.enqueue([_delivery(f"m{i}", ep, "T1:C1") for i in range(3)])
    (head,) = await cstore.deliveries.claim("crashed", lease_seconds=10)
    clock.advance(11)
    (again,) = await cstore.deliveries.claim("w2", lease_seconds=10)
    assert again.webhook_id == head.webhook_id == "m0"


async def test_list_retry_and_counts(cstore: Store, clock: FakeClock) -> None:
    ep = await _endpoint(cstore)
    await cstore.deliveries.enqueue([_delivery(f"m{i}", ep, None) for i in range(5)])
    for d in await cstore.deliveries.claim("w1", limit=2):
        await cstore.deliveries.mark_dead(d.id, "w1", error="410 Gone", status_code=410)
    assert await cstore.deliveries.counts() == {
        "pending": 3,
        "delivering": 0,
        "delivered": 0,
        "dead": 2,
    }
    page1 = await cstore.deliveries.list(limit=3)
    assert [d.webhook_id for d in page1] == ["m4", "m3", "m2"]
    page2 = await cstore.deliveries.list(limit=3, before_id=page1[-1].id)
    assert [d.webhook_id for d in page2] == ["m1", "m0"]
    dead = await cstore.deliveries.list(status="dead")
    assert {d.webhook_id for d in dead} == {"m0", "m1"}
    assert dead[0].last_error == "410 Gone"

    assert await cstore.deliveries.retry([dead[0].id]) == 1
    assert await cstore.deliveries.retry([dead[0].id]) == 0  # only dead ones are replayed
    assert await cstore.deliveries.retry_dead(endpoint_id=ep) == 1
    replayed = await cstore.deliveries.get(dead[0].id)
    assert replayed is not None and replayed.status == "pending" and replayed.attempts == 0

    for d in await cstore.deliveries.claim("w1", limit=10):
        await cstore.deliveries.mark_delivered(d.id, "w1", status_code=204)
    delivered = await cstore.deliveries.get_by_webhook_id("m0")
    assert delivered is not None and delivered.delivered_at == clock.now
    clock.advance(86400)
    assert await cstore.deliveries.purge(older_than=clock.now) == 5


async def test_lanes_stay_ordered_under_concurrent_workers(
    database: Database, keyring: Keyring
) -> None:
    url = database.url.render_as_string(hide_password=False)
    handles = [open_database(url, schema=database.schema, pool_size=2) for _ in range(3)]
    try:
        stores = [Store(h, keyring) for h in handles]
        ep = await _endpoint(stores[0])
        lanes = [f"T1:C{n}" for n in range(4)]
        await stores[0].deliveries.enqueue(
            [_delivery(f"m{i:03d}", ep, lanes[i % 4]) for i in range(80)]
        )
        in_flight: dict[str, str] = {}
        order: dict[str, list[str]] = {lane: [] for lane in lanes}

        async def worker(n: int) -> None:
            owner = f"w{n}"
            while True:
                batch = await stores[n].deliveries.claim(owner, limit=3, lease_seconds=60)
                if not batch:
                    if sum(len(v) for v in order.values()) == 80:
                        return
                    await asyncio.sleep(0.001)
                    continue
                for d in batch:
                    lane = d.ordering_key or ""
                    assert lane not in in_flight, f"{lane} handed out twice at once"
                    in_flight[lane] = d.webhook_id
                for d in batch:
                    lane = d.ordering_key or ""
                    order[lane].append(d.webhook_id)
                    del in_flight[lane]
                    assert await stores[n].deliveries.mark_delivered(d.id, owner, status_code=200)

        await asyncio.wait_for(asyncio.gather(*(worker(n) for n in range(3))), 60)
        for n, lane in enumerate(lanes):
            assert order[lane] == [f"m{i:03d}" for i in range(n, 80, 4)]
    finally:
        for h in handles:
            await h.close()


async def test_settling_a_head_leases_the_next_of_its_lane_in_the_same_write(
    cstore: Store, clock: FakeClock
) -> None:
    from slackbridge.store.repositories.deliveries import DeliveryOutcome

    ep = await _endpoint(cstore)
    await cstore.deliveries.enqueue(
        [_delivery("a1", ep, "T1:C1"), _delivery("b1", ep, "T1:C2"), _delivery("a2", ep, "T1:C1")]
    )
    a1, b1 = await cstore.deliveries.claim("w")
    delivered = DeliveryOutcome("delivered", status_code=200)
    # Not ours: nothing settled, nothing leased.
    assert await cstore.deliveries.settle(a1, "other", delivered, next_lease=30) == (False, None)
    ours, a2 = await cstore.deliveries.settle(a1, "w", delivered, next_lease=30)
    assert ours and a2 is not None and a2.webhook_id == "a2"
    assert (a2.status, a2.attempts, a2.lease_owner) == ("delivering", 1, "w")
    stored = await cstore.deliveries.get(a1.id)
    assert stored is not None and stored.status == "delivered" and stored.last_status == 200
    assert stored.delivered_at is not None and stored.lease_owner is None
    # The lane's end: settled, nothing next.
    dead = DeliveryOutcome("dead", status_code=500, error="gave up")
    assert await cstore.deliveries.settle(a2, "w", dead, next_lease=30) == (True, None)
    stored = await cstore.deliveries.get(a2.id)
    assert stored is not None and (stored.status, stored.last_error) == ("dead", "gave up")
    # A next row that is not due yet is left alone.
    await cstore.deliveries.enqueue(
        [
            _delivery("b2", ep, "T1:C2"),
            NewDelivery(
                "b3",
                ep,
                "message.posted",
                "{}",
                ordering_key="T1:C2",
                not_before=clock.now + timedelta(seconds=60),
            ),
        ]
    )
    ours, b2 = await cstore.deliveries.settle(b1, "w", delivered, next_lease=30)
    assert ours and b2 is not None and b2.webhook_id == "b2"
    assert await cstore.deliveries.settle(b2, "w", delivered, next_lease=30) == (True, None)
    b3 = await cstore.deliveries.get_by_webhook_id("b3")
    assert b3 is not None and b3.status == "pending" and b3.attempts == 0


async def test_purge_goes_in_chunks_of_its_own_writes(
    cstore: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A purge deletes in chunks, each one write of the store's write path (the ingress's
    commits go between them), until no old settled row is left; dead rows and young rows stay."""
    monkeypatch.setattr(repository_base, "PURGE_CHUNK", 3)
    sizes: list[tuple[int, float]] = []

    def same_size(size: int, took: float) -> int:
        sizes.append((size, took))
        return size

    monkeypatch.setattr(purge_pace, "next_chunk", same_size)
    ep = await _endpoint(cstore)
    await cstore.deliveries.enqueue([_delivery(f"old{i}", ep, None) for i in range(8)])
    for d in await cstore.deliveries.claim("w1", limit=10):
        if d.webhook_id == "old0":
            await cstore.deliveries.mark_dead(d.id, "w1", error="410 Gone", status_code=410)
        else:
            await cstore.deliveries.mark_delivered(d.id, "w1", status_code=204)
    clock.advance(3600)
    cutoff = clock.now
    clock.advance(1)
    await cstore.deliveries.enqueue([_delivery("young", ep, None)])
    (young,) = await cstore.deliveries.claim("w1", limit=10)
    await cstore.deliveries.mark_delivered(young.id, "w1", status_code=204)

    writes = 0
    real_write = cstore.db.write

    async def counted(job: Any) -> Any:
        nonlocal writes
        writes += 1
        return await real_write(job)

    monkeypatch.setattr(cstore.db, "write", counted)
    assert await cstore.deliveries.purge(older_than=cutoff) == 7
    assert writes == 3  # 3 + 3 + 1: the last chunk, short, ends the purge
    # Each full chunk's time was measured and given to the pace (the short last one ends it).
    assert [size for size, _ in sizes] == [3, 3] and all(took > 0 for _, took in sizes)
    left = await cstore.deliveries.list(limit=10)
    assert sorted(d.webhook_id for d in left) == ["old0", "young"]
    assert await cstore.deliveries.purge(older_than=cutoff) == 0


async def test_a_purge_sizes_its_next_chunk_by_the_pace(
    cstore: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository_base, "PURGE_CHUNK", 2)
    monkeypatch.setattr(purge_pace, "next_chunk", lambda size, took: size * 2)
    ep = await _endpoint(cstore)
    await cstore.deliveries.enqueue([_delivery(f"old{i}", ep, None) for i in range(20)])
    for d in await cstore.deliveries.claim("w1", limit=30):
        await cstore.deliveries.mark_delivered(d.id, "w1", status_code=204)
    clock.advance(3600)
    chunks: list[int] = []
    real_write = cstore.db.write

    async def counted(job: Any) -> Any:
        gone, took = await real_write(job)
        chunks.append(gone)
        return gone, took

    monkeypatch.setattr(cstore.db, "write", counted)
    assert await cstore.deliveries.purge(older_than=clock.now) == 20
    assert chunks == [2, 4, 8, 6]  # doubled each time; the short last one ends the purge
    assert await cstore.deliveries.list(limit=30) == []
