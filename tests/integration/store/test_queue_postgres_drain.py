"""A lane step's plan on PostgreSQL stays a few index seeks however the table grows after its
plan was made: a connection prepares the step once and keeps its generic plan, made while the
queue was nearly empty (and, with autovacuum off or not yet run, never made again)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.util import await_only

from slackbridge.store.queue_postgres import raw_postgres
from slackbridge.store.queue_statements import pg_statements
from slackbridge.store.repositories.deliveries import Delivery, DeliveryOutcome, NewDelivery
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.store import Store

from .conftest import FakeClock

_Node = tuple[str | None, dict[str, Any]]


def _nodes(plan: dict[str, Any], cte: str | None = None) -> Iterator[_Node]:
    """Every node of ``plan`` with the name of the CTE it belongs to."""
    cte = plan.get("Subplan Name", cte)
    yield cte, plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child, cte)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


#: Lanes of :func:`drained_then_burst`'s deliveries.
LANES = 8
Rows = Callable[[int, int], list[NewDelivery]]


async def drained_then_burst(store: Store) -> tuple[Rows, list[Delivery]]:
    """As after the bench's warm-up: 2,000 deliveries over :data:`LANES` lanes all done, then
    vacuumed and analyzed (the open rows' lane index is then known as empty), and then a new
    burst of four a lane, whose heads are claimed by ``w``. Returns the rows' factory (numbered
    from ``start``) and the heads."""
    db = store.db
    repo = store.deliveries
    ep = (await store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id

    def rows(start: int, count: int) -> list[NewDelivery]:
        return [
            NewDelivery(f"w{i}", ep, "message.posted", "{}", ordering_key=f"C{i % LANES}")
            for i in range(start, start + count)
        ]

    await repo.enqueue(rows(0, 2000))
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql("UPDATE deliveries SET status = 'delivered'")
        await conn.commit()
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql("VACUUM (ANALYZE) deliveries")
    await repo.enqueue(rows(2000, 4 * LANES))
    heads = await repo.claim("w", limit=LANES, lease_seconds=30.0)
    assert len(heads) == LANES
    return rows, heads


async def test_a_step_planned_on_a_near_empty_queue_still_seeks_its_rows(
    pg_store: Store, clock: FakeClock
) -> None:
    db = pg_store.db
    repo = pg_store.deliveries
    queue = repo._queue
    rows, heads = await drained_then_burst(pg_store)
    lanes = LANES
    values = repo._finished_values(DeliveryOutcome("delivered", status_code=200))
    names = tuple(sorted(values))

    def prepare(conn: Any) -> list[Any]:
        raw = raw_postgres(conn)
        assert raw is not None
        step = pg_statements(queue.spec, conn.dialect).step_statement(names)
        await_only(raw.execute("SET plan_cache_mode = force_generic_plan"))
        await_only(raw.execute(f"PREPARE drain_step AS {step}"))
        return [
            pg_statements(queue.spec, conn.dialect).table.value(name, values[name])
            for name in names
        ]

    def explain(conn: Any) -> dict[str, Any]:
        raw = raw_postgres(conn)
        assert raw is not None
        head = heads[0]
        now = clock()
        args = [head.endpoint_id, head.ordering_key, "w", now, now, head.id, *settled]
        # EXPLAIN EXECUTE takes no parameters: the values as literals.
        literals = ", ".join(_literal(arg) for arg in args)
        found = await_only(raw.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE drain_step({literals})"))
        await_only(raw.execute("DEALLOCATE drain_step"))
        await_only(raw.execute("RESET plan_cache_mode"))
        plan: dict[str, Any] = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
        return plan

    async with db.engine.connect() as conn:
        await conn.execution_options(slackbridge_plain=True)
        settled = await conn.run_sync(prepare)
        await repo.enqueue(rows(2000 + 4 * lanes, 4000))  # the table grows; the plan is kept
        plan = await conn.run_sync(explain)
        await conn.rollback()

    seen = set()
    for cte, node in _nodes(plan):
        if node.get("Relation Name") != "deliveries" or node["Node Type"] == "ModifyTable":
            continue
        seen.add(cte)
        assert node["Node Type"] == "Index Scan", (cte, node["Node Type"])
        cond = node.get("Index Cond", "")
        if node["Index Name"] != "pk_deliveries":
            # The lane index: sought by its leading columns, never read whole.
            assert "endpoint_id =" in cond and "ordering_key" in cond, (cte, cond)
        elif cte in ("CTE settled", "CTE taken"):
            assert "(id = $" in cond, (cte, cond)
        if cte == "CTE head":
            # The next row after the settled one: a seek past the rows the lane settled.
            assert "(id > $" in cond, cond
    assert seen == {"CTE settled", "CTE head", "CTE taken"}


async def test_a_lower_id_committed_after_the_step_went_past_it_is_delivered_after_the_run(
    pg_store: Store,
) -> None:
    """Another gateway's insert commits late: its row's id is lower than rows the lane's runner
    has already taken. It is not leased beside the runner's row, and once the runner is done
    the claim takes it; every row is delivered once."""
    repo = pg_store.deliveries
    ep = (await pg_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    delivered = DeliveryOutcome("delivered", status_code=200)

    def one(name: str) -> list[NewDelivery]:
        return [NewDelivery(name, ep, "message.posted", "{}", ordering_key="T:C")]

    await repo.enqueue(one("a"))
    async with pg_store.db.transaction() as session:
        await repo.enqueue(one("late"), session=session)  # its id now, its commit below
        await repo.enqueue(one("b") + one("c"))
        (head,) = await repo.claim("w", limit=10)
        assert head.webhook_id == "a"
        ours, following = await repo.settle(head, "w", delivered, next_lease=30)
        assert ours and following is not None and following.webhook_id == "b"
    late = await repo.get_by_webhook_id("late")
    assert late is not None and late.id < following.id and late.status == "pending"

    # The lane holds a live lease (b): the late row is not leased beside it.
    assert await repo.claim("other", limit=10) == []
    ours, following = await repo.settle(following, "w", delivered, next_lease=30)
    assert ours and following is not None and following.webhook_id == "c"
    assert await repo.claim("other", limit=10) == []
    ours, following = await repo.settle(following, "w", delivered, next_lease=30)
    assert ours and following is None  # nothing after c: the runner is done

    (taken,) = await repo.claim("other", limit=10)
    assert taken.webhook_id == "late"
    ours, following = await repo.settle(taken, "other", delivered, next_lease=30)
    assert ours and following is None
    statuses = {}
    for name in ("a", "late", "b", "c"):
        row = await repo.get_by_webhook_id(name)
        assert row is not None
        statuses[name] = (row.status, row.attempts)
    assert statuses == {name: ("delivered", 1) for name in statuses}
