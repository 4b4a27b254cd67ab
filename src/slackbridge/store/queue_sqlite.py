"""The queues' hot statements as plain SQL on the write path's own ``sqlite3`` connection.

On a SQLite file every queue write runs on one ``sqlite3`` connection of the write path
(``store/connector_sqlite.py``), where SQLite takes a few microseconds per statement and
SQLAlchemy Core took several times that around it (compiling from its cache, binding through
every column type, building result rows): the largest share of the gateway's CPU per event
(bench/RESULTS.md). The statements every event goes through (settling a lane's head, finding and
leasing the lane's next row, marking an inbox batch done, storing deliveries) run here instead,
as SQL text built once per table, with the same meaning as their Core versions in
``store/queue.py`` and the repositories, which stay the path for PostgreSQL, for an in-memory
SQLite database and for a caller's own session.

Values are converted as the column types would: timestamps are stored as SQLAlchemy's SQLite
``DATETIME`` text (UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``, so that text order is time order) and
read back aware in UTC; any other typed column goes through its type's own bind and result
processors. ``tests/integration/store/test_queue_sqlite.py`` checks that rows written either way
read back the same.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection

from slackbridge.store.models_base import UtcDateTime

__all__ = ["SqliteQueue", "SqliteTable", "from_text", "raw_sqlite", "to_text"]

_DIALECT = sqlite_dialect.dialect()
_Convert = Callable[[Any], Any]


def raw_sqlite(conn: Connection) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection under ``conn`` when the job runs on the write path's own
    connection to a SQLite file; None elsewhere (PostgreSQL, the async engine's connections)."""
    if conn.dialect.name != "sqlite":
        return None
    raw = conn.connection.driver_connection
    return raw if isinstance(raw, sqlite3.Connection) else None


