"""A queue's statements, built from its :class:`QueueSpec` and nothing else (pure).

:mod:`slackbridge.store.queue` runs them; here they are only built: which rows are claimable,
which are open, which is the head of its lane, a column filter, and the lane runner's two
statements. Statements are built once per table and reused with parameters where they are hot
(building and hashing one costs more than SQLite takes to run it); the SQLite write path's plain
statements (:mod:`slackbridge.store.queue_sqlite`) and the PostgreSQL write path's
(:mod:`slackbridge.store.queue_postgres`) are kept here per table too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Dialect, RowMapping

from slackbridge.store.queue_postgres import PgQueue
from slackbridge.store.queue_sqlite import SqliteQueue

__all__ = [
    "STATEMENTS",
    "Backlog",
    "QueueRow",
    "QueueSpec",
    "claimable",
    "filtered",
    "head_of_lane",
    "lane_statements",
    "open_rows",
    "pg_statements",
    "plain_statements",
]

#: Statements built once and reused with parameters, by (table, purpose, detail).
STATEMENTS: dict[tuple[str, str, Any], Any] = {}


#: A row as the queue hands it out: SQLAlchemy's, or a plain dict from the SQLite write path.
QueueRow = RowMapping | Mapping[str, Any]


@dataclass(frozen=True)
class QueueSpec:
    """The shape of one queue table: its statuses and (optionally) its lane columns."""

    table: Table
    ready: str
    claimed: str
    done: str
    failed: str
    lane: tuple[str, ...] = ()
    created: str = "created_at"  # when a row was queued (a backlog's age)

    @property
    def open_statuses(self) -> tuple[str, str]:
        return (self.ready, self.claimed)


@dataclass(frozen=True)
class Backlog:
    """The unfinished rows of a queue: how many, and how long the oldest has waited."""

    depth: int
    oldest_seconds: float


def claimable(spec: QueueSpec, src: FromClause, now: datetime) -> ColumnElement[bool]:
    """Rows a claim may take at ``now``: open, due, and under no live lease."""
    c = src.c
    return and_(
        c.status.in_(spec.open_statuses),
        c.not_before <= now,
        or_(c.lease_expires_at.is_(None), c.lease_expires_at <= now),
    )


def open_rows(spec: QueueSpec, src: FromClause) -> ColumnElement[bool]:
    """``status IN (ready, claimed)`` with the statuses as literals, not parameters: only
    then can SQLite (and PostgreSQL's generic plans) use the partial lane indexes, whose
    predicate is that same condition. With parameters, finding a lane's head scanned every
    open row of every lane, for every candidate: quadratic in the backlog."""
    return src.c.status.in_([literal_column(f"'{s}'") for s in spec.open_statuses])


def head_of_lane(spec: QueueSpec, src: FromClause) -> ColumnElement[bool] | None:
    """Rows in no lane, or the oldest open row of their lane (lanes' heads are found once
    per statement, from the partial lane index)."""
    if not spec.lane:
        return None
    head = spec.table.alias("lane_head")
    heads = (
        select(func.min(head.c.id))
        .where(open_rows(spec, head))
        .group_by(*(head.c[name] for name in spec.lane))
    )
    no_lane = or_(*(src.c[name].is_(None) for name in spec.lane))
    return or_(no_lane, src.c.id.in_(heads))


def lane_statements(spec: QueueSpec, dialect: str) -> tuple[Select[Any], Update]:
    """The lane runner's two statements, built once per table (building and hashing a
    statement costs more than SQLite takes to run it)."""
    key = (spec.table.name, "lane", dialect)
    found = STATEMENTS.get(key)
    if found is None:
        t = spec.table
        when = t.c.not_before.type
        find = (
            select(t.c.id, t.c.not_before, t.c.lease_expires_at)
            .where(
                open_rows(spec, t),
                *(t.c[name] == bindparam(f"lane_{name}") for name in spec.lane),
            )
            .order_by(t.c.id)
            .limit(1)
        )
        if dialect == "postgresql":
            find = find.with_for_update(skip_locked=True)
        take = (
            update(t)
            .where(
                t.c.id == bindparam("head_id"),
                open_rows(spec, t),
                or_(
                    t.c.lease_expires_at.is_(None),
                    t.c.lease_expires_at <= bindparam("now", type_=when),
                ),
            )
            .values(
                status=spec.claimed,
                lease_owner=bindparam("owner"),
                lease_expires_at=bindparam("expires", type_=when),
                attempts=t.c.attempts + 1,
            )
            .returning(*t.c)
            .execution_options(synchronize_session=False)
        )
        found = STATEMENTS[key] = (find, take)
    return found


def filtered(src: FromClause, filters: Mapping[str, Any] | None) -> list[Any]:
    """Conditions narrowing ``src`` by column: a list or tuple value means "one of", None
    means NULL."""
    conditions = []
    for name, value in (filters or {}).items():
        column = src.c[name]
        if isinstance(value, list | tuple):
            conditions.append(column.in_(list(value)))
        else:
            conditions.append(column.is_(None) if value is None else column == value)
    return conditions


_PLAIN: dict[str, SqliteQueue] = {}


def plain_statements(spec: QueueSpec) -> SqliteQueue:
    """The queue's plain SQLite statements, built once per table."""
    found = _PLAIN.get(spec.table.name)
    if found is None:
        found = _PLAIN[spec.table.name] = SqliteQueue(
            spec.table, claimed=spec.claimed, open_statuses=spec.open_statuses, lane=spec.lane
        )
    return found


_PG: dict[str, PgQueue] = {}


def pg_statements(spec: QueueSpec, dialect: Dialect) -> PgQueue:
    """The queue's plain PostgreSQL statements, built once per table."""
    found = _PG.get(spec.table.name)
    if found is None:
        found = _PG[spec.table.name] = PgQueue(
            spec.table,
            dialect,
            claimed=spec.claimed,
            open_statuses=spec.open_statuses,
            lane=spec.lane,
        )
    return found
