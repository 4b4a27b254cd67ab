"""The inbox: every request accepted from Slack, durable before it is acknowledged.

``insert_many`` is the group-commit entry point: many requests, one transaction, and for each
one whether it was new or a duplicate (Slack retries carry the same ``event_id``; commands and
interactions are keyed by a digest of their body). Workers then claim rows with leases.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import await_only

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.models import InboxRow, table_of
from slackbridge.store.models_base import utcnow
from slackbridge.store.queue import Backlog, Queue, QueueRow, QueueSpec
from slackbridge.store.queue_postgres import raw_postgres, rowcount
from slackbridge.store.queue_statements import pg_statements
from slackbridge.store.repositories._base import Clock, Repository, dialect_insert_for
from slackbridge.store.repositories.inbox_batch import complete_many, release_many
from slackbridge.store.write_path import Job

__all__ = ["InboxInsertResult", "InboxItem", "InboxKind", "InboxRepository", "NewInboxItem"]

InboxKind = Literal["events", "commands", "interactivity", "outgoing", "socket"]
_T = table_of(InboxRow)
_SPEC = QueueSpec(
    _T, ready="pending", claimed="processing", done="done", failed="failed", created="received_at"
)
# Rows per INSERT statement: keeps SQLite well under its bound-parameter limit.
_CHUNK = 500
# The rows' INSERT as plain SQL on PostgreSQL's write path (store/queue_postgres.py): every
# row in one statement, from arrays, ids in the order of the rows.
_PG_INSERT = (
    "INSERT INTO inbox (dedupe_key, kind, body, app_ref, team_id, headers, received_at, "
    "status, attempts, not_before) SELECT r.dedupe_key, r.kind, r.body, r.app_ref, r.team_id, "
    "r.headers::jsonb, $7, 'pending', 0, $7 FROM unnest($1::varchar[], $2::varchar[], "
    "$3::bytea[], $4::bigint[], $5::varchar[], $6::text[]) WITH ORDINALITY AS r(dedupe_key, "
    "kind, body, app_ref, team_id, headers, n) ORDER BY r.n "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"
)
# complete_many (repositories/inbox_batch.py) as plain SQL on PostgreSQL's write path
# (store/queue_postgres.py): every id in one array parameter.
_PG_COMPLETE = (
    "UPDATE inbox SET status = 'done', lease_owner = NULL, lease_expires_at = NULL "
    "WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND status = 'processing'"
)


# The two item types below are values, never changed after construction, but not declared
# frozen: one of each is built per Slack request, and a frozen dataclass takes about twice as
# long to build (every field is set through object.__setattr__).


@dataclass(slots=True)
class NewInboxItem:
    """A request to store: ``headers`` keeps what matters later (e.g. X-Slack-Retry-Num/Reason).

    ``payload`` is the body already parsed, when the caller has it: not stored, but handed on
    with the row to a worker in this process, which then needn't parse the body again."""

    dedupe_key: str
    kind: InboxKind
    body: bytes
    app_ref: int | None = None
    team_id: str | None = None
    headers: Mapping[str, Any] = field(default_factory=dict)
    payload: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


class InboxInsertResult(NamedTuple):
    dedupe_key: str
    inserted: bool


@dataclass(slots=True)
class InboxItem:
    id: int
    dedupe_key: str
    app_ref: int | None
    team_id: str | None
    kind: InboxKind
    body: bytes
    headers: dict[str, Any]
    received_at: datetime
    status: str
    attempts: int
    not_before: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    # The parsed body, when the row was handed over in memory (see NewInboxItem.payload).
    payload: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


