"""Claims by plain statements take exactly the rows Core's claim takes, on both engines (the
inbox's and the outbox's JSON columns read back as Core reads them)."""

from __future__ import annotations

from datetime import timedelta

from slackbridge.store.repositories.deliveries import NewDelivery
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.repositories.inbox import NewInboxItem
from slackbridge.store.repositories.outbox import NewOutboxMessage
from slackbridge.store.store import Store

from .conftest import FakeClock
from .plain_support import core_claim


async def test_claims_take_the_same_rows_either_way(plain_store: Store, clock: FakeClock) -> None:
    db, repo = plain_store.db, plain_store.deliveries
    eps = [
        (await plain_store.endpoints.upsert(EndpointSpec(f"http://127.0.0.1:9/{n}", secret="s"))).id
        for n in range(2)
    ]
    later = clock.now + timedelta(seconds=60)
    await repo.enqueue(
        [
            NewDelivery(f"d{n}", eps[n % 2], "message.posted", "{}", ordering_key=f"T:C{n % 3}")
            for n in range(12)
        ]
        + [
            NewDelivery("free", eps[0], "message.posted", "{}"),
            NewDelivery("late", eps[1], "message.posted", "{}", not_before=later),
        ]
    )
    await repo.claim("other", limit=1)  # one lane's head leased to another worker
    queue = repo._queue
    for filters in (
        None,
        {"endpoint_id": eps[1]},
        {"endpoint_id": [eps[0]]},
        {"ordering_key": None},
    ):
        for limit in (1, 3, 50):
            kwargs = {"owner": "w", "limit": limit, "lease_seconds": 30.0, "filters": filters}
            core = await core_claim(db, queue, **kwargs)
            plain = await db.write(
                lambda conn, kw=kwargs: [dict(r) for r in queue.claim_rows(conn, **kw)]
            )
            assert plain == core
            assert plain
            await db.write(
                lambda conn, rows=plain: [queue.release(conn, r["id"], "w") for r in rows]
            )
    # JSON columns (the inbox's headers, the outbox's payload) read back as Core reads them.
    inbox = plain_store.inbox
    await inbox.insert_many(
        [
            NewInboxItem(f"k{n}", "events" if n % 2 else "commands", b"{}", headers={"n": n})
            for n in range(5)
        ]
    )
    kwargs = {"owner": "w", "limit": 10, "lease_seconds": 30.0, "filters": {"kind": ["events"]}}
    core = await core_claim(db, inbox._queue, **kwargs)
    plain = await db.write(lambda conn: [dict(r) for r in inbox._queue.claim_rows(conn, **kwargs)])
    assert plain == core and len(plain) == 2 and plain[0]["headers"] == {"n": 1}
    outbox = plain_store.outbox
    await outbox.enqueue(
        NewOutboxMessage(
            message_id="m1",
            team_id="T1",
            method="chat.postMessage",
            payload={"text": "é", "n": [1, 2]},
            lane_key="T1:C1",
        )
    )
    kwargs = {"owner": "w", "limit": 10, "lease_seconds": 30.0}
    core = await core_claim(db, outbox._queue, **kwargs)
    plain = await db.write(lambda conn: [dict(r) for r in outbox._queue.claim_rows(conn, **kwargs)])
    assert plain == core and plain[0]["payload"] == {"text": "é", "n": [1, 2]}
