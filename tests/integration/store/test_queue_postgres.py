"""The queues' plain PostgreSQL statements write, claim and read back exactly what their Core
versions do; a failing batch rolls them back; jobs submitted together share one commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.util import await_only

from slackbridge.store.queue_postgres import raw_postgres
from slackbridge.store.repositories.deliveries import DeliveryOutcome, NewDelivery
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.repositories.inbox import NewInboxItem
from slackbridge.store.repositories.inbox_batch import complete_many
from slackbridge.store.store import Store

from .conftest import FakeClock
from .plain_support import Undo, in_session, without_ids


async def test_the_write_path_runs_them_plain_and_a_session_through_core(pg_store: Store) -> None:
    db = pg_store.db
    assert await db.write(lambda conn: raw_postgres(conn) is not None)
    assert not await in_session(db, lambda conn: raw_postgres(conn) is not None)


async def test_deliveries_stored_stepped_and_settled_either_way_read_back_the_same(
    pg_store: Store, clock: FakeClock
) -> None:
    repo = pg_store.deliveries
    ep = (await pg_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    later = clock.now + timedelta(seconds=90)

    def items(prefix: str) -> list[NewDelivery]:
        return [
            NewDelivery(f"{prefix}1", ep, "message.posted", '{"a":1}', ordering_key=f"{prefix}:C"),
            NewDelivery(
                f"{prefix}2", ep, "message.posted", '{"b":"é"}', ordering_key=f"{prefix}:C"
            ),
            NewDelivery(f"{prefix}3", ep, "message.posted", "{}", not_before=later),
        ]

    plain = await repo.enqueue(items("p"))
    async with pg_store.db.transaction() as session:
        core = await repo.enqueue(items("c"), session=session)
    assert [r.inserted for r in plain] == [r.inserted for r in core] == [True, True, True]
    assert [r.inserted for r in await repo.enqueue(items("p")[:1])] == [False]
    for n in ("1", "2", "3"):
        p, c = await repo.get_by_webhook_id(f"p{n}"), await repo.get_by_webhook_id(f"c{n}")
        assert p is not None and c is not None
        assert without_ids(p) == without_ids(c)
    p1 = await repo.get_by_webhook_id("p1")
    p2 = await repo.get_by_webhook_id("p2")
    assert p1 is not None and p2 is not None and p1.id < p2.id  # ids in the rows' order

    # A lane's step: settled and the next row leased, plain (one statement) and in Core.
    heads = {d.webhook_id: d for d in await repo.claim("w", limit=10)}
    assert set(heads) == {"p1", "c1"}
    clock.advance(1)
    queue = repo._queue
    delivered = repo._finished_values(DeliveryOutcome("delivered", status_code=200))
    results = {}
    for prefix, run in (("p", pg_store.db.write), ("c", lambda job: in_session(pg_store.db, job))):
        head = heads[f"{prefix}1"]
        lane = {"endpoint_id": ep, "ordering_key": f"{prefix}:C"}
        results[prefix] = await run(
            lambda conn, h=head, ln=lane: queue.complete_and_take_next(
                conn, h.id, "w", ln, 30.0, delivered
            )
        )
    (p_ours, p_next), (c_ours, c_next) = results["p"], results["c"]
    assert p_ours and c_ours and p_next is not None and c_next is not None
    for key in p_next:
        if key not in ("id", "webhook_id", "ordering_key"):
            assert p_next[key] == c_next[key], key
    assert p_next["lease_expires_at"] == clock.now + timedelta(seconds=30)
    for n in ("1", "2"):
        p, c = await repo.get_by_webhook_id(f"p{n}"), await repo.get_by_webhook_id(f"c{n}")
        assert p is not None and c is not None
        assert without_ids(p) == without_ids(c)
    # Not ours any more: nothing is settled, nothing leased.
    again = await pg_store.db.write(
        lambda conn: queue.complete_and_take_next(
            conn, heads["p1"].id, "w", {"endpoint_id": ep, "ordering_key": "p:C"}, 30.0, delivered
        )
    )
    assert again == (False, None)
    # The last of a lane: settled, nothing next; a dead one settled with its error.
    p2_leased = await repo.get_by_webhook_id("p2")
    assert p2_leased is not None
    dead = DeliveryOutcome("dead", status_code=410, error="gone")
    ours, following = await repo.settle(p2_leased, "w", dead, next_lease=30)
    assert ours and following is None
    c2 = await repo.get_by_webhook_id("c2")
    assert c2 is not None
    async with pg_store.db.transaction() as session:
        assert await repo.mark_dead(c2.id, "w", error="gone", status_code=410, session=session)
    p, c = await repo.get_by_webhook_id("p2"), await repo.get_by_webhook_id("c2")
    assert p is not None and c is not None and p.status == "dead"
    assert without_ids(p) == without_ids(c)


async def test_a_lane_head_is_leased_alike_and_a_leased_head_holds_its_lane(
    pg_store: Store, clock: FakeClock
) -> None:
    repo = pg_store.deliveries
    ep = (await pg_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    await repo.enqueue(
        [NewDelivery(f"d{n}", ep, "message.posted", "{}", ordering_key="T:C") for n in range(2)]
    )
    queue = repo._queue
    lane = {"endpoint_id": ep, "ordering_key": "T:C"}
    core: dict[str, Any] = {}
    with pytest.raises(Undo):
        async with pg_store.db.transaction() as session:
            found = await session.run_sync(
                lambda sync: queue.claim_lane_head(sync.connection(), "w", lane, 30.0)
            )
            core = dict(found)
            raise Undo
    plain = await pg_store.db.write(lambda conn: queue.claim_lane_head(conn, "w", lane, 30.0))
    assert plain is not None and dict(plain) == core
    assert (plain["webhook_id"], plain["attempts"]) == ("d0", 1)
    # Its lane waits while the head is leased.
    assert (
        await pg_store.db.write(lambda conn: queue.claim_lane_head(conn, "x", lane, 30.0)) is None
    )


async def test_inbox_rows_stored_either_way_read_back_the_same(pg_store: Store) -> None:
    inbox = pg_store.inbox

    def items(prefix: str) -> list[NewInboxItem]:
        return [
            NewInboxItem(f"{prefix}1", "events", b'{"a": 1}', None, "T1", {"retry": "1"}),
            NewInboxItem(f"{prefix}2", "commands", b"x=\xc3\xa9", None, None, {}),
            NewInboxItem(f"{prefix}1", "events", b"{}", None, "T1", {}),  # a repeat
        ]

    plain = await inbox.insert_many(items("p"))
    async with pg_store.db.transaction() as session:
        core = await inbox.insert_many(items("c"), session=session)
    assert [r.inserted for r in plain] == [r.inserted for r in core] == [True, True, False]
    assert [r.inserted for r in await inbox.insert_many(items("p")[:1])] == [False]
    for n in ("1", "2"):
        p, c = await inbox.get_by_key(f"p{n}"), await inbox.get_by_key(f"c{n}")
        assert p is not None and c is not None
        assert without_ids(p) == without_ids(c)
    p1, p2 = await inbox.get_by_key("p1"), await inbox.get_by_key("p2")
    assert p1 is not None and p2 is not None and p1.id < p2.id  # ids in the rows' order
    assert p1.headers == {"retry": "1"} and p2.body == b"x=\xc3\xa9"


async def test_an_inbox_batch_is_completed_either_way_alike(pg_store: Store) -> None:
    inbox = pg_store.inbox
    await inbox.insert_many(
        [NewInboxItem(f"k{n}", "events", b"{}", None, "T1", {"a": n}) for n in range(4)]
    )
    rows = await inbox.claim("w", limit=10, lease_seconds=30)
    ids = [row.id for row in rows]
    assert await inbox.complete_many(ids[:2], "w") == 2  # plain
    assert await in_session(pg_store.db, lambda conn: complete_many(conn, ids[2:], "w")) == 2
    assert await inbox.complete_many(ids, "w") == 0  # not leased any more
    done = [await inbox.get(row_id) for row_id in ids]
    assert {(r.status, r.lease_owner, r.lease_expires_at) for r in done if r} == {
        ("done", None, None)
    }


async def test_a_failing_batch_rolls_its_plain_statements_back(pg_store: Store) -> None:
    db = pg_store.db

    def plain_then_fail(conn: Connection) -> None:
        raw = raw_postgres(conn)  # the batch's first statement: it begins the transaction
        assert raw is not None and raw.is_in_transaction()
        await_only(
            raw.execute(
                "INSERT INTO webhook_endpoints (url_key, event_types, synchronous, enabled, "
                "created_at, updated_at) VALUES ('x', '[]', false, true, now(), now())"
            )
        )
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await db.write(plain_then_fail)
    # Plain statements first, then Core ones, in one job: they commit together.
    repo = pg_store.deliveries
    ep = (await pg_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    with pytest.raises(ValueError, match="late"):

        def enqueue_then_fail(conn: Connection) -> None:
            repo.enqueue_job([NewDelivery("d", ep, "message.posted", "{}")])(conn)
            conn.execute(text("SELECT 1"))
            raise ValueError("late")

        await db.write(enqueue_then_fail)
    count = await db.write(
        lambda conn: conn.execute(
            text(
                "SELECT (SELECT count(*) FROM webhook_endpoints), (SELECT count(*) FROM deliveries)"
            )
        ).one()
    )
    assert tuple(count) == (1, 0)  # the endpoint upserted, nothing of the failed jobs


async def test_jobs_submitted_together_share_a_commit_however_long_they_run(
    pg_store: Store,
) -> None:
    db = pg_store.db
    path = db.write_path  # its defaults: no cut for time on PostgreSQL

    def slow(n: int) -> Any:
        def job(conn: Connection) -> int:
            conn.execute(text("SELECT pg_sleep(0.003)"))  # longer than SQLite's 2 ms slice
            return n

        return job

    before = path.batches
    assert await asyncio.gather(*(db.write(slow(n)) for n in range(8))) == list(range(8))
    assert path.batches == before + 1
    assert path.jobs >= 8


async def test_lane_steps_have_batches_of_their_own(pg_store: Store) -> None:
    db = pg_store.db
    path = db.write_path
    started = asyncio.Event()

    def blocked(conn: Connection) -> int:
        started.set()
        conn.execute(text("SELECT pg_advisory_xact_lock(4242)"))  # waits for the holder below
        return 0

    before = path.batches
    async with db.engine.connect() as holder:
        await holder.execute(text("SELECT pg_advisory_lock(4242)"))
        other = asyncio.ensure_future(db.write(blocked))
        await started.wait()
        # The other batch can't commit yet; a step goes on in a batch of its own.
        assert await db.write(lambda conn: 1, step=True) == 1
        assert not other.done()
        await holder.execute(text("SELECT pg_advisory_unlock(4242)"))
    assert await other == 0
    assert path.batches == before + 2


async def test_a_lone_step_commits_its_statement_without_begin_or_commit(
    pg_store: Store, clock: FakeClock
) -> None:
    repo = pg_store.deliveries
    ep = (await pg_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    await repo.enqueue(
        [NewDelivery(f"d{n}", ep, "message.posted", "{}", ordering_key="T:C") for n in range(2)]
    )
    (head,) = await repo.claim("w", limit=10)

    def in_transaction(conn: Connection) -> bool:
        raw = raw_postgres(conn)
        assert raw is not None
        return bool(raw.is_in_transaction())

    assert not await pg_store.db.write(in_transaction, step=True)
    assert await pg_store.db.write(in_transaction)  # any other batch: one transaction
    ours, following = await repo.settle(
        head, "w", DeliveryOutcome("delivered", status_code=200), next_lease=30
    )
    assert ours and following is not None and following.webhook_id == "d1"
    settled, leased = await repo.get(head.id), await repo.get(following.id)
    assert settled is not None and settled.status == "delivered"
    assert leased is not None and (leased.status, leased.lease_owner) == ("delivering", "w")


async def test_an_urgent_job_of_one_statement_alone_in_its_batch_commits_by_itself(
    pg_store: Store,
) -> None:
    db = pg_store.db

    def in_transaction(conn: Connection) -> bool:
        raw = raw_postgres(conn)
        assert raw is not None
        return bool(raw.is_in_transaction())

    assert not await db.write(in_transaction, urgent=True, single=True)
    assert await db.write(in_transaction, urgent=True)  # not said to be one statement
    # Two of them in one batch: one transaction, one commit for both.
    both = await asyncio.gather(
        db.write(in_transaction, urgent=True, single=True),
        db.write(in_transaction, urgent=True, single=True),
    )
    assert both == [True, True]
    # The ingress's rows: one INSERT, committed by itself, read back at once.
    connector = db.write_path.connector
    by_itself = connector.commit_each
    alone: list[bool] = []

    async def counted(batch: Any) -> Any:
        alone.append(True)
        return await by_itself(batch)

    connector.commit_each = counted  # type: ignore[method-assign]
    try:
        results = await pg_store.inbox.insert_many(
            [NewInboxItem(f"k{n}", "events", b"{}") for n in range(3)], urgent=True
        )
    finally:
        connector.commit_each = by_itself  # type: ignore[method-assign]
    assert alone == [True]
    assert [r.inserted for r in results] == [True, True, True]
    for n in range(3):
        stored = await pg_store.inbox.get_by_key(f"k{n}")
        assert stored is not None and stored.status == "pending"