def _to_item(row: QueueRow) -> InboxItem:
    return InboxItem(
        id=int(row["id"]),
        dedupe_key=row["dedupe_key"],
        app_ref=row["app_ref"],
        team_id=row["team_id"],
        kind=row["kind"],
        body=bytes(row["body"]),
        headers=dict(row["headers"] or {}),
        received_at=row["received_at"],
        status=row["status"],
        attempts=int(row["attempts"]),
        not_before=row["not_before"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        last_error=row["last_error"],
    )


class InboxRepository(Repository):
    """Insert (deduplicated), claim and settle inbox rows."""

    def __init__(self, db: Database, keyring: Keyring, clock: Clock = utcnow) -> None:
        super().__init__(db, keyring, clock)
        self._queue = Queue(db, _SPEC, clock)

    def _insert_rows(
        self, conn: Connection, items: Sequence[NewInboxItem]
    ) -> builtins.list[InboxInsertResult]:
        now = self._clock()
        pg = raw_postgres(conn)
        if pg is not None:
            inserted = self._pg_insert(pg, conn, items, now)
        else:
            inserted = self._core_insert(conn, items, now)
        results = []
        for item in items:
            is_new = item.dedupe_key in inserted
            inserted.discard(item.dedupe_key)  # a repeat within the batch is a duplicate
            results.append(InboxInsertResult(item.dedupe_key, is_new))
        return results

    def _core_insert(
        self, conn: Connection, items: Sequence[NewInboxItem], now: datetime
    ) -> set[str]:
        inserted: set[str] = set()
        # One cached statement run "executemany" style: SQLAlchemy batches the rows into
        # multi-row INSERTs itself (insertmanyvalues) without compiling SQL per batch, which
        # matters on the ingress hot path.
        stmt = (
            dialect_insert_for(conn.dialect.name, _T)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_T.c.dedupe_key)
        )
        for start in range(0, len(items), _CHUNK):
            chunk = items[start : start + _CHUNK]
            rows = [
                {
                    "dedupe_key": item.dedupe_key,
                    "kind": item.kind,
                    "body": item.body,
                    "app_ref": item.app_ref,
                    "team_id": item.team_id,
                    "headers": dict(item.headers),
                    "received_at": now,
                    "status": _SPEC.ready,
                    "attempts": 0,
                    "not_before": now,
                }
                for item in chunk
            ]
            inserted.update(conn.execute(stmt, rows).scalars().all())
        return inserted

    def _pg_insert(
        self,
        raw: asyncpg.Connection,
        conn: Connection,
        items: Sequence[NewInboxItem],
        now: datetime,
    ) -> set[str]:
        """The rows as one INSERT from arrays on the PostgreSQL write path's connection."""
        headers = pg_statements(_SPEC, conn.dialect).table.value
        records = await_only(
            raw.fetch(
                _PG_INSERT,
                [item.dedupe_key for item in items],
                [item.kind for item in items],
                [item.body for item in items],
                [item.app_ref for item in items],
                [item.team_id for item in items],
                [headers("headers", dict(item.headers)) for item in items],
                now,
            )
        )
        return {record[0] for record in records}

    async def insert_many(
        self,
        items: Sequence[NewInboxItem],
        *,
        session: AsyncSession | None = None,
        urgent: bool = False,
    ) -> builtins.list[InboxInsertResult]:
        """Store new requests in ONE transaction; a key already stored (or repeated within
        ``items``) is reported as not inserted. Results follow the order of ``items``.
        ``urgent``: ahead of the other jobs waiting for the write path (Slack waits)."""
        if not items:
            return []
        if session is not None:
            return await self._write(lambda conn: self._insert_rows(conn, items), session)
        # On PostgreSQL's write path the rows are one INSERT: an urgent job of one statement.
        return await self._db.write(
            lambda conn: self._insert_rows(conn, items), urgent=urgent, single=urgent
        )

    async def insert(
        self, item: NewInboxItem, *, session: AsyncSession | None = None
    ) -> InboxInsertResult:
        return (await self.insert_many([item], session=session))[0]

    async def claim(
        self,
        owner: str,
        *,
        limit: int = 100,
        lease_seconds: float = 60.0,
        kinds: Sequence[InboxKind] | None = None,
    ) -> builtins.list[InboxItem]:
        """Lease up to ``limit`` due rows (oldest first) to ``owner``."""
        filters = {"kind": tuple(kinds)} if kinds else None
        rows = await self._queue.claim(owner, limit, lease_seconds, filters=filters)
        return [_to_item(r) for r in rows]

    async def complete(
        self, item_id: int, owner: str, *, session: AsyncSession | None = None
    ) -> bool:
        """Done (returns False if the lease was lost to another worker)."""
        return await self._write(lambda conn: self._queue.complete(conn, item_id, owner), session)

    async def fail(
        self, item_id: int, owner: str, error: str, *, session: AsyncSession | None = None
    ) -> bool:
        """Failed for good (e.g. a payload that can never be processed)."""
        return await self._write(
            lambda conn: self._queue.fail(conn, item_id, owner, error), session
        )

    async def retry_later(
        self,
        item_id: int,
        owner: str,
        not_before: datetime,
        error: str | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> bool:
        return await self._write(
            lambda conn: self._queue.retry_later(conn, item_id, owner, not_before, error), session
        )

    async def release(
        self,
        item_id: int,
        owner: str,
        not_before: datetime | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> bool:
        """Hand a row back without counting the attempt (e.g. on shutdown)."""
        return await self._write(
            lambda conn: self._queue.release(conn, item_id, owner, not_before), session
        )

    async def complete_many(
        self, ids: Sequence[int], owner: str, *, with_job: Job[Any] | None = None
    ) -> int:
        """Mark the rows ``ids`` leased by ``owner`` done, in one transaction with ``with_job``
        (e.g. storing their deliveries), so both happen or neither; rows whose lease was lost
        are left alone. Returns how many were done."""

        def job(conn: Connection) -> int:
            if with_job is not None:
                with_job(conn)
            pg = raw_postgres(conn) if ids else None
            if pg is not None:
                return rowcount(await_only(pg.execute(_PG_COMPLETE, list(ids), owner)))
            return complete_many(conn, ids, owner)

        return await self._write(job)

    async def release_many(self, ids: Sequence[int], owner: str) -> int:
        """Give rows leased by ``owner`` back (pending, the attempt not counted)."""
        return await self._write(lambda conn: release_many(conn, ids, owner))

    async def extend(self, item_ids: Sequence[int], owner: str, lease_seconds: float) -> int:
        return await self._write(
            lambda conn: self._queue.extend(conn, item_ids, owner, lease_seconds)
        )

    async def get(self, item_id: int, *, session: AsyncSession | None = None) -> InboxItem | None:
        async with self._read(session) as s:
            row = (await s.execute(select(_T).where(_T.c.id == item_id))).mappings().first()
        return None if row is None else _to_item(row)

    async def get_by_key(
        self, dedupe_key: str, *, session: AsyncSession | None = None
    ) -> InboxItem | None:
        stmt = select(_T).where(_T.c.dedupe_key == dedupe_key)
        async with self._read(session) as s:
            row = (await s.execute(stmt)).mappings().first()
        return None if row is None else _to_item(row)

    async def counts(self) -> dict[str, int]:
        """Rows per status: pending, processing, done, failed."""
        async with self._db.session() as s:
            return await self._queue.counts(s)

    async def backlog(self) -> Backlog:
        """Rows not yet processed, and the age of the oldest."""
        async with self._db.session() as s:
            return await self._queue.backlog(s)

    async def purge(self, *, older_than: datetime, statuses: Sequence[str] = ("done",)) -> int:
        """Delete settled rows received before ``older_than`` (their dedupe keys go with them)."""
        return await self._purge(self._queue, "received_at", older_than, statuses)
