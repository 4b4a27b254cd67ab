"""The queues' plain SQLite statements write and read exactly what their Core versions do."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from slackbridge.store.models import OutboxRow, table_of
from slackbridge.store.models_base import UtcDateTime
from slackbridge.store.queue_sqlite import SqliteTable, from_text, raw_sqlite, to_text
from slackbridge.store.repositories.deliveries import DeliveryOutcome, NewDelivery
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.repositories.inbox import NewInboxItem
from slackbridge.store.repositories.inbox_batch import complete_many
from slackbridge.store.store import Store

from .conftest import FakeClock
from .plain_support import in_session, without_ids

_DIALECT = sqlite.dialect()
_TYPE = UtcDateTime().dialect_impl(_DIALECT)
_BIND = _TYPE.bind_processor(_DIALECT)
_READ = _TYPE.result_processor(_DIALECT, None)


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_timestamps_are_the_column_types_own(value: datetime) -> None:
    assert _BIND is not None and _READ is not None
    assert to_text(value) == _BIND(value)
    assert from_text(to_text(value)) == _READ(to_text(value)) == value


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_text(datetime(2030, 1, 1))


async def test_the_write_path_runs_them_plain_and_a_session_through_core(
    file_store: Store,
) -> None:
    db = file_store.db
    assert await db.write(lambda conn: raw_sqlite(conn) is not None)
    assert not await in_session(db, lambda conn: raw_sqlite(conn) is not None)


async def test_deliveries_stored_and_settled_either_way_read_back_the_same(
    file_store: Store, clock: FakeClock
) -> None:
    repo = file_store.deliveries
    ep = (await file_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    later = clock.now + timedelta(seconds=90)

    def items(prefix: str) -> list[NewDelivery]:
        return [
            NewDelivery(f"{prefix}1", ep, "message.posted", '{"a":1}', ordering_key=f"{prefix}:C"),
            NewDelivery(f"{prefix}2", ep, "message.posted", '{"b":"é"}', not_before=later),
        ]

    plain = await repo.enqueue(items("p"))
    async with file_store.db.transaction() as session:
        core = await repo.enqueue(items("c"), session=session)
    assert [r.inserted for r in plain] == [r.inserted for r in core] == [True, True]
    again = await repo.enqueue(items("p")[:1])
    assert [r.inserted for r in again] == [False]
    for n in ("1", "2"):
        p, c = await repo.get_by_webhook_id(f"p{n}"), await repo.get_by_webhook_id(f"c{n}")
        assert p is not None and c is not None
        assert without_ids(p) | {"ordering_key": None} == without_ids(c) | {"ordering_key": None}
    # Settled: through the write path (plain) and in a session (Core).
    p1, c1 = await repo.claim("w", limit=10)
    clock.advance(1)
    assert await repo.mark_dead(p1.id, "w", error="gone", status_code=410)
    async with file_store.db.transaction() as session:
        assert await repo.mark_dead(c1.id, "w", error="gone", status_code=410, session=session)
    assert not await repo.mark_dead(p1.id, "w", error="twice")
    p, c = await repo.get(p1.id), await repo.get(c1.id)
    assert p is not None and c is not None
    assert without_ids(p) | {"ordering_key": None} == without_ids(c) | {"ordering_key": None}


async def test_a_lane_step_leases_the_same_row_as_a_claim_would(
    file_store: Store, clock: FakeClock
) -> None:
    repo = file_store.deliveries
    ep = (await file_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    await repo.enqueue(
        [NewDelivery(f"d{n}", ep, "message.posted", "{}", ordering_key="T:C") for n in range(3)]
    )
    (head,) = await repo.claim("w", limit=10)
    ours, following = await repo.settle(
        head, "w", DeliveryOutcome("delivered", status_code=200), next_lease=30
    )
    assert ours and following is not None
    stored = await repo.get(following.id)
    assert stored is not None
    assert following == stored
    assert (following.webhook_id, following.status, following.attempts) == ("d1", "delivering", 1)
    assert following.lease_expires_at == clock.now + timedelta(seconds=30)


async def test_an_inbox_batch_is_completed_either_way_alike(file_store: Store) -> None:
    inbox = file_store.inbox
    await inbox.insert_many(
        [NewInboxItem(f"k{n}", "events", b"{}", None, "T1", {}) for n in range(4)]
    )
    rows = await inbox.claim("w", limit=10, lease_seconds=30)
    ids = [row.id for row in rows]
    assert await file_store.db.write(lambda conn: complete_many(conn, ids[:2], "w")) == 2
    assert await in_session(file_store.db, lambda conn: complete_many(conn, ids[2:], "w")) == 2
    assert await file_store.db.write(lambda conn: complete_many(conn, ids, "w")) == 0
    done = [await inbox.get(row_id) for row_id in ids]
    assert {(r.status, r.lease_owner, r.lease_expires_at) for r in done if r} == {
        ("done", None, None)
    }


async def test_a_failing_batch_of_plain_statements_is_rolled_back(file_store: Store) -> None:
    db = file_store.db

    def plain_then_fail(conn: Any) -> None:
        raw = raw_sqlite(conn)
        assert raw is not None
        raw.execute(
            "INSERT INTO webhook_endpoints (url_key, event_types, synchronous, enabled, "
            "created_at, updated_at) VALUES ('x', '[]', 0, 1, '', '')"
        )
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await db.write(plain_then_fail)
    # The connection is usable again, and nothing of the failed job was kept.
    assert await db.write(
        lambda conn: (
            raw_sqlite(conn)
            .execute(  # type: ignore[union-attr]
                "SELECT count(*) FROM webhook_endpoints"
            )
            .fetchone()
        )
    ) == (0,)


async def test_a_quick_read_takes_no_write_lock_and_ends_its_transaction(
    file_store: Store,
) -> None:
    db = file_store.db
    assert db.sqlite_file is not None
    holder = sqlite3.connect(db.sqlite_file, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process writing
        count = db.read_now(lambda conn: conn.execute(text("SELECT count(*) FROM inbox")).scalar())
        assert count == 0
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    # The read's transaction is over: the write path writes, and the read sees it.
    await file_store.inbox.insert_many([NewInboxItem("k", "events", b"{}")])
    assert db.read_now(lambda conn: conn.execute(text("SELECT count(*) FROM inbox")).scalar()) == 1


def test_values_are_bound_as_their_column_types_bind_them() -> None:
    outbox = table_of(OutboxRow)
    plain = SqliteTable(outbox)
    for name, value in (
        ("result", None),
        ("result", {"ts": "1.2", "ok": True}),
        ("payload", {"text": "é"}),
        ("sent_at", None),
        ("sent_at", datetime(2030, 1, 1, 12, tzinfo=UTC)),
        ("method", "chat.postMessage"),
    ):
        bind = outbox.c[name].type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
        assert plain.value(name, value) == (value if bind is None else bind(value))


_CORE_HEADS = (
    "SELECT id FROM {t} WHERE {open} AND ({nulls} OR id IN "
    "(SELECT min(id) FROM {t} WHERE {open} GROUP BY {lane}))"
)


async def test_the_lane_skip_scan_finds_the_heads_a_group_by_finds(file_store: Store) -> None:
    """Every open lane's oldest row, and every open row with a lane column NULL (each its own
    lane), under several endpoints, with heads settled (the next row heads the lane), and
    for the outbox's one-column lanes too."""
    db, repo = file_store.db, file_store.deliveries
    eps = [
        (await file_store.endpoints.upsert(EndpointSpec(f"http://127.0.0.1:9/{n}", secret="s"))).id
        for n in range(3)
    ]
    await repo.enqueue(
        [
            NewDelivery(f"d{n}", eps[n % 3], "message.posted", "{}", ordering_key=f"T:C{n % 7}")
            for n in range(60)
        ]
        + [NewDelivery(f"free{n}", eps[n % 2], "message.posted", "{}") for n in range(5)]
    )
    for lease in await repo.claim("w", limit=9):  # some heads delivered: their lanes move on
        await repo.settle(lease, "w", DeliveryOutcome("delivered", status_code=200))
    await repo.claim("w", limit=4)  # and some leased
    deliveries = repo._queue._plain
    core = _CORE_HEADS.format(
        t="deliveries",
        open="status IN ('pending', 'delivering')",
        nulls="endpoint_id IS NULL OR ordering_key IS NULL",
        lane="endpoint_id, ordering_key",
    )

    def both(conn: Any, plain: Any, query: str) -> tuple[list[int], list[int]]:
        raw = raw_sqlite(conn)
        assert raw is not None
        return sorted(plain._lane_heads(raw)), sorted(r[0] for r in raw.execute(query))

    ours, theirs = await db.write(lambda conn: both(conn, deliveries, core))
    assert ours == theirs and len(ours) == 3 * 7 + 5

    outbox = file_store.outbox._queue._plain
    rows = [
        {
            "message_id": f"m{n}",
            "team_id": "T",
            "method": "chat.postMessage",
            "lane_key": None if n % 5 == 0 else f"T:C{n % 4}",
            "payload": "{}",
            "status": "queued",
            "not_before": "2030-01-01 00:00:00.000000",
        }
        for n in range(30)
    ]

    def insert(conn: Any) -> None:
        raw = raw_sqlite(conn)
        assert raw is not None
        raw.executemany(
            "INSERT INTO outbox (message_id, team_id, method, lane_key, payload, status, "
            "not_before, attempts, created_at) VALUES (:message_id, :team_id, :method, "
            ":lane_key, :payload, :status, :not_before, 0, :not_before)",
            rows,
        )

    await db.write(insert)
    core = _CORE_HEADS.format(
        t="outbox",
        open="status IN ('queued', 'sending')",
        nulls="lane_key IS NULL",
        lane="lane_key",
    )
    ours, theirs = await db.write(lambda conn: both(conn, outbox, core))
    assert ours == theirs and len(ours) == 4 + 6