def to_text(value: datetime) -> str:
    """An aware datetime as the store keeps it on SQLite (see the module doc)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use an aware UTC datetime")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def from_text(value: str | None) -> datetime | None:
    """A stored timestamp, aware in UTC (None stays None)."""
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else to_text(value)


def _lane_index(table: Table, lane: Sequence[str]) -> str:
    """The name of ``table``'s index on the lane's columns then ``id`` (the open rows')."""
    wanted = [*lane, "id"]
    for index in table.indexes:
        if [column.name for column in index.columns] == wanted and index.name:
            return str(index.name)
    raise LookupError(f"{table.name} has no index on ({', '.join(wanted)})")


class SqliteTable:
    """One table's column conversions for plain statements (built once per table)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.name = table.name
        self.columns = tuple(c.name for c in table.columns)
        self._bind: dict[str, _Convert | None] = {}
        readers: list[_Convert | None] = []
        for column in table.columns:
            kind = column.type
            if isinstance(kind, UtcDateTime):
                self._bind[column.name] = _stamp
                readers.append(from_text)
                continue
            impl = kind.dialect_impl(_DIALECT)
            self._bind[column.name] = impl.bind_processor(_DIALECT)
            readers.append(impl.result_processor(_DIALECT, None))
        self._readers = tuple(readers)
        self.returning = ", ".join(self.columns)

    def value(self, name: str, value: Any) -> Any:
        """``value`` for column ``name`` as the driver takes it (None too goes through the
        type: a JSON column stores it as JSON ``null``, as SQLAlchemy does)."""
        convert = self._bind[name]
        return value if convert is None else convert(value)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        """A row read as ``SELECT`` (or ``RETURNING``) :attr:`returning`, by column name."""
        return {
            name: (raw if read is None or raw is None else read(raw))
            for name, read, raw in zip(self.columns, self._readers, values, strict=True)
        }


class SqliteQueue:
    """A queue's lane step as plain statements (see :class:`~slackbridge.store.queue.Queue`,
    whose Core statements these mirror: same conditions, same fences, same order)."""

    def __init__(
        self, table: Table, *, claimed: str, open_statuses: Sequence[str], lane: Sequence[str]
    ) -> None:
        self.table = SqliteTable(table)
        self._claimed = claimed
        self._lane = tuple(lane)
        name = table.name
        # Literal statuses: only then can SQLite use the partial lane index (store/queue.py).
        is_open = "status IN (" + ", ".join(f"'{s}'" for s in open_statuses) + ")"
        self._is_open = is_open
        self._claims: dict[tuple[tuple[str, int], ...], tuple[str, str]] = {}
        in_lane = "".join(f" AND {column} = ?" for column in self._lane)
        # The lane's head, leased if it is due and not leased, in one statement: the head
        # found by the subquery (the lane index: lane columns then id), the lease taken only
        # when the outer conditions hold for it (a head not due or leased: nothing, the lane
        # waits), as the two statements of the Core path do in one transaction.
        self._take_head = (
            f"UPDATE {name} SET status = ?, lease_owner = ?, lease_expires_at = ?, "
            f"attempts = attempts + 1 WHERE id = (SELECT id FROM {name} "
            f"WHERE {is_open}{in_lane} ORDER BY id LIMIT 1) AND {is_open} "
            "AND not_before <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?) "
            f"RETURNING {self.table.returning}"
        )
        self._settles: dict[tuple[str, ...], str] = {}
        # The lane skip scan's statements per lane column (see _lane_heads): the rows whose
        # column is NULL under a prefix of values, the first value, the next value after one
        # (at the last column with the head's id: the index ends with id).
        # They name the lane index: without statistics the planner would rather take the
        # claim index for ``status IN (…)`` and read every open row (measured: 6 ms).
        self._skip: list[tuple[str, str, str]] = []
        index = _lane_index(table, self._lane) if self._lane else ""
        for level, column in enumerate(self._lane):
            prefix = "".join(f" AND {c} = ?" for c in self._lane[:level])
            at = f"FROM {name} INDEXED BY {index} WHERE {is_open}{prefix} AND {column}"
            picked, order = (
                (f"{column}, id", f"{column}, id")
                if level == len(self._lane) - 1
                else (column, column)
            )
            self._skip.append(
                (
                    f"SELECT id {at} IS NULL",
                    f"SELECT {picked} {at} IS NOT NULL ORDER BY {order} LIMIT 1",
                    f"SELECT {picked} {at} > ? ORDER BY {order} LIMIT 1",
                )
            )

    def settle(
        self, raw: sqlite3.Connection, row_id: int, owner: str, values: Mapping[str, Any]
    ) -> bool:
        """Clear the row's lease and set ``values``, if ``owner`` still holds it."""
        names = tuple(sorted(values))
        text = self._settles.get(names)
        if text is None:
            sets = "".join(f", {name} = ?" for name in names)
            text = self._settles[names] = (
                f"UPDATE {self.table.name} SET lease_owner = NULL, lease_expires_at = NULL"
                f"{sets} WHERE id = ? AND lease_owner = ? AND status = ?"
            )
        value = self.table.value
        params = [value(name, values[name]) for name in names]
        params += (row_id, owner, self._claimed)
        return bool(raw.execute(text, params).rowcount == 1)

    def take_lane_head(
        self,
        raw: sqlite3.Connection,
        lane: Mapping[str, Any],
        owner: str,
        now: datetime,
        expires: datetime,
    ) -> dict[str, Any] | None:
        """Lease the oldest open row of ``lane`` (no lane value None) to ``owner`` if it is
        due and not leased; the row, or None."""
        value = self.table.value
        stamp = to_text(now)
        params: list[Any] = [self._claimed, owner, to_text(expires)]
        params += [value(c, lane[c]) for c in self._lane]
        params += (stamp, stamp)  # text order is time order (to_text)
        rows = raw.execute(self._take_head, params).fetchall()
        return self.table.row(rows[0]) if rows else None

    def nothing_due(
        self, raw: sqlite3.Connection, now: datetime, filters: Mapping[str, Any] | None
    ) -> bool:
        """Whether no row is claimable (lanes not looked at): the claim's probe on its own,
        a read (every statement run to its end, so that no read stays open)."""
        find, _take, params = self._claim_parts(filters)
        stamp = to_text(now)
        return not raw.execute(find, [stamp, stamp, *params]).fetchall()

    def _claim_parts(self, filters: Mapping[str, Any] | None) -> tuple[str, str, list[Any]]:
        filters = filters or {}
        shape = tuple(
            (name, -1 if value is None else len(value) if isinstance(value, list | tuple) else 0)
            for name, value in filters.items()
        )
        texts = self._claims.get(shape)
        if texts is None:
            texts = self._claims[shape] = self._claim_statements(shape)
        convert = self.table.value
        params: list[Any] = []
        for name, value in filters.items():
            if isinstance(value, list | tuple):
                params += [convert(name, one) for one in value]
            elif value is not None:
                params.append(convert(name, value))
        return texts[0], texts[1], params

    def claim(
        self,
        raw: sqlite3.Connection,
        owner: str,
        limit: int,
        now: datetime,
        expires: datetime,
        filters: Mapping[str, Any] | None,
        *,
        probe: bool,
    ) -> list[dict[str, Any]]:
        """:meth:`Queue.claim_rows <slackbridge.store.queue.Queue.claim_rows>` on SQLite: up
        to ``limit`` claimable rows (only lanes' heads) leased to ``owner``, in id order."""
        find, take, params = self._claim_parts(filters)
        stamp = to_text(now)
        if probe and not raw.execute(find, [stamp, stamp, *params]).fetchall():
            return []
        leased = [self._claimed, owner, to_text(expires)]
        if self._lane:
            heads = json.dumps(self._lane_heads(raw))
            taken = raw.execute(take, [*leased, heads, stamp, stamp, *params, limit]).fetchall()
        else:
            taken = raw.execute(take, [*leased, stamp, stamp, *params, limit]).fetchall()
        rows = [self.table.row(values) for values in taken]
        rows.sort(key=lambda row: int(row["id"]))
        return rows

    def _claim_statements(self, shape: tuple[tuple[str, int], ...]) -> tuple[str, str]:
        """The probe and the claim for filters of ``shape`` (column, -1 for NULL, n for a list
        of n values, 0 for one value), as ``store/queue.py`` builds them in Core."""

        def claimable(alias: str) -> str:
            parts = [
                f"{alias}.{self._is_open}",
                f"{alias}.not_before <= ?",
                f"({alias}.lease_expires_at IS NULL OR {alias}.lease_expires_at <= ?)",
            ]
            for column, size in shape:
                if size < 0:
                    parts.append(f"{alias}.{column} IS NULL")
                elif size == 0:
                    parts.append(f"{alias}.{column} = ?")
                else:
                    parts.append(f"{alias}.{column} IN ({', '.join('?' * size)})")
            return " AND ".join(parts)

        name = self.table.name
        find = f"SELECT {name}.id FROM {name} WHERE {claimable(name)} LIMIT 1"
        # With lanes, the candidates are the lanes' heads found by :meth:`_lane_heads` (a JSON
        # array of ids, first parameter of the subquery); the same rows as Core's
        # ``id IN (SELECT min(id) … GROUP BY lane)`` or a lane column NULL.
        head = "candidate.id IN (SELECT value FROM json_each(?)) AND " if self._lane else ""
        take = (
            f"UPDATE {name} SET status = ?, lease_owner = ?, lease_expires_at = ?, "
            f"attempts = attempts + 1 WHERE id IN (SELECT candidate.id FROM {name} AS candidate "
            f"WHERE {head}{claimable('candidate')} "
            f"ORDER BY candidate.id LIMIT ?) RETURNING {self.table.returning}"
        )
        return find, take

    def _lane_heads(self, raw: sqlite3.Connection) -> list[int]:
        """The ids of every open lane's head, and of every open row with a lane column NULL
        (each its own lane), by a skip scan of the partial lane index (lane columns, id;
        open rows only): one seek per lane, instead of reading every open row to group them
        as Core's ``min(id) … GROUP BY`` does.

        Under a backlog that difference is the event loop's: a claim reads the whole backlog
        that way (measured: 14 ms for 5,000 open deliveries over 64 lanes, while all their
        heads were leased and it took nothing), where the skip scan reads one row per lane.
        Values read from the index are bound back as they are (no conversion), so SQLite
        compares them exactly as it ordered them."""
        heads: list[int] = []
        last = len(self._lane) - 1
        prefixes: list[tuple[Any, ...]] = [()]
        while prefixes:
            prefix = prefixes.pop()
            level = len(prefix)
            nulls, first, after = self._skip[level]
            heads += [row[0] for row in raw.execute(nulls, prefix)]
            row = raw.execute(first, prefix).fetchone()
            while row is not None:
                if level == last:
                    heads.append(row[1])
                else:
                    prefixes.append((*prefix, row[0]))
                row = raw.execute(after, (*prefix, row[0])).fetchone()
        return heads
