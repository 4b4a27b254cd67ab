"""On PostgreSQL the write path runs many lanes' steps of one batch as one statement: each lane
settled and its next row leased exactly as its step alone (the Core step) does it; a lane with
nothing next, or nothing due, leases nothing; a step whose row is no longer ours settles
nothing; and a plan made while the queue was nearly empty still seeks its rows."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.util import await_only

from slackbridge.store.queue_postgres import PgQueue, StaleRowVersion, raw_postgres
from slackbridge.store.queue_statements import pg_statements
from slackbridge.store.queue_steps import LaneStep
from slackbridge.store.repositories.deliveries import Delivery, DeliveryOutcome, NewDelivery
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.store import Store

from .conftest import FakeClock, wait_until
from .plain_support import in_session, without_ids
from .test_queue_postgres_drain import LANES, _literal, _nodes, drained_then_burst

_DELIVERED = DeliveryOutcome("delivered", status_code=200)
_DEAD = DeliveryOutcome("dead", status_code=410, error="gone")


async def _lanes(store: Store, clock: FakeClock, prefix: str) -> dict[str, Delivery]:
    """Five lanes, their heads leased to ``w``: ``two`` (a next row), ``one`` (nothing next),
    ``later`` (its next row not due yet), ``lost`` (its head taken by another runner since),
    ``dead`` (settled as dead, a next row)."""
    repo = store.deliveries
    ep = (await store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    later = clock.now + timedelta(seconds=90)
    rows = []
    for lane, count in (("two", 2), ("one", 1), ("later", 2), ("lost", 2), ("dead", 2)):
        for n in range(count):
            rows.append(
                NewDelivery(
                    f"{prefix}{lane}{n}",
                    ep,
                    "message.posted",
                    json.dumps({"n": n}),
                    ordering_key=f"{prefix}:{lane}",
                    not_before=later if (lane, n) == ("later", 1) else None,
                )
            )
    await repo.enqueue(rows)
    heads = {d.ordering_key.split(":")[1]: d for d in await repo.claim("w", limit=20)}
    assert set(heads) == {"two", "one", "later", "lost", "dead"}
    async with store.db.engine.begin() as conn:  # another runner holds "lost" now
        await conn.execute(
            text("UPDATE deliveries SET lease_owner = 'x' WHERE id = :id"),
            {"id": heads["lost"].id},
        )
    return heads


def _steps(store: Store, heads: dict[str, Delivery]) -> list[LaneStep]:
    repo = store.deliveries
    steps = []
    for name, head in heads.items():
        outcome = _DEAD if name == "dead" else _DELIVERED
        lane = {"endpoint_id": head.endpoint_id, "ordering_key": head.ordering_key}
        values = repo._finished_values(outcome)
        steps.append(LaneStep(repo._queue, head.id, "w", lane, 30.0, values))
    return steps


def _summary(result: tuple[bool, Any]) -> tuple[bool, str | None]:
    ours, row = result
    return ours, (None if row is None else str(row["webhook_id"])[1:])


def _count_statements(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of steps of each many-steps statement run from now on."""
    calls: list[int] = []
    original = PgQueue.settle_and_take_next_many

    def counted(self: PgQueue, raw: Any, steps: Any, *args: Any) -> Any:
        calls.append(len(steps))
        return original(self, raw, steps, *args)

    monkeypatch.setattr(PgQueue, "settle_and_take_next_many", counted)
    return calls


