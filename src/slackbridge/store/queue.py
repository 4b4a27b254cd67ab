"""One claiming mechanism for every queue table (inbox, deliveries, outbox).

A row is *claimable* when its status is the queue's ready status (or its claimed status with an
expired lease: the worker that held it crashed), ``not_before`` has passed and no live lease is
held. :meth:`Queue.claim` takes up to ``limit`` claimable rows in id order and leases them to
``owner``: on PostgreSQL by ``FOR UPDATE SKIP LOCKED`` (concurrent workers skip each other's rows
instead of waiting), on SQLite by one atomic ``UPDATE … RETURNING`` under the write lock, run
only after a read found a claimable row (a cheap query, where the update's subqueries are not).

Every write here is a *job* (``store/write_path.py``): a function of a synchronous connection,
run by the process's one write path (:meth:`Queue.claim` and the repositories' settling
methods), or inside a caller's own transaction. The same code serves both.

Lanes: when a queue has lane columns, only the *head* of each lane is claimable: the oldest row
of the lane that is not finished. While the head is leased, waiting for ``not_before`` or being
retried, the rest of its lane waits; other lanes go on. Rows whose lane value is NULL belong to no
lane. Two rows of one lane are never out at once, and a lane is served in id order.

Every transition after the claim is fenced by the lease owner: a worker whose lease expired and
whose row was taken again cannot complete or fail it any more (the call returns ``False``).

The statements themselves are built, purely from the queue's :class:`QueueSpec`, in
:mod:`slackbridge.store.queue_statements`; on the SQLite write path's own connection the hot ones
run as plain SQL (:mod:`slackbridge.store.queue_sqlite`), and on PostgreSQL as plain SQL on the
``asyncpg`` connection (:mod:`slackbridge.store.queue_postgres`; a lane's step is one statement
there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.connector_sqlite import ReadLater, SqliteFileConnector
from slackbridge.store.db import Database
from slackbridge.store.models_base import Clock
from slackbridge.store.queue_postgres import raw_postgres
from slackbridge.store.queue_sqlite import raw_sqlite
from slackbridge.store.queue_statements import (
    STATEMENTS,
    Backlog,
    QueueRow,
    QueueSpec,
    claimable,
    filtered,
    head_of_lane,
    lane_statements,
    pg_statements,
    plain_statements,
)

__all__ = ["Backlog", "Queue", "QueueRow", "QueueSpec"]


class Queue:
    """Claim, lease and settle rows of one queue table (see the module docstring)."""

    def __init__(self, db: Database, spec: QueueSpec, clock: Clock) -> None:
        self._db = db
        self._spec = spec
        self._clock = clock
        self._plain = plain_statements(spec)

    @property
    def spec(self) -> QueueSpec:
        return self._spec

    @property
    def clock(self) -> Clock:
        return self._clock

    def step_is_one_statement(self, lane: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
        """Whether a lane step settling with ``values`` is one plain statement on PostgreSQL's
        write path (then it may share one with other lanes' steps, ``store/queue_steps.py``):
        plain values, a status that closes the row, and every lane value given."""
        return (
            self._plain_values(values)
            and values.get("status") not in self._spec.open_statuses
            and all(lane.get(name) is not None for name in self._spec.lane)
        )

    def claim_lane_head(
        self, conn: Connection, owner: str, lane: Mapping[str, Any], lease_seconds: float
    ) -> QueueRow | None:
        """Lease the head of one lane (``lane`` gives every lane column's value) to ``owner``
        if it is claimable, in ``conn``'s transaction: a lane runner's next row, found through
        the partial lane index instead of a claim over all lanes. On the SQLite write path's
        own connection, as plain statements (``store/queue_sqlite.py``)."""
        if any(lane.get(name) is None for name in self._spec.lane):
            rows = self.claim_rows(conn, owner, 1, lease_seconds, filters=lane)
            return rows[0] if rows else None
        now = self._clock()
        expires = now + timedelta(seconds=lease_seconds)
        raw = raw_sqlite(conn)
        if raw is not None:
            return self._plain.take_lane_head(raw, lane, owner, now, expires)
        pg = raw_postgres(conn)
        if pg is not None:
            return pg_statements(self._spec, conn.dialect).take_lane_head(
                pg, lane, owner, now, expires
            )
        find, take = lane_statements(self._spec, conn.dialect.name)
        params = {f"lane_{name}": lane[name] for name in self._spec.lane}
        head = conn.execute(find, params).first()
        if head is None or head.not_before > now:
            return None
        if head.lease_expires_at is not None and head.lease_expires_at > now:
            return None  # leased (by another worker, or still by us)
        taken = conn.execute(
            take,
            {
                "head_id": head.id,
                "now": now,
                "owner": owner,
                "expires": expires,
            },
        )
        return taken.mappings().first()

    def complete_and_take_next(
        self,
        conn: Connection,
        row_id: int,
        owner: str,
        lane: Mapping[str, Any],
        lease_seconds: float,
        values: Mapping[str, Any],
    ) -> tuple[bool, QueueRow | None]:
        """Settle a leased lane head as finished (``values`` holds its ``status``, done or
        failed, and any other columns) and lease its lane's next row to ``owner`` if that is
        due, in ``conn``'s transaction: a lane runner's step. Returns whether the row was still
        ours and the next row (or None).

        Three statements in one job (one transaction); on PostgreSQL one (CTEs,
        ``store/queue_postgres.py``): with the commit shared by a batch of jobs, the round trips
        and each statement's CPU are what a step costs there."""
        pg = raw_postgres(conn) if self.step_is_one_statement(lane, values) else None
        if pg is not None:
            now = self._clock()
            return pg_statements(self._spec, conn.dialect).settle_and_take_next(
                pg, row_id, owner, values, lane, now, now + timedelta(seconds=lease_seconds)
            )
        if not self._settle(conn, row_id, owner, values):
            return False, None
        return True, self.claim_lane_head(conn, owner, lane, lease_seconds)

    def claim_rows(
        self,
        conn: Connection,
        owner: str,
        limit: int,
        lease_seconds: float,
        *,
        filters: Mapping[str, Any] | None = None,
        probe: bool = True,
    ) -> list[QueueRow]:
        """Lease up to ``limit`` claimable rows to ``owner`` in ``conn``'s transaction; returns
        them in id order.

        Each claimed row gets ``attempts + 1``. ``filters`` narrows the candidates by column
        (a list or tuple value means "one of", None means NULL), e.g. one endpoint, one lane
        or some kinds.
        """
        if limit <= 0:
            return []
        t = self._spec.table
        now = self._clock()
        raw = raw_sqlite(conn)
        expires = now + timedelta(seconds=lease_seconds)
        if raw is not None:
            return list(self._plain.claim(raw, owner, limit, now, expires, filters, probe=probe))
        pg = raw_postgres(conn)
        if pg is not None:
            return list(
                pg_statements(self._spec, conn.dialect).claim(
                    pg, owner, limit, now, expires, filters
                )
            )
        if probe and conn.dialect.name == "sqlite":
            # A read first: cheap where nothing is due, unlike the update's subqueries. Lanes
            # are not looked at, so it may let a claim run that then takes nothing.
            due = select(t.c.id).where(claimable(self._spec, t, now), *filtered(t, filters))
            if conn.execute(due.limit(1)).first() is None:
                return []
        # The candidates come from an alias, so that the subquery can't correlate with the
        # UPDATE's own table (which would apply LIMIT per updated row).
        cand = t.alias("candidate")
        conditions = [claimable(self._spec, cand, now), *filtered(cand, filters)]
        head = head_of_lane(self._spec, cand)
        if head is not None:
            conditions.append(head)
        candidates = select(cand.c.id).where(*conditions).order_by(cand.c.id).limit(limit)
        if conn.dialect.name == "postgresql":
            # A CTE with FOR UPDATE is evaluated exactly once; an IN (subquery) could be
            # rescanned by some plans and lock more rows than asked for.
            picked = candidates.with_for_update(skip_locked=True).cte("picked")
            chosen: ColumnElement[bool] = t.c.id == picked.c.id
        else:
            # One statement under SQLite's single write lock: atomic by itself.
            chosen = t.c.id.in_(candidates)
        stmt = (
            update(t)
            .where(chosen)
            .values(
                status=self._spec.claimed,
                lease_owner=owner,
                lease_expires_at=expires,
                attempts=t.c.attempts + 1,
            )
            .returning(*t.c)
            .execution_options(synchronize_session=False)
        )
        rows = conn.execute(stmt).mappings().all()
        return sorted(rows, key=lambda r: int(r["id"]))

    async def claim(
        self,
        owner: str,
        limit: int,
        lease_seconds: float,
        *,
        filters: Mapping[str, Any] | None = None,
        probe: bool = True,
    ) -> list[QueueRow]:
        """:meth:`claim_rows` through the write path (a transaction shared with other jobs).

        On SQLite a read on a connection of the async engine first looks for a claimable row:
        a poller with nothing to do then never waits for the write lock (which another process,
        a CLI command, may hold). ``probe=False`` skips that read when rows are known to be
        due (the queue's worker was woken because rows were added): it costs a read session
        on every row's path, and the claim would find them anyway."""
        if limit <= 0 or (probe and await self._nothing_due(filters)):
            return []
        return await self._db.write(
            lambda conn: self.claim_rows(
                conn, owner, limit, lease_seconds, filters=filters, probe=False
            )
        )

    async def _nothing_due(self, filters: Mapping[str, Any] | None) -> bool:
        """On SQLite, whether a read (which takes no lock) finds no claimable row. Lanes are
        not looked at, so it may let a claim run that then takes nothing; it never skips one
        that would take a row. PostgreSQL claims lock only the rows they take: never skipped
        there."""
        if not self._db.is_sqlite:
            return False
        connector = self._db.write_path.connector
        if isinstance(connector, SqliteFileConnector):
            # On the write path's own connection, at once (it reads without a lock too).
            now = self._clock()
            try:
                return connector.read_now(lambda raw: self._plain.nothing_due(raw, now, filters))
            except ReadLater:
                pass
        t = self._spec.table
        conditions = [claimable(self._spec, t, self._clock()), *filtered(t, filters)]
        async with self._db.session() as session:
            found = await session.execute(select(t.c.id).where(*conditions).limit(1))
            return found.first() is None

    @staticmethod
    def _plain_values(values: Mapping[str, Any]) -> bool:
        """Whether ``values`` are all plain values (no SQL expression, which only Core runs)."""
        return not any(isinstance(v, ClauseElement) for v in values.values())

    def _settle(self, conn: Connection, row_id: int, owner: str, values: Mapping[str, Any]) -> bool:
        t = self._spec.table
        expression = not self._plain_values(values)
        if not expression:
            raw = raw_sqlite(conn)
            if raw is not None:
                return self._plain.settle(raw, row_id, owner, values)
            pg = raw_postgres(conn)
            if pg is not None:
                return pg_statements(self._spec, conn.dialect).settle(pg, row_id, owner, values)
        if expression:
            stmt = (
                update(t)
                .where(t.c.id == row_id, t.c.lease_owner == owner, t.c.status == self._spec.claimed)
                .values(lease_owner=None, lease_expires_at=None, **values)
                .execution_options(synchronize_session=False)
            )
            return bool(conn.execute(stmt).rowcount == 1)
        names = tuple(sorted(values))
        key = (t.name, "settle", names)
        prepared = STATEMENTS.get(key)
        if prepared is None:
            # Built once per set of columns, with parameters (see queue_statements.lane_statements).
            prepared = STATEMENTS[key] = (
                update(t)
                .where(
                    t.c.id == bindparam("row_id"),
                    t.c.lease_owner == bindparam("owner"),
                    t.c.status == self._spec.claimed,
                )
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    **{name: bindparam(f"v_{name}", type_=t.c[name].type) for name in names},
                )
                .execution_options(synchronize_session=False)
            )
        params = {"row_id": row_id, "owner": owner}
        params.update({f"v_{name}": values[name] for name in names})
        return bool(conn.execute(prepared, params).rowcount == 1)

    def finish(self, conn: Connection, row_id: int, owner: str, values: Mapping[str, Any]) -> bool:
        """Settle a leased row with ``values`` (its ``status``, done or failed, and any other
        columns); ``False`` if not ours."""
        return self._settle(conn, row_id, owner, values)

    def complete(self, conn: Connection, row_id: int, owner: str, **values: Any) -> bool:
        """Mark a leased row done (plus any extra column ``values``); ``False`` if not ours."""
        return self._settle(conn, row_id, owner, {"status": self._spec.done, **values})

    def fail(self, conn: Connection, row_id: int, owner: str, error: str, **values: Any) -> bool:
        """Mark a leased row failed for good with ``error``; ``False`` if not ours."""
        return self._settle(
            conn, row_id, owner, {"status": self._spec.failed, "last_error": error, **values}
        )

    def retry_later(
        self,
        conn: Connection,
        row_id: int,
        owner: str,
        not_before: datetime,
        error: str | None = None,
        **values: Any,
    ) -> bool:
        """Give a leased row back to be tried again at ``not_before`` (the attempt counts)."""
        return self._settle(
            conn,
            row_id,
            owner,
            {"status": self._spec.ready, "not_before": not_before, "last_error": error, **values},
        )

    def release(
        self,
        conn: Connection,
        row_id: int,
        owner: str,
        not_before: datetime | None = None,
    ) -> bool:
        """Give a leased row back without counting the attempt (e.g. a rate-limit wait)."""
        t = self._spec.table
        return self._settle(
            conn,
            row_id,
            owner,
            {
                "status": self._spec.ready,
                "not_before": not_before or self._clock(),
                "attempts": func.max(t.c.attempts - 1, 0)
                if conn.dialect.name == "sqlite"
                else func.greatest(t.c.attempts - 1, 0),
            },
        )

    def extend(
        self, conn: Connection, row_ids: Sequence[int], owner: str, lease_seconds: float
    ) -> int:
        """Renew the lease of rows still held by ``owner`` (a heartbeat); returns how many."""
        if not row_ids:
            return 0
        t = self._spec.table
        stmt = (
            update(t)
            .where(
                t.c.id.in_(list(row_ids)),
                t.c.lease_owner == owner,
                t.c.status == self._spec.claimed,
            )
            .values(lease_expires_at=self._clock() + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        return int(conn.execute(stmt).rowcount)

    def requeue(self, conn: Connection, row_ids: Sequence[int]) -> int:
        """Put finished-as-failed rows back to ready with zero attempts (an operator's retry)."""
        if not row_ids:
            return 0
        t = self._spec.table
        stmt = (
            update(t)
            .where(t.c.id.in_(list(row_ids)), t.c.status == self._spec.failed)
            .values(
                status=self._spec.ready,
                attempts=0,
                not_before=self._clock(),
                lease_owner=None,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        return int(conn.execute(stmt).rowcount)

    def purge(
        self,
        conn: Connection,
        time_column: str,
        before: datetime,
        statuses: Sequence[str],
        *,
        limit: int | None = None,
    ) -> int:
        """Delete rows in ``statuses`` whose ``time_column`` is older than ``before``: at most
        ``limit`` of them (any, the oldest first as the table lies) when it is given."""
        t = self._spec.table
        old = (t.c.status.in_(list(statuses)), t.c[time_column] < before)
        if limit is None:
            stmt = t.delete().where(*old)
        else:
            picked = select(t.c.id).where(*old).limit(limit).scalar_subquery()
            stmt = t.delete().where(t.c.id.in_(picked))
        return int(conn.execute(stmt).rowcount)

    async def counts(self, session: AsyncSession) -> dict[str, int]:
        """How many rows are in each status (every status of the queue is present)."""
        t = self._spec.table
        rows = (await session.execute(select(t.c.status, func.count()).group_by(t.c.status))).all()
        statuses = (self._spec.ready, self._spec.claimed, self._spec.done, self._spec.failed)
        found = {str(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in statuses}

    async def backlog(self, session: AsyncSession) -> Backlog:
        """The unfinished rows (ready or claimed) and the age of the oldest."""
        t = self._spec.table
        stmt = select(func.count(), func.min(t.c[self._spec.created])).where(
            t.c.status.in_(self._spec.open_statuses)
        )
        depth, oldest = (await session.execute(stmt)).one()
        if not depth or oldest is None:
            return Backlog(0, 0.0)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=self._clock().tzinfo)
        return Backlog(int(depth), max(0.0, (self._clock() - oldest).total_seconds()))
