"""The queues' hot statements as plain SQL on the PostgreSQL write path's ``asyncpg`` connection.

The PostgreSQL twin of :mod:`slackbridge.store.queue_sqlite`. A write-path job runs in a
greenlet (``AsyncConnection.run_sync``); every statement it ran through SQLAlchemy Core paid for
compiling from the cache, binding through every column type, the asyncpg adapter's cursor
emulation and building result rows: most of the gateway's CPU per event on PostgreSQL. The
statements every event goes through run here instead, as SQL text built once per table and run
on the driver's connection (``conn.connection.driver_connection``) of the write path's
connections (``store/connector_async.py`` marks them), awaited from the sync job with
:func:`sqlalchemy.util.await_only`:

- a lane runner's step, *one* statement: settle the lane's head, find the lane's next open row
  after it (``FOR UPDATE SKIP LOCKED``) and lease it if it is due and under no live lease. The
  settle's update is not visible to the rest of the statement (one snapshot); the find seeks
  past the settled row's id (the rows settled before it stay in the lane index as dead entries
  until a vacuum: read from the lane's start, a drain read more of them at every step), and runs
  only if the settle found the row ours. A lower id that commits after the step went past it
  (an insert of another gateway's) is the claim's: it is the lane's head, taken once the lane
  holds no live lease (its runner's turn ended), never beside the runner's row;
- a lane's head on its own (the find and the lease as one statement);
- a claim over all lanes (the ``FOR UPDATE SKIP LOCKED`` CTE of the Core claim, which besides
  passes over a lane with a live lease);
- marking an inbox batch done, and storing deliveries (one ``INSERT … SELECT FROM unnest``,
  ids in the order of the rows).

**The transaction.** SQLAlchemy's asyncpg adapter begins its transaction lazily, with the first
statement *it* runs: a plain statement run first would run outside it (autocommitted, and not
rolled back with a job that raises). :func:`raw_postgres` therefore begins it through the adapter
when the driver is not in one yet, so that every plain statement belongs to the batch's
transaction and its commit or rollback.

**Values** go through the column types' own bind and result processors for the running dialect
(the JSON columns' serializer, the timestamps' check that they are aware, read back aware in
UTC): ``tests/integration/store/test_queue_postgres.py`` checks that rows written, claimed and
read back either way are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.util import await_only

__all__ = ["PLAIN_OPTION", "PgQueue", "PgTable", "StaleRowVersion", "raw_postgres", "rowcount"]

#: The execution option the write path's connector sets on its connections: plain statements
#: run there only (a caller's own session stays on Core, as on SQLite).
PLAIN_OPTION = "slackbridge_plain"
_Convert = Callable[[Any], Any]


def raw_postgres(conn: Connection) -> asyncpg.Connection | None:
    """The ``asyncpg`` connection under ``conn`` when the job runs on a connection of the
    PostgreSQL write path (:data:`PLAIN_OPTION`), inside the batch's transaction (begun here
    if no statement has begun it yet; on the connector's autocommit connection, for a lone
    lane step, each statement commits by itself); None elsewhere."""
    if conn.dialect.name != "postgresql" or not conn.get_execution_options().get(PLAIN_OPTION):
        return None
    raw = conn.connection.driver_connection
    if not isinstance(raw, asyncpg.Connection):
        return None
    adapter: Any = conn.connection.dbapi_connection
    if not raw.is_in_transaction() and conn.in_transaction() and not adapter.autocommit:
        start = getattr(adapter, "_start_transaction", None)
        if start is not None:
            # The adapter's own BEGIN: it then commits or rolls back this transaction.
            await_only(start())
        if not raw.is_in_transaction():
            conn.exec_driver_sql("SELECT 1")  # any statement through the adapter begins it
    return raw


class StaleRowVersion(Exception):
    """A row that many lanes' steps locked (a settled row, or a lane's next row, due) was
    changed by a transaction that committed after the statement's snapshot, so the statement's
    update could not see it: run the steps again, each alone."""


def rowcount(status: str) -> int:
    """The row count of a command status (``"UPDATE 3"`` → 3)."""
    return int(status.rsplit(" ", 1)[-1])


class PgTable:
    """One table's column conversions for plain statements (built once per table and dialect)."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.table = table
        self.name = table.name
        self.columns = tuple(c.name for c in table.columns)
        self._bind: dict[str, _Convert | None] = {}
        #: Each column's SQL type (``$1::<type>[]`` casts of arrays of its values).
        self.sql_types: dict[str, str] = {}
        readers: list[tuple[str, _Convert | None]] = []
        for column in table.columns:
            impl = column.type.dialect_impl(dialect)
            self._bind[column.name] = impl.bind_processor(dialect)
            self.sql_types[column.name] = column.type.compile(dialect=dialect)
            readers.append((column.name, impl.result_processor(dialect, None)))
        self._readers = tuple(readers)
        self._plain = tuple(name for name, read in readers if read is None)
        self._typed = tuple((name, read) for name, read in readers if read is not None)
        self.returning = ", ".join(self.columns)

    def value(self, name: str, value: Any) -> Any:
        """``value`` for column ``name`` as the driver takes it (None too goes through the
        type, as SQLAlchemy does)."""
        convert = self._bind[name]
        return value if convert is None else convert(value)

    def row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A row read as ``RETURNING`` :attr:`returning` (a record, by column name)."""
        out = {name: record[name] for name in self._plain}
        for name, read in self._typed:
            raw = record[name]
            out[name] = None if raw is None else read(raw)
        return out


class PgQueue:
    """A queue's hot statements on PostgreSQL (see :class:`~slackbridge.store.queue.Queue`,
    whose Core statements these mirror: same conditions, same locks, same fences, same order)."""

    def __init__(
        self,
        table: Table,
        dialect: Dialect,
        *,
        claimed: str,
        open_statuses: Sequence[str],
        lane: Sequence[str],
    ) -> None:
        self.table = PgTable(table, dialect)
        self._claimed = claimed
        self._open = tuple(open_statuses)
        self._lane = tuple(lane)
        name = table.name
        # Literal statuses: only then can a generic plan use the partial lane index.
        self._is_open = "status IN (" + ", ".join(f"'{s}'" for s in open_statuses) + ")"
        self._steps: dict[tuple[str, ...], str] = {}
        self._many_steps: dict[tuple[str, ...], str] = {}
        self._settles: dict[tuple[str, ...], str] = {}
        self._claims: dict[tuple[tuple[str, int], ...], str] = {}
        cols = ", ".join(f"t.{c}" for c in self.table.columns)
        self._cols = cols
        # The lane's head ($lane...), left out: $skip; leased to $owner until $expires if due
        # at $now. Parameters after the lane columns' (1..n): owner, expires, now, skip. The
        # rows to lease are named by id as a scalar (or an array): joined instead (UPDATE …
        # FROM), a fresh table's planner scanned every open row to find them.
        n = len(self._lane)
        in_lane = "".join(f" AND {c} = ${i + 1}" for i, c in enumerate(self._lane))
        # The lease and the step's settle name their row by id *and* its lane (redundant, the
        # row is in it): whichever index a plan then takes, the primary key or the partial lane
        # index (lane columns, id), it seeks the row. A plan is prepared once per connection and
        # kept (generic) from the table's first rows on; for ``id = $n`` alone, its costs then
        # could tie and pick the lane index scanned whole with id as a filter, every open and
        # every dead entry of every lane read twice per step: a drain slowed as it went.
        self._in_lane = in_lane
        t_in_lane = "".join(f" AND t.{c} = ${i + 1}" for i, c in enumerate(self._lane))
        self._head_params = n
        self._take_sql = (
            f"SELECT id FROM {name} WHERE {self._is_open}{in_lane}"
            " AND id {op} ${skip} {also} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        )
        self._lease_sql = (
            f"UPDATE {name} AS t SET status = '{claimed}', lease_owner = ${n + 1}, "
            f"lease_expires_at = ${n + 2}, attempts = t.attempts + 1 "
            f"WHERE t.id = (SELECT id FROM head){t_in_lane} AND t.{self._is_open} "
            f"AND t.not_before <= ${n + 3} "
            f"AND (t.lease_expires_at IS NULL OR t.lease_expires_at <= ${n + 3}) "
            f"RETURNING {cols}"
        )
        self._head_sql = (
            "WITH head AS ("
            + self._take_sql.format(op="<>", skip=n + 4, also="")
            + "), taken AS ("
            + self._lease_sql
            + ") SELECT * FROM taken"
        )

    def _lane_params(self, lane: Mapping[str, Any]) -> list[Any]:
        value = self.table.value
        return [value(c, lane[c]) for c in self._lane]

    def take_lane_head(
        self,
        raw: asyncpg.Connection,
        lane: Mapping[str, Any],
        owner: str,
        now: datetime,
        expires: datetime,
    ) -> dict[str, Any] | None:
        """Lease the oldest open row of ``lane`` (no lane value None) to ``owner`` if it is
        due and not leased; the row, or None."""
        value = self.table.value
        params = [*self._lane_params(lane), owner, value("lease_expires_at", expires)]
        params += (value("not_before", now), 0)
        record = await_only(raw.fetchrow(self._head_sql, *params))
        return None if record is None else self.table.row(record)

    def settle(
        self, raw: asyncpg.Connection, row_id: int, owner: str, values: Mapping[str, Any]
    ) -> bool:
        """Clear the row's lease and set ``values``, if ``owner`` still holds it."""
        names = tuple(sorted(values))
        text = self._settles.get(names)
        if text is None:
            sets = "".join(f", {name} = ${i + 4}" for i, name in enumerate(names))
            text = self._settles[names] = (
                f"UPDATE {self.table.name} SET lease_owner = NULL, lease_expires_at = NULL"
                f"{sets} WHERE id = $1 AND lease_owner = $2 AND status = $3"
            )
        value = self.table.value
        params = [row_id, owner, self._claimed, *(value(n, values[n]) for n in names)]
        return rowcount(await_only(raw.execute(text, *params))) == 1

    def settle_and_take_next(
        self,
        raw: asyncpg.Connection,
        row_id: int,
        owner: str,
        values: Mapping[str, Any],
        lane: Mapping[str, Any],
        now: datetime,
        expires: datetime,
    ) -> tuple[bool, dict[str, Any] | None]:
        """A lane runner's step as one statement: settle ``row_id`` with ``values`` (a status
        that closes the row: done or failed) if ``owner`` holds it, and then lease the lane's
        next row after it (no lane value None) if it is due and not leased. Whether the row
        was ours, and the next row (or None)."""
        names = tuple(sorted(values))
        text = self.step_statement(names)
        value = self.table.value
        params = [*self._lane_params(lane), owner, value("lease_expires_at", expires)]
        params += (value("not_before", now), row_id)
        params += (value(name, values[name]) for name in names)
        record = await_only(raw.fetchrow(text, *params))
        assert record is not None  # one row, always
        if record["settled_rows"] != 1:
            return False, None
        return True, (None if record["id"] is None else self.table.row(record))

    def step_statement(self, names: tuple[str, ...]) -> str:
        """The text of a lane step that sets the columns ``names`` (sorted). Parameters: the
        lane columns' values, owner, lease expiry, now, the settled row's id, then the values
        of ``names``."""
        text = self._steps.get(names)
        n = len(self._lane)
        if text is None:
            first = n + 5  # after the lane, owner, expires, now and the settled row's id
            sets = "".join(f", {name} = ${first + i}" for i, name in enumerate(names))
            settle = (
                f"UPDATE {self.table.name} SET lease_owner = NULL, lease_expires_at = NULL"
                f"{sets} WHERE id = ${n + 4}{self._in_lane} AND lease_owner = ${n + 1} "
                f"AND status = '{self._claimed}' RETURNING id"
            )
            # The next row after the settled one: one seek in the lane index. From the lane's
            # start, a drain read every row it had settled (dead entries until a vacuum) at
            # every step. A lower id committed after the lane passed it (another gateway's
            # insert) is left to the claim, which takes it once this lane holds no live lease.
            head = self._take_sql.format(
                op=">", skip=n + 4, also="AND EXISTS (SELECT 1 FROM settled)"
            )
            text = self._steps[names] = (
                f"WITH settled AS ({settle}), head AS ({head}), taken AS ({self._lease_sql}) "
                "SELECT (SELECT count(*) FROM settled) AS settled_rows, taken.* "
                "FROM (SELECT 1) AS one LEFT JOIN taken ON true"
            )
        return text

    def settle_and_take_next_many(
        self,
        raw: asyncpg.Connection,
        steps: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]],
        owner: str,
        now: datetime,
        expires: datetime,
    ) -> list[tuple[bool, dict[str, Any] | None]]:
        """Many lanes' steps (:meth:`settle_and_take_next`) as one statement: ``steps`` holds
        (settled row's id, its lane, the values it is settled with), one per lane (no lane
        twice, no lane value None), every step's values naming the same columns. A result per
        step, in their order: whether the row was ours, and the lane's next row (or None)."""
        names = tuple(sorted(steps[0][2]))
        text = self.many_steps_statement(names)
        value = self.table.value
        params: list[Any] = [owner, value("lease_expires_at", expires), value("not_before", now)]
        params.append([row_id for row_id, _, _ in steps])
        params += ([value(c, lane[c]) for _, lane, _ in steps] for c in self._lane)
        params += ([value(n, values[n]) for _, _, values in steps] for n in names)
        records = await_only(raw.fetch(text, *params))
        found = {int(record["mine_id"]): record for record in records}
        out: list[tuple[bool, dict[str, Any] | None]] = []
        for row_id, _, _ in steps:
            record = found.get(row_id)
            if record is None:
                out.append((False, None))  # not (or no longer) leased to the owner
            elif record["settled_id"] is None:
                # Ours and locked, yet not settled: its newest version is newer than the
                # statement's snapshot (see many_steps_statement).
                raise StaleRowVersion(f"row {row_id} of {self.table.name}")
            elif record["id"] is not None:
                out.append((True, self.table.row(record)))
            elif record["next_due"]:
                # Locked and due, yet not leased: its newest version is newer than the
                # statement's snapshot (see many_steps_statement). Rare: the caller rolls the
                # batch back and runs the steps again, each alone.
                raise StaleRowVersion(f"row {record['next_id']} of {self.table.name}")
            else:
                out.append((True, None))
        return out

    def many_steps_statement(self, names: tuple[str, ...]) -> str:
        """The text of :meth:`settle_and_take_next_many` for steps that set the columns
        ``names`` (sorted). Parameters: owner, lease expiry, now, then arrays: the settled
        rows' ids, each lane column's values, each of ``names``' values (one element a step).

        The steps come in as one ``unnest`` of those arrays. Each step's row is found by one
        seek (a ``LATERAL`` subquery per step, by its id and lane: a seek in whichever index
        the plan takes) and locked if it is still the owner's; each settled lane's next row after
        the settled one is one seek in the lane index, locked as the single step locks it. Both
        updates name their rows by the row versions those locks found (``ctid``: TID scans).
        Named by id in an array instead, a plan kept from a near-empty queue read the whole lane
        index for them, as the single step's did before it named its rows by lane too.

        A lock waits for a transaction that holds the row, and then finds its newest version,
        which may have been committed after the statement's snapshot: the updates, which read
        by that snapshot, then can't see it. The statement therefore returns every row it locked
        (and whether a next row was due), and :meth:`settle_and_take_next_many` raises
        :class:`StaleRowVersion` for a locked row that was not settled or a due one that was not
        leased: the write path then rolls the batch back and runs the steps again, each alone
        (the single step names its rows by id, and its updates follow the newest version). As in
        the single step, the settle's updates are not visible to the rest of the statement,
        hence the seek past the settled id."""
        text = self._many_steps.get(names)
        if text is None:
            types = self.table.sql_types
            lane_cols = self._lane
            columns = ("id", *lane_cols, *(f"v_{n}" for n in names))
            arrays = [f"$4::{types['id']}[]"]
            arrays += (f"${5 + i}::{types[c]}[]" for i, c in enumerate(lane_cols))
            first = 5 + len(lane_cols)
            arrays += (f"${first + i}::{types[n]}[]" for i, n in enumerate(names))
            name = self.table.name
            sets = "".join(f", {n} = i.v_{n}" for n in names)
            same_lane = "".join(f" AND t.{c} = i.{c}" for c in lane_cols)
            next_in_lane = "".join(f" AND n.{c} = s.{c}" for c in lane_cols)
            returning_lane = "".join(f", t.{c}" for c in lane_cols)
            text = self._many_steps[names] = (
                f"WITH i AS (SELECT * FROM unnest({', '.join(arrays)}) "
                f"AS i({', '.join(columns)})), "
                f"mine AS (SELECT x.tid, i.* FROM i CROSS JOIN LATERAL (SELECT t.ctid AS tid "
                f"FROM {name} AS t WHERE t.id = i.id{same_lane} AND t.lease_owner = $1 "
                f"AND t.status = '{self._claimed}' FOR UPDATE) AS x), "
                f"settled AS (UPDATE {name} AS t SET lease_owner = NULL, "
                f"lease_expires_at = NULL{sets} FROM mine AS i "
                "WHERE t.ctid = ANY(ARRAY(SELECT tid FROM mine)) AND t.ctid = i.tid "
                f"RETURNING t.id{returning_lane}), "
                "head AS (SELECT s.id AS after, n.tid, n.id, n.due FROM settled AS s "
                "CROSS JOIN LATERAL (SELECT n.ctid AS tid, n.id, (n.not_before <= $3 AND "
                "(n.lease_expires_at IS NULL OR n.lease_expires_at <= $3)) AS due "
                f"FROM {name} AS n WHERE n.{self._is_open}{next_in_lane} "
                "AND n.id > s.id ORDER BY n.id LIMIT 1 FOR UPDATE SKIP LOCKED) AS n), "
                f"taken AS (UPDATE {name} AS t SET status = '{self._claimed}', "
                "lease_owner = $1, lease_expires_at = $2, attempts = t.attempts + 1 "
                "FROM head AS h WHERE t.ctid = ANY(ARRAY(SELECT tid FROM head)) "
                f"AND t.ctid = h.tid AND t.{self._is_open} AND t.not_before <= $3 "
                "AND (t.lease_expires_at IS NULL OR t.lease_expires_at <= $3) "
                f"RETURNING h.after, {self._cols}) "
                "SELECT m.id AS mine_id, s.id AS settled_id, h.id AS next_id, "
                "h.due AS next_due, taken.* FROM mine AS m "
                "LEFT JOIN settled AS s ON s.id = m.id "
                "LEFT JOIN head AS h ON h.after = s.id LEFT JOIN taken ON taken.after = s.id"
            )
        return text

    def claim(
        self,
        raw: asyncpg.Connection,
        owner: str,
        limit: int,
        now: datetime,
        expires: datetime,
        filters: Mapping[str, Any] | None,
    ) -> list[dict[str, Any]]:
        """:meth:`Queue.claim_rows <slackbridge.store.queue.Queue.claim_rows>` on PostgreSQL:
        up to ``limit`` claimable rows (only lanes' heads) leased to ``owner``, in id order."""
        filters = filters or {}
        shape = tuple(
            (name, -1 if value is None else 1 if isinstance(value, list | tuple) else 0)
            for name, value in filters.items()
        )
        text = self._claims.get(shape)
        if text is None:
            text = self._claims[shape] = self._claim_statement(shape)
        convert = self.table.value
        params: list[Any] = [owner, convert("lease_expires_at", expires)]
        params += (convert("not_before", now), limit)
        for name, value in filters.items():
            if isinstance(value, list | tuple):
                params.append([convert(name, one) for one in value])
            elif value is not None:
                params.append(convert(name, value))
        records = await_only(raw.fetch(text, *params))
        rows = [self.table.row(record) for record in records]
        rows.sort(key=lambda row: int(row["id"]))
        return rows

    def _claim_statement(self, shape: tuple[tuple[str, int], ...]) -> str:
        """The claim for filters of ``shape`` (column, -1 for NULL, 1 for a list of values,
        0 for one value), as ``store/queue.py`` builds it in Core. Parameters: owner, expires,
        now, limit, then the filters' values."""
        name = self.table.name
        parts = [
            f"candidate.{self._is_open}",
            "candidate.not_before <= $3",
            "(candidate.lease_expires_at IS NULL OR candidate.lease_expires_at <= $3)",
        ]
        index = 5
        for column, kind in shape:
            if kind < 0:
                parts.append(f"candidate.{column} IS NULL")
                continue
            parts.append(
                f"candidate.{column} = ANY(${index})" if kind else f"candidate.{column} = ${index}"
            )
            index += 1
        if self._lane:
            no_lane = " OR ".join(f"candidate.{column} IS NULL" for column in self._lane)
            lanes = ", ".join(f"lane_head.{column}" for column in self._lane)
            # A lane with a live lease is not claimed at all: its head is the leased row, as a
            # rule; a lower id committed late (the runner's step went past it) waits for the
            # lane's runner to end rather than run beside it.
            parts.append(
                f"({no_lane} OR candidate.id IN (SELECT min(lane_head.id) FROM {name} AS "
                f"lane_head WHERE lane_head.{self._is_open} GROUP BY {lanes} HAVING "
                "bool_and(lane_head.lease_expires_at IS NULL OR lane_head.lease_expires_at <= $3)))"
            )
        return (
            f"WITH picked AS (SELECT candidate.id FROM {name} AS candidate "
            f"WHERE {' AND '.join(parts)} ORDER BY candidate.id LIMIT $4 "
            f"FOR UPDATE SKIP LOCKED) UPDATE {name} AS t SET status = '{self._claimed}', "
            "lease_owner = $1, lease_expires_at = $2, attempts = t.attempts + 1 "
            f"WHERE t.id = ANY(ARRAY(SELECT id FROM picked)) RETURNING {self._cols}"
        )
