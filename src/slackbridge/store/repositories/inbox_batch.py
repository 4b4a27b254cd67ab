"""Settling many inbox rows at once (the inbox worker completes whole batches).

Completing rows one by one costs a statement (and on SQLite several driver round trips) per
row; under a steady stream of Slack events that was most of the inbox worker's time. This marks
every row of a batch done with one ``UPDATE``, fenced by the lease owner like
:meth:`~slackbridge.store.queue.Queue.complete`: a row whose lease was lost to another worker
is left alone. :func:`release_many` gives rows back the same way. On the SQLite write path's
own connection the completion is a plain statement (``store/queue_sqlite.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, update
from sqlalchemy.engine import Connection

from slackbridge.store.models import InboxRow, table_of
from slackbridge.store.queue_sqlite import raw_sqlite

__all__ = ["complete_many", "release_many"]

_T = table_of(InboxRow)
# Built once (building and hashing a statement costs more than SQLite takes to run it).
_COMPLETE = (
    update(_T)
    .where(
        _T.c.id.in_(bindparam("ids", expanding=True)),
        _T.c.lease_owner == bindparam("owner"),
        _T.c.status == "processing",
    )
    .values(status="done", lease_owner=None, lease_expires_at=None)
    .execution_options(synchronize_session=False)
)
_CHUNK = 500  # ids per plain statement: well under SQLite's bound-parameter limit


def complete_many(conn: Connection, ids: Sequence[int], owner: str) -> int:
    """Mark the rows ``ids`` leased by ``owner`` done, in ``conn``'s transaction (a write job's
    step); returns how many were (rows whose lease was lost are not)."""
    if not ids:
        return 0
    raw = raw_sqlite(conn)
    if raw is None:
        return int(conn.execute(_COMPLETE, {"ids": list(ids), "owner": owner}).rowcount)
    done = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        done += raw.execute(
            "UPDATE inbox SET status = 'done', lease_owner = NULL, lease_expires_at = NULL "
            f"WHERE id IN ({marks}) AND lease_owner = ? AND status = 'processing'",
            [*chunk, owner],
        ).rowcount
    return done


def release_many(conn: Connection, ids: Sequence[int], owner: str) -> int:
    """Give the rows ``ids`` leased by ``owner`` back (pending, the attempt not counted), e.g.
    rows a stopping worker never got to; returns how many."""
    if not ids:
        return 0
    stmt = (
        update(_T)
        .where(_T.c.id.in_(list(ids)), _T.c.lease_owner == owner, _T.c.status == "processing")
        .values(
            status="pending",
            lease_owner=None,
            lease_expires_at=None,
            attempts=func.max(_T.c.attempts - 1, 0)
            if conn.dialect.name == "sqlite"
            else func.greatest(_T.c.attempts - 1, 0),
        )
        .execution_options(synchronize_session=False)
    )
    return int(conn.execute(stmt).rowcount)