def _plans(conn: Any, texts: list[str]) -> list[str]:
    """SQLite's query plan of each statement in ``texts`` (its details joined), on ``conn``."""
    raw = raw_sqlite(conn)
    assert raw is not None
    return [
        " ".join(
            str(row[3])
            for row in raw.execute(f"EXPLAIN QUERY PLAN {text}", ["x"] * text.count("?"))
        )
        for text in texts
    ]


async def test_the_lane_skip_scan_seeks_the_lane_index(file_store: Store) -> None:
    """Its statements read the partial lane index, never the claim index (which, without
    statistics, SQLite's planner preferred for ``status IN (…)``: every open row read)."""
    queues = [file_store.deliveries._queue._plain, file_store.outbox._queue._plain]
    texts = [text for plain in queues for level in plain._skip for text in level]
    found = await file_store.db.write(lambda conn: _plans(conn, texts))
    assert len(found) == 9
    assert all("_lane_open" in plan and "_claim" not in plan for plan in found)


async def test_a_lane_step_takes_the_head_through_the_lane_index_in_one_statement(
    file_store: Store,
) -> None:
    """The lane's head is found in the partial lane index and leased by its primary key, in
    one statement (it was a read and then an update: two statements per delivered event)."""
    queues = [file_store.deliveries._queue._plain, file_store.outbox._queue._plain]
    texts = [plain._take_head for plain in queues]
    found = await file_store.db.write(lambda conn: _plans(conn, texts))
    assert len(found) == 2
    for plan in found:
        assert "INTEGER PRIMARY KEY" in plan and "_lane_open" in plan and "_claim" not in plan


