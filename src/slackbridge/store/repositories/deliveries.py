"""Product webhook deliveries: at-least-once, ordered per (endpoint, ordering key).

``webhook_id`` is the stable id receivers dedupe on; it is unique here too, so enqueueing the
same delivery twice (an inbox row processed again after a crash) stores it once. Rows with the
same endpoint and ``ordering_key`` (e.g. ``T123:C456``) are handed out one at a time, oldest
first; rows without an ordering key go out in any order.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

import asyncpg
from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import await_only

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.models import DeliveryRow, table_of
from slackbridge.store.models_base import utcnow
from slackbridge.store.queue import Backlog, Queue, QueueRow, QueueSpec
from slackbridge.store.queue_postgres import raw_postgres
from slackbridge.store.queue_sqlite import raw_sqlite, to_text
from slackbridge.store.queue_steps import LaneStep
from slackbridge.store.repositories._base import Clock, Repository, dialect_insert_for
from slackbridge.store.write_path import Job

__all__ = [
    "DeliveriesRepository",
    "Delivery",
    "DeliveryEnqueueResult",
    "DeliveryOutcome",
    "NewDelivery",
]

_T = table_of(DeliveryRow)
_CHUNK = 100  # rows per INSERT: well under SQLite's bound-parameter limit
_INSERTS: dict[str, Any] = {}  # the enqueue statement per dialect, built once
# The same INSERT as plain SQL for the SQLite write path (store/queue_sqlite.py).
_PLAIN_INSERT = (
    "INSERT INTO deliveries (webhook_id, endpoint_id, event_type, ordering_key, payload, "
    "status, attempts, not_before, created_at) VALUES "
)
_PLAIN_ROW = "(?, ?, ?, ?, ?, 'pending', 0, ?, ?)"
_PLAIN_TAIL = " ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id"
# On PostgreSQL: every row in one statement, from arrays (store/queue_postgres.py); ids are
# given in the order of the rows (ORDER BY the arrays' ordinality), as lanes need.
_PG_INSERT = (
    "INSERT INTO deliveries (webhook_id, endpoint_id, event_type, ordering_key, payload, "
    "status, attempts, not_before, created_at) "
    "SELECT r.webhook_id, r.endpoint_id, r.event_type, r.ordering_key, r.payload, 'pending', 0, "
    "coalesce(r.not_before, $7), $7 FROM unnest($1::varchar[], $2::bigint[], $3::varchar[], "
    "$4::varchar[], $5::text[], $6::timestamptz[]) WITH ORDINALITY AS r(webhook_id, "
    "endpoint_id, event_type, ordering_key, payload, not_before, n) ORDER BY r.n"
    " ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id"
)
_SPEC = QueueSpec(
    _T,
    ready="pending",
    claimed="delivering",
    done="delivered",
    failed="dead",
    lane=("endpoint_id", "ordering_key"),
)


@dataclass(frozen=True)
class NewDelivery:
    """A webhook to send; ``payload`` is the exact JSON text that will be signed and sent."""

    webhook_id: str
    endpoint_id: int
    event_type: str
    payload: str
    ordering_key: str | None = None
    not_before: datetime | None = None


@dataclass(frozen=True)
class DeliveryOutcome:
    """How an attempt ended: ``delivered``; ``retry`` at ``not_before``; ``dead`` (given up);
    ``release`` (handed back at ``not_before`` without counting the attempt)."""

    kind: Literal["delivered", "retry", "dead", "release"]
    status_code: int | None = None
    error: str | None = None
    not_before: datetime | None = None


class DeliveryEnqueueResult(NamedTuple):
    webhook_id: str
    inserted: bool


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook_id: str
    endpoint_id: int
    event_type: str
    ordering_key: str | None
    payload: str
    status: str
    attempts: int
    not_before: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def _to_delivery(row: QueueRow) -> Delivery:
    return Delivery(
        id=int(row["id"]),
        webhook_id=row["webhook_id"],
        endpoint_id=int(row["endpoint_id"]),
        event_type=row["event_type"],
        ordering_key=row["ordering_key"],
        payload=row["payload"],
        status=row["status"],
        attempts=int(row["attempts"]),
        not_before=row["not_before"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )


class DeliveriesRepository(Repository):
    """Enqueue, claim (head of each lane only) and settle deliveries; list and replay them."""

    def __init__(self, db: Database, keyring: Keyring, clock: Clock = utcnow) -> None:
        super().__init__(db, keyring, clock)
        self._queue = Queue(db, _SPEC, clock)

    def _enqueue_rows(
        self, conn: Connection, items: Sequence[NewDelivery]
    ) -> builtins.list[DeliveryEnqueueResult]:
        raw = raw_sqlite(conn)
        if raw is not None:
            inserted = self._plain_insert(raw, items)
        elif (pg := raw_postgres(conn)) is not None:
            inserted = self._pg_insert(pg, items)
        else:
            inserted = self._core_insert(conn, items)
        results = []
        for item in items:
            results.append(DeliveryEnqueueResult(item.webhook_id, item.webhook_id in inserted))
            inserted.discard(item.webhook_id)
        return results

    def _plain_insert(self, raw: sqlite3.Connection, items: Sequence[NewDelivery]) -> set[str]:
        """The rows as multi-row INSERTs on the SQLite write path's own connection (the same
        statement as :meth:`_core_insert`'s, without SQLAlchemy's cost per row)."""
        now = to_text(self._clock())
        inserted: set[str] = set()
        for start in range(0, len(items), _CHUNK):
            chunk = items[start : start + _CHUNK]
            params: builtins.list[Any] = []
            for item in chunk:
                params += (
                    item.webhook_id,
                    item.endpoint_id,
                    item.event_type,
                    item.ordering_key,
                    item.payload,
                    now if item.not_before is None else to_text(item.not_before),
                    now,
                )
            sql = _PLAIN_INSERT + ", ".join([_PLAIN_ROW] * len(chunk)) + _PLAIN_TAIL
            inserted.update(webhook_id for (webhook_id,) in raw.execute(sql, params))
        return inserted

    def _pg_insert(self, raw: asyncpg.Connection, items: Sequence[NewDelivery]) -> set[str]:
        """The rows as one INSERT from arrays on the PostgreSQL write path's connection."""
        for item in items:
            if item.not_before is not None and item.not_before.tzinfo is None:
                raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        records = await_only(
            raw.fetch(
                _PG_INSERT,
                [item.webhook_id for item in items],
                [item.endpoint_id for item in items],
                [item.event_type for item in items],
                [item.ordering_key for item in items],
                [item.payload for item in items],
                [item.not_before for item in items],
                self._clock(),
            )
        )
        return {record[0] for record in records}

    def _core_insert(self, conn: Connection, items: Sequence[NewDelivery]) -> set[str]:
        now = self._clock()
        rows = [
            {
                "webhook_id": item.webhook_id,
                "endpoint_id": item.endpoint_id,
                "event_type": item.event_type,
                "ordering_key": item.ordering_key,
                "payload": item.payload,
                "status": _SPEC.ready,
                "attempts": 0,
                "not_before": item.not_before or now,
                "created_at": now,
            }
            for item in items
        ]
        # One cached statement run "executemany" style: SQLAlchemy sends the rows as
        # multi-row INSERTs (ids in the order of ``items``: lanes use id order), and RETURNING
        # names the ones that were new.
        stmt = _INSERTS.get(conn.dialect.name)
        if stmt is None:
            stmt = _INSERTS[conn.dialect.name] = (
                dialect_insert_for(conn.dialect.name, _T)
                .on_conflict_do_nothing(index_elements=["webhook_id"])
                .returning(_T.c.webhook_id)
            )
        inserted: set[str] = set()
        for start in range(0, len(rows), _CHUNK):
            inserted.update(conn.execute(stmt, rows[start : start + _CHUNK]).scalars().all())
        return inserted

    def enqueue_job(
        self, items: Sequence[NewDelivery]
    ) -> Job[builtins.list[DeliveryEnqueueResult]]:
        """:meth:`enqueue` as a write job, to combine with others in one transaction."""
        return lambda conn: self._enqueue_rows(conn, items)

    async def enqueue(
        self, items: Sequence[NewDelivery], *, session: AsyncSession | None = None
    ) -> builtins.list[DeliveryEnqueueResult]:
        """Store deliveries (in ``items`` order, so lanes keep that order); a ``webhook_id``
        already stored is skipped and reported as not inserted."""
        if not items:
            return []
        return await self._write(self.enqueue_job(items), session)

    async def claim(
        self,
        owner: str,
        *,
        limit: int = 50,
        lease_seconds: float = 60.0,
        endpoint_id: int | None = None,
        probe: bool = True,
    ) -> builtins.list[Delivery]:
        """Lease due deliveries to ``owner``: at most one per (endpoint, ordering key) lane, and
        only the oldest unfinished one of its lane. ``probe``: look for a due row first (see
        :meth:`~slackbridge.store.queue.Queue.claim`)."""
        filters = None if endpoint_id is None else {"endpoint_id": endpoint_id}
        rows = await self._queue.claim(owner, limit, lease_seconds, filters=filters, probe=probe)
        return [_to_delivery(r) for r in rows]

    async def settle(
        self,
        delivery: Delivery,
        owner: str,
        outcome: DeliveryOutcome,
        *,
        next_lease: float | None = None,
    ) -> tuple[bool, Delivery | None]:
        """Record ``outcome`` of an attempt at ``delivery``; with ``next_lease``, when its lane
        may go on (delivered or dead), also lease the lane's next due delivery, in the same
        transaction, so that a lane drains without waiting for a claim of all lanes. Returns
        whether the delivery was still ours, and the next delivery (or None)."""

        if next_lease is None or outcome.kind not in ("delivered", "dead"):
            return (
                await self._db.write(
                    lambda conn: self._settle_row(conn, delivery.id, owner, outcome),
                    step=next_lease is not None,
                ),
                None,
            )
        lane = {"endpoint_id": delivery.endpoint_id, "ordering_key": delivery.ordering_key}
        step = LaneStep(
            self._queue, delivery.id, owner, lane, next_lease, self._finished_values(outcome)
        )
        ours, row = await self._db.write(step, step=True)
        return ours, (None if row is None else _to_delivery(row))

    def _finished_values(self, outcome: DeliveryOutcome) -> dict[str, Any]:
        """The columns a delivered or dead delivery is settled with."""
        if outcome.kind == "delivered":
            return {
                "status": _SPEC.done,
                "last_status": outcome.status_code,
                "last_error": None,
                "delivered_at": self._clock(),
            }
        return {
            "status": _SPEC.failed,
            "last_status": outcome.status_code,
            "last_error": outcome.error or "failed",
        }

    def _settle_row(
        self, conn: Connection, delivery_id: int, owner: str, outcome: DeliveryOutcome
    ) -> bool:
        q = self._queue
        if outcome.kind in ("delivered", "dead"):
            return q.finish(conn, delivery_id, owner, self._finished_values(outcome))
        if outcome.kind == "retry":
            return q.retry_later(
                conn,
                delivery_id,
                owner,
                outcome.not_before or self._clock(),
                outcome.error,
                last_status=outcome.status_code,
            )
        return q.release(conn, delivery_id, owner, outcome.not_before)

    async def mark_delivered(
        self,
        delivery_id: int,
        owner: str,
        *,
        status_code: int,
        session: AsyncSession | None = None,
    ) -> bool:
        outcome = DeliveryOutcome("delivered", status_code=status_code)
        return await self._write(
            lambda conn: self._settle_row(conn, delivery_id, owner, outcome), session
        )

    async def retry_later(
        self,
        delivery_id: int,
        owner: str,
        not_before: datetime,
        *,
        error: str,
        status_code: int | None = None,
        session: AsyncSession | None = None,
    ) -> bool:
        """Failed this time; try again at ``not_before`` (its lane waits meanwhile)."""
        outcome = DeliveryOutcome(
            "retry", status_code=status_code, error=error, not_before=not_before
        )
        return await self._write(
            lambda conn: self._settle_row(conn, delivery_id, owner, outcome), session
        )

    async def mark_dead(
        self,
        delivery_id: int,
        owner: str,
        *,
        error: str,
        status_code: int | None = None,
        session: AsyncSession | None = None,
    ) -> bool:
        """Give up (dead letter); the next delivery of its lane can go."""
        outcome = DeliveryOutcome("dead", status_code=status_code, error=error)
        return await self._write(
            lambda conn: self._settle_row(conn, delivery_id, owner, outcome), session
        )

    async def release(
        self,
        delivery_id: int,
        owner: str,
        not_before: datetime | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> bool:
        """Hand back without counting the attempt (e.g. on shutdown)."""
        outcome = DeliveryOutcome("release", not_before=not_before)
        return await self._write(
            lambda conn: self._settle_row(conn, delivery_id, owner, outcome), session
        )

    async def extend(self, delivery_ids: Sequence[int], owner: str, lease_seconds: float) -> int:
        return await self._write(
            lambda conn: self._queue.extend(conn, delivery_ids, owner, lease_seconds)
        )

    async def retry(self, delivery_ids: Sequence[int]) -> int:
        """Replay dead deliveries (back to pending, attempts reset); returns how many."""
        return await self._write(lambda conn: self._queue.requeue(conn, delivery_ids))

    async def retry_dead(self, *, endpoint_id: int | None = None) -> int:
        """Replay every dead delivery (of one endpoint, or of all)."""
        stmt = select(_T.c.id).where(_T.c.status == _SPEC.failed)
        if endpoint_id is not None:
            stmt = stmt.where(_T.c.endpoint_id == endpoint_id)

        def job(conn: Connection) -> int:
            ids = list(conn.execute(stmt).scalars().all())
            return self._queue.requeue(conn, ids)

        return await self._write(job)

    async def get(
        self, delivery_id: int, *, session: AsyncSession | None = None
    ) -> Delivery | None:
        rows = await self._select([_T.c.id == delivery_id], 1, session)
        return rows[0] if rows else None

    async def get_by_webhook_id(
        self, webhook_id: str, *, session: AsyncSession | None = None
    ) -> Delivery | None:
        rows = await self._select([_T.c.webhook_id == webhook_id], 1, session)
        return rows[0] if rows else None

    async def list(
        self,
        *,
        status: str | None = None,
        endpoint_id: int | None = None,
        event_type: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
        session: AsyncSession | None = None,
    ) -> builtins.list[Delivery]:
        """Newest first; page with ``before_id`` (the last id of the previous page)."""
        conditions: builtins.list[ColumnElement[bool]] = []
        if status is not None:
            conditions.append(_T.c.status == status)
        if endpoint_id is not None:
            conditions.append(_T.c.endpoint_id == endpoint_id)
        if event_type is not None:
            conditions.append(_T.c.event_type == event_type)
        if before_id is not None:
            conditions.append(_T.c.id < before_id)
        return await self._select(conditions, limit, session, newest_first=True)

    async def counts(self) -> dict[str, int]:
        """Rows per status: pending, delivering, delivered, dead."""
        async with self._db.session() as s:
            return await self._queue.counts(s)

    async def backlog(self) -> Backlog:
        """Deliveries not yet settled, and the age of the oldest."""
        async with self._db.session() as s:
            return await self._queue.backlog(s)

    async def purge(self, *, older_than: datetime, statuses: Sequence[str] = ("delivered",)) -> int:
        """Delete settled deliveries created before ``older_than``."""
        return await self._purge(self._queue, "created_at", older_than, statuses)

    async def _select(
        self,
        conditions: Sequence[ColumnElement[bool]],
        limit: int,
        session: AsyncSession | None,
        *,
        newest_first: bool = False,
    ) -> builtins.list[Delivery]:
        order = _T.c.id.desc() if newest_first else _T.c.id
        stmt = select(_T).where(*conditions).order_by(order).limit(limit)
        async with self._read(session) as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_delivery(r) for r in rows]
