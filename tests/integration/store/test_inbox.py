"""The inbox: deduplicated group inserts, claims with leases, retries, expiry, fencing."""

from __future__ import annotations

import asyncio

import pytest

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database, open_database
from slackbridge.store.repositories.inbox import NewInboxItem
from slackbridge.store.store import Store

from .conftest import FakeClock


def _item(key: str, kind: str = "events") -> NewInboxItem:
    return NewInboxItem(
        dedupe_key=key,
        kind=kind,  # type: ignore[arg-type]
        body=b'{"event_id": "' + key.encode() + b'"}',
        team_id="T1",
        headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"},
    )


async def test_insert_many_reports_duplicates_in_order(cstore: Store, clock: FakeClock) -> None:
    first = await cstore.inbox.insert_many([_item("Ev1"), _item("Ev2"), _item("Ev1")])
    assert [tuple(r) for r in first] == [("Ev1", True), ("Ev2", True), ("Ev1", False)]
    second = await cstore.inbox.insert_many([_item("Ev2"), _item("Ev3")])
    assert [tuple(r) for r in second] == [("Ev2", False), ("Ev3", True)]
    assert await cstore.inbox.insert_many([]) == []
    stored = await cstore.inbox.get_by_key("Ev1")
    assert stored is not None
    assert stored.body == b'{"event_id": "Ev1"}'
    assert stored.headers["x-slack-retry-reason"] == "http_timeout"
    assert stored.status == "pending" and stored.attempts == 0
    assert stored.received_at == clock.now
    assert (await cstore.inbox.counts())["pending"] == 3


async def test_insert_many_is_one_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.db.transaction() as tx:
            await store.inbox.insert_many([_item("Ev1"), _item("Ev2")], session=tx)
            raise RuntimeError("the group commit failed")
    assert await store.inbox.get_by_key("Ev1") is None
    assert (await store.inbox.insert(_item("Ev1"))).inserted


async def test_large_batches_are_chunked(store: Store) -> None:
    items = [_item(f"Ev{i}") for i in range(1203)]
    results = await store.inbox.insert_many(items)
    assert all(r.inserted for r in results) and len(results) == 1203
    assert (await store.inbox.counts())["pending"] == 1203


async def test_claim_complete_and_fencing(cstore: Store) -> None:
    await cstore.inbox.insert_many([_item("Ev1"), _item("Ev2"), _item("Ev3")])
    claimed = await cstore.inbox.claim("w1", limit=2, lease_seconds=30)
    assert [i.dedupe_key for i in claimed] == ["Ev1", "Ev2"]
    assert all(i.status == "processing" and i.attempts == 1 for i in claimed)
    assert [i.dedupe_key for i in await cstore.inbox.claim("w2", limit=10)] == ["Ev3"]
    assert await cstore.inbox.claim("w3", limit=10) == []
    assert not await cstore.inbox.complete(claimed[0].id, "w2")  # not w2's lease
    assert await cstore.inbox.complete(claimed[0].id, "w1")
    assert not await cstore.inbox.complete(claimed[0].id, "w1")  # already done
    assert await cstore.inbox.fail(claimed[1].id, "w1", "unparseable payload")
    failed = await cstore.inbox.get(claimed[1].id)
    assert failed is not None and failed.status == "failed"
    assert failed.last_error == "unparseable payload"
    assert await cstore.inbox.counts() == {
        "pending": 0,
        "processing": 1,
        "done": 1,
        "failed": 1,
    }


async def test_expired_lease_is_taken_again(cstore: Store, clock: FakeClock) -> None:
    await cstore.inbox.insert(_item("Ev1"))
    (crashed,) = await cstore.inbox.claim("crashed-worker", lease_seconds=30)
    clock.advance(29)
    assert await cstore.inbox.claim("w2") == []
    clock.advance(2)
    (again,) = await cstore.inbox.claim("w2", lease_seconds=30)
    assert again.id == crashed.id and again.attempts == 2
    assert again.lease_owner == "w2"
    # The crashed worker woke up: it can no longer settle the row.
    assert not await cstore.inbox.complete(crashed.id, "crashed-worker")
    assert await cstore.inbox.complete(again.id, "w2")


async def test_heartbeat_extends_the_lease(cstore: Store, clock: FakeClock) -> None:
    await cstore.inbox.insert(_item("Ev1"))
    (item,) = await cstore.inbox.claim("w1", lease_seconds=30)
    clock.advance(25)
    assert await cstore.inbox.extend([item.id], "w1", 30) == 1
    assert await cstore.inbox.extend([item.id], "w2", 30) == 0
    clock.advance(25)
    assert await cstore.inbox.claim("w2") == []


async def test_retry_later_and_release(cstore: Store, clock: FakeClock) -> None:
    await cstore.inbox.insert(_item("Ev1"))
    (item,) = await cstore.inbox.claim("w1")
    assert await cstore.inbox.retry_later(item.id, "w1", clock.now.replace(minute=5), "timeout")
    clock.advance(4 * 60)
    assert await cstore.inbox.claim("w1") == []
    clock.advance(60)
    (again,) = await cstore.inbox.claim("w1")
    assert again.attempts == 2 and again.last_error == "timeout"
    assert await cstore.inbox.release(again.id, "w1")
    (third,) = await cstore.inbox.claim("w1")
    assert third.attempts == 2  # a release doesn't count as an attempt


async def test_claim_by_kind(store: Store) -> None:
    await store.inbox.insert_many([_item("a", "events"), _item("b", "commands")])
    assert [i.dedupe_key for i in await store.inbox.claim("w", kinds=["commands"])] == ["b"]


async def test_purge_removes_settled_rows(cstore: Store, clock: FakeClock) -> None:
    await cstore.inbox.insert_many([_item("Ev1"), _item("Ev2")])
    (item, _) = await cstore.inbox.claim("w1")
    await cstore.inbox.complete(item.id, "w1")
    clock.advance(3600)
    assert await cstore.inbox.purge(older_than=clock.now) == 1
    assert await cstore.inbox.get_by_key("Ev1") is None
    assert await cstore.inbox.get_by_key("Ev2") is not None


async def test_concurrent_workers_never_share_a_row(database: Database, keyring: Keyring) -> None:
    # Each worker has its own engine (own connections), as separate processes would.
    url = database.url.render_as_string(hide_password=False)
    handles = [open_database(url, schema=database.schema, pool_size=2) for _ in range(4)]
    try:
        stores = [Store(h, keyring) for h in handles]
        await stores[0].inbox.insert_many([_item(f"Ev{i}") for i in range(150)])
        taken: dict[str, list[int]] = {}

        async def worker(n: int) -> None:
            owner = f"w{n}"
            taken[owner] = []
            while True:
                batch = await stores[n].inbox.claim(owner, limit=7, lease_seconds=60)
                if not batch:
                    return
                taken[owner].extend(i.id for i in batch)
                for item in batch:
                    assert await stores[n].inbox.complete(item.id, owner)

        await asyncio.gather(*(worker(n) for n in range(4)))
        all_ids = [i for ids in taken.values() for i in ids]
        assert len(all_ids) == 150
        assert len(set(all_ids)) == 150
        assert (await stores[0].inbox.counts())["done"] == 150
    finally:
        for h in handles:
            await h.close()