async def test_a_lane_step_leaves_a_lane_whose_head_waits_or_is_leased(
    file_store: Store, clock: FakeClock
) -> None:
    """The head retried later holds its lane back (the row behind it is not leased), and a
    head another runner holds is not taken; once due and its lease gone, it is."""
    repo = file_store.deliveries
    ep = (await file_store.endpoints.upsert(EndpointSpec("http://127.0.0.1:9/h", secret="s"))).id
    await repo.enqueue(
        [NewDelivery(f"d{n}", ep, "message.posted", "{}", ordering_key="T:C") for n in range(2)]
    )
    (head,) = await repo.claim("w", limit=10)
    later = clock.now + timedelta(seconds=60)
    retry = DeliveryOutcome("retry", status_code=500, error="HTTP 500", not_before=later)
    assert await repo.settle(head, "w", retry, next_lease=30) == (True, None)
    behind = await repo.get_by_webhook_id("d1")
    assert behind is not None and (behind.status, behind.attempts) == ("pending", 0)
    clock.advance(61)
    (again,) = await repo.claim("x", limit=10)  # the head, due again, leased by another
    assert again.webhook_id == "d0"
    queue = repo._queue
    lane = {"endpoint_id": ep, "ordering_key": "T:C"}
    taken = await file_store.db.write(lambda conn: queue.claim_lane_head(conn, "w", lane, 30))
    assert taken is None
    clock.advance(120)  # the other runner's lease ran out
    taken = await file_store.db.write(lambda conn: queue.claim_lane_head(conn, "w", lane, 30))
    assert taken is not None
    assert (taken["id"], taken["lease_owner"], taken["attempts"]) == (head.id, "w", 3)