async def test_steps_of_many_lanes_run_as_one_statement_as_each_would_alone(
    pg_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_statements(monkeypatch)
    together = await _lanes(pg_store, clock, "p")
    alone = await _lanes(pg_store, clock, "c")
    clock.advance(1)

    db = pg_store.db
    before = db.write_path.batches
    # Submitted at once: one batch, whose steps of one group share a statement (the delivered
    # ones: four; the dead one settles other columns, so it is a group of its own).
    found = await asyncio.gather(*(db.write(step) for step in _steps(pg_store, together)))
    assert db.write_path.batches == before + 1
    assert calls == [4]
    core = [await in_session(db, step) for step in _steps(pg_store, alone)]  # each, in Core

    assert (
        [_summary(r) for r in found]
        == [_summary(r) for r in core]
        == [
            (True, "two1"),
            (True, None),  # nothing next
            (True, None),  # the next row is not due
            (False, None),  # no longer ours: nothing settled, nothing leased
            (True, "dead1"),
        ]
    )
    assert found[0][1] is not None and core[0][1] is not None
    assert found[0][1]["lease_expires_at"] == clock.now + timedelta(seconds=30)
    for key in found[0][1]:
        if key not in ("id", "webhook_id", "ordering_key"):
            assert found[0][1][key] == core[0][1][key], key
    repo = pg_store.deliveries
    for lane, count in (("two", 2), ("one", 1), ("later", 2), ("lost", 2), ("dead", 2)):
        for n in range(count):
            p = await repo.get_by_webhook_id(f"p{lane}{n}")
            c = await repo.get_by_webhook_id(f"c{lane}{n}")
            assert p is not None and c is not None
            assert without_ids(p) == without_ids(c), (lane, n)
    settled = await repo.get_by_webhook_id("ptwo0")
    assert settled is not None and (settled.status, settled.last_status) == ("delivered", 200)
    gone = await repo.get_by_webhook_id("pdead0")
    assert gone is not None and (gone.status, gone.last_error) == ("dead", "gone")


async def test_a_failing_statement_leaves_each_step_to_run_alone(
    pg_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def broken(self: PgQueue, raw: Any, steps: Any, *args: Any) -> Any:
        calls.append(len(steps))
        await_only(raw.execute("SELECT 1/0"))  # aborts the batch's transaction

    monkeypatch.setattr(PgQueue, "settle_and_take_next_many", broken)
    heads = await _lanes(pg_store, clock, "p")
    found = await asyncio.gather(*(pg_store.db.write(s) for s in _steps(pg_store, heads)))
    assert calls == [4]  # tried together once, then each alone
    assert [_summary(r) for r in found] == [
        (True, "two1"),
        (True, None),
        (True, None),
        (False, None),
        (True, "dead1"),
    ]
    following = await pg_store.deliveries.get_by_webhook_id("ptwo1")
    assert following is not None and (following.attempts, following.lease_owner) == (1, "w")


async def test_the_deliveries_settle_of_many_lanes_at_once_runs_as_one_statement(
    pg_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_statements(monkeypatch)
    repo = pg_store.deliveries
    ep = (await pg_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    await repo.enqueue(
        [
            NewDelivery(f"{lane}-{n}", ep, "message.posted", "{}", ordering_key=f"C{lane}")
            for lane in range(8)
            for n in range(2)
        ]
    )
    heads = await repo.claim("w", limit=20)
    assert len(heads) == 8
    settled = await asyncio.gather(
        *(repo.settle(head, "w", _DELIVERED, next_lease=30) for head in heads)
    )
    # A lone step goes first on its own; the others wait for it and then share a statement.
    assert sum(calls) >= 2 and max(calls) >= 2
    assert [(ours, following and following.webhook_id) for ours, following in settled] == [
        (True, f"{lane}-1") for lane in range(8)
    ]


async def test_two_steps_of_one_lane_never_run_together(pg_store: Store, clock: FakeClock) -> None:
    heads = await _lanes(pg_store, clock, "p")
    first, _, _, _, _ = _steps(pg_store, heads)
    twin = LaneStep(first.queue, first.row_id, "w", first.lane, 30.0, first.values)
    assert first.write_group == twin.write_group

    def together(conn: Any) -> Any:
        return first.run_together(conn, [first, twin])

    assert await pg_store.db.write(together) is None


async def _blocked_on_a_lock(store: Store) -> bool:
    async with store.db.engine.connect() as conn:
        waiting = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        return bool(waiting.scalar())


@pytest.mark.parametrize("changed", ["settled row", "next row"])
async def test_a_row_changed_by_a_commit_after_the_statement_began_is_stepped_alone(
    pg_store: Store, clock: FakeClock, changed: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Another transaction holds a row the statement locks, changes a row of the lane (keeping
    what the step checks) and commits while the statement waits: the statement's updates can't
    see that version. The steps then run again each alone: the row settled, its next leased."""
    heads = await _lanes(pg_store, clock, "p")
    two = heads["two"]
    async with pg_store.db.engine.connect() as holder:
        if changed == "settled row":
            # As a lease renewal does: the owner and the status stay.
            await holder.execute(
                text("UPDATE deliveries SET lease_expires_at = lease_expires_at WHERE id = :id"),
                {"id": two.id},
            )
        else:
            await holder.execute(
                text("SELECT 1 FROM deliveries WHERE id = :id FOR SHARE"), {"id": two.id}
            )
            await holder.execute(
                text("UPDATE deliveries SET not_before = not_before WHERE webhook_id = 'ptwo1'")
            )
        caplog.set_level(logging.WARNING, "slackbridge.store")
        steps = _steps(pg_store, heads)
        found = asyncio.gather(*(pg_store.db.write(step) for step in steps))
        await wait_until(lambda: _blocked_on_a_lock(pg_store), what="the statement waiting")
        await holder.commit()
    results = await found
    assert [_summary(r) for r in results] == [
        (True, "two1"),
        (True, None),
        (True, None),
        (False, None),
        (True, "dead1"),
    ]
    assert "run together failed" in caplog.text and StaleRowVersion.__name__ in caplog.text
    following = await pg_store.deliveries.get_by_webhook_id("ptwo1")
    assert following is not None and (following.lease_owner, following.attempts) == ("w", 1)


async def test_many_steps_planned_on_a_near_empty_queue_still_seek_their_rows(
    pg_store: Store, clock: FakeClock
) -> None:
    db = pg_store.db
    repo = pg_store.deliveries
    spec = repo._queue.spec
    rows, heads = await drained_then_burst(pg_store)
    lanes = LANES
    values = repo._finished_values(_DELIVERED)
    names = tuple(sorted(values))

    def prepare(conn: Any) -> None:
        raw = raw_postgres(conn)
        assert raw is not None
        text_ = pg_statements(spec, conn.dialect).many_steps_statement(names)
        await_only(raw.execute("SET plan_cache_mode = force_generic_plan"))
        await_only(raw.execute(f"PREPARE many_steps AS {text_}"))

    def explain(conn: Any) -> dict[str, Any]:
        raw = raw_postgres(conn)
        assert raw is not None
        now = clock()
        table = pg_statements(spec, conn.dialect).table

        def array(items: list[Any], sql_type: str) -> str:
            inner = ", ".join(_literal(table_value) for table_value in items)
            return f"ARRAY[{inner}]::{sql_type}[]"

        args = [_literal("w"), _literal(now), _literal(now)]
        args.append(array([h.id for h in heads], "bigint"))
        args.append(array([h.endpoint_id for h in heads], table.sql_types["endpoint_id"]))
        args.append(array([h.ordering_key for h in heads], table.sql_types["ordering_key"]))
        for name in names:
            args.append(
                array([table.value(name, values[name]) for _ in heads], table.sql_types[name])
            )
        found = await_only(
            raw.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE many_steps({', '.join(args)})")
        )
        await_only(raw.execute("DEALLOCATE many_steps"))
        await_only(raw.execute("RESET plan_cache_mode"))
        plan: dict[str, Any] = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
        return plan

    async with db.engine.connect() as conn:
        await conn.execution_options(slackbridge_plain=True)
        await conn.run_sync(prepare)
        await repo.enqueue(rows(2000 + 4 * lanes, 4000))  # the table grows; the plan is kept
        plan = await conn.run_sync(explain)
        await conn.rollback()

    seen = set()
    for cte, node in _nodes(plan):
        if node.get("Relation Name") != "deliveries" or node["Node Type"] == "ModifyTable":
            continue
        seen.add(cte)
        kind = node["Node Type"]
        if cte in ("CTE settled", "CTE taken"):
            # The rows to update, by the row versions the seeks below found and locked.
            assert kind == "Tid Scan" and "(ctid = " in node["TID Cond"], (cte, node)
            continue
        assert kind == "Index Scan", (cte, kind)
        cond = node.get("Index Cond", "")
        if node["Index Name"] == "pk_deliveries":
            assert cte == "CTE mine" and "(id = i.id)" in cond, (cte, cond)
            continue
        # The lane index: sought by its leading columns, never read whole.
        assert "endpoint_id =" in cond and "ordering_key" in cond, (cte, cond)
        # The settled row itself; the next row past it.
        assert ("(id = i.id)" if cte == "CTE mine" else "(id > s_1.id)") in cond, (cte, cond)
    assert seen == {"CTE mine", "CTE settled", "CTE head", "CTE taken"}
