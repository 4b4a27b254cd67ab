"""The outbox: Web API calls the product asked for, durable before the 202 answer.

Rows of one lane (``team:channel:thread``, see :func:`outbox_lane`) are handed out one at a time
in id order, so a channel's or thread's messages reach Slack in the order they were accepted; a
row that must wait (rate limit, Retry-After, a transient error) holds back only its own lane.
``Idempotency-Key`` support: a second enqueue with the same (scope, key) returns the first row.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.ids import new_id
from slackbridge.store.models import OutboxRow, table_of
from slackbridge.store.models_base import utcnow
from slackbridge.store.queue import Backlog, Queue, QueueRow, QueueSpec
from slackbridge.store.repositories._base import Clock, Repository, dialect_insert_for
from slackbridge.store.write_path import Job

__all__ = [
    "NewOutboxMessage",
    "OutboxEnqueueResult",
    "OutboxMessage",
    "OutboxRepository",
    "enqueue_job",
    "get_job",
    "outbox_lane",
]

_T = table_of(OutboxRow)
_SPEC = QueueSpec(
    _T, ready="queued", claimed="sending", done="sent", failed="failed", lane=("lane_key",)
)


def outbox_lane(team_id: str, channel_id: str | None, thread_ts: str | None = None) -> str | None:
    """The FIFO lane of a call: one per (workspace, channel, thread); None without a channel."""
    if not channel_id:
        return None
    return f"{team_id}:{channel_id}:{thread_ts or ''}"


@dataclass(frozen=True)
class NewOutboxMessage:
    """A call to make. ``message_id`` is generated (``msg_…``) when not given."""

    team_id: str
    method: str
    payload: Mapping[str, Any]
    installation_id: int | None = None
    lane_key: str | None = None
    as_user: str | None = None
    idempotency_scope: str | None = None
    idempotency_key: str | None = None
    message_id: str | None = None
    not_before: datetime | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    message_id: str
    idempotency_scope: str | None
    idempotency_key: str | None
    team_id: str
    installation_id: int | None
    method: str
    lane_key: str | None
    payload: dict[str, Any] = field(repr=False)
    as_user: str | None
    status: str
    attempts: int
    not_before: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    result: dict[str, Any] | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    created_by: str | None = None


@dataclass(frozen=True)
class OutboxEnqueueResult:
    """The stored row; ``created`` is False when an earlier request had the same key."""

    message: OutboxMessage
    created: bool


def _to_message(row: QueueRow) -> OutboxMessage:
    return OutboxMessage(
        id=int(row["id"]),
        message_id=row["message_id"],
        idempotency_scope=row["idempotency_scope"],
        idempotency_key=row["idempotency_key"],
        team_id=row["team_id"],
        installation_id=row["installation_id"],
        method=row["method"],
        lane_key=row["lane_key"],
        payload=dict(row["payload"] or {}),
        as_user=row["as_user"],
        status=row["status"],
        attempts=int(row["attempts"]),
        not_before=row["not_before"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        result=None if row["result"] is None else dict(row["result"]),
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        created_by=row["created_by"],
    )


def enqueue_job(dialect: str, message: NewOutboxMessage, now: datetime) -> Job[OutboxEnqueueResult]:
    """The write job that stores ``message`` (see :meth:`OutboxRepository.enqueue`); other
    repositories run it inside their own jobs to enqueue atomically with their rows."""
    stmt = (
        dialect_insert_for(dialect, _T)
        .values(
            message_id=message.message_id or new_id("msg"),
            idempotency_scope=message.idempotency_scope,
            idempotency_key=message.idempotency_key,
            team_id=message.team_id,
            installation_id=message.installation_id,
            method=message.method,
            lane_key=message.lane_key,
            payload=dict(message.payload),
            as_user=message.as_user,
            created_by=message.created_by,
            status=_SPEC.ready,
            attempts=0,
            not_before=message.not_before or now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_scope", "idempotency_key"])
        .returning(*_T.c)
    )

    def job(conn: Connection) -> OutboxEnqueueResult:
        row = conn.execute(stmt).mappings().first()
        if row is not None:
            return OutboxEnqueueResult(_to_message(row), created=True)
        existing = (
            conn.execute(
                select(_T).where(
                    _T.c.idempotency_scope == message.idempotency_scope,
                    _T.c.idempotency_key == message.idempotency_key,
                )
            )
            .mappings()
            .one()
        )
        return OutboxEnqueueResult(_to_message(existing), created=False)

    return job


def get_job(message_id: str) -> Job[OutboxMessage | None]:
    """A job reading the row with this public id inside another write job's transaction."""

    def job(conn: Connection) -> OutboxMessage | None:
        row = conn.execute(select(_T).where(_T.c.message_id == message_id)).mappings().first()
        return None if row is None else _to_message(row)

    return job


class OutboxRepository(Repository):
    """Enqueue (idempotently), claim (head of each lane only) and settle outbox rows."""

    def __init__(self, db: Database, keyring: Keyring, clock: Clock = utcnow) -> None:
        super().__init__(db, keyring, clock)
        self._queue = Queue(db, _SPEC, clock)

    async def enqueue(
        self, message: NewOutboxMessage, *, session: AsyncSession | None = None
    ) -> OutboxEnqueueResult:
        """Store a call; with an idempotency key already used in its scope, return that row."""
        return await self._write(enqueue_job(self._db.dialect, message, self._clock()), session)

    async def claim(
        self,
        owner: str,
        *,
        limit: int = 50,
        lease_seconds: float = 60.0,
        team_ids: Sequence[str] | None = None,
        probe: bool = True,
    ) -> builtins.list[OutboxMessage]:
        """Lease due rows to ``owner``: at most one per lane, the oldest unfinished of it.
        ``probe``: look for a due row first (see :meth:`Queue.claim`)."""
        filters = {"team_id": tuple(team_ids)} if team_ids else None
        rows = await self._queue.claim(owner, limit, lease_seconds, filters=filters, probe=probe)
        return [_to_message(r) for r in rows]

    async def mark_sent(
        self,
        row_id: int,
        owner: str,
        *,
        result: Mapping[str, Any],
        payload: Mapping[str, Any] | None = None,
        session: AsyncSession | None = None,
    ) -> bool:
        """Delivered to Slack; ``result`` keeps what the product may ask for (ts, channel).
        ``payload`` replaces the stored request in the same update (e.g. without an upload's
        bytes)."""
        extra = {} if payload is None else {"payload": dict(payload)}
        sent_at = self._clock()
        return await self._write(
            lambda conn: self._queue.complete(
                conn, row_id, owner, result=dict(result), last_error=None, sent_at=sent_at, **extra
            ),
            session,
        )

    async def mark_failed(
        self,
        row_id: int,
        owner: str,
        *,
        error: str,
        result: Mapping[str, Any] | None = None,
        payload: Mapping[str, Any] | None = None,
        session: AsyncSession | None = None,
    ) -> bool:
        """A permanent failure (channel_not_found, msg_too_long, …); the lane moves on.
        ``payload`` replaces the stored request in the same update, as for :meth:`mark_sent`."""
        extra: dict[str, Any] = {} if result is None else {"result": dict(result)}
        if payload is not None:
            extra["payload"] = dict(payload)
        return await self._write(
            lambda conn: self._queue.fail(conn, row_id, owner, error, **extra), session
        )

    async def retry_later(
        self,
        row_id: int,
        owner: str,
        not_before: datetime,
        *,
        error: str | None = None,
        session: AsyncSession | None = None,
    ) -> bool:
        """A transient failure: try again at ``not_before`` (the attempt counts)."""
        return await self._write(
            lambda conn: self._queue.retry_later(conn, row_id, owner, not_before, error), session
        )

    async def release(
        self,
        row_id: int,
        owner: str,
        not_before: datetime | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> bool:
        """Wait without counting an attempt (rate limit, Retry-After); only its lane waits."""
        return await self._write(
            lambda conn: self._queue.release(conn, row_id, owner, not_before), session
        )

    async def extend(self, row_ids: Sequence[int], owner: str, lease_seconds: float) -> int:
        return await self._write(
            lambda conn: self._queue.extend(conn, row_ids, owner, lease_seconds)
        )

    async def get(
        self, message_id: str, *, session: AsyncSession | None = None
    ) -> OutboxMessage | None:
        """The row with this public id (``msg_…``)."""
        rows = await self._select([_T.c.message_id == message_id], 1, session)
        return rows[0] if rows else None

    async def get_many(
        self, message_ids: Sequence[str], *, session: AsyncSession | None = None
    ) -> dict[str, OutboxMessage]:
        """The rows with these public ids, by id (unknown ids are left out)."""
        if not message_ids:
            return {}
        ids = tuple(dict.fromkeys(message_ids))
        rows = await self._select([_T.c.message_id.in_(ids)], len(ids), session)
        return {r.message_id: r for r in rows}

    async def get_by_idempotency_key(
        self, scope: str, key: str, *, session: AsyncSession | None = None
    ) -> OutboxMessage | None:
        conditions = [_T.c.idempotency_scope == scope, _T.c.idempotency_key == key]
        rows = await self._select(conditions, 1, session)
        return rows[0] if rows else None

    async def list(
        self,
        *,
        status: str | None = None,
        team_id: str | None = None,
        lane_key: str | None = None,
        limit: int = 100,
        session: AsyncSession | None = None,
    ) -> builtins.list[OutboxMessage]:
        """Oldest first."""
        conditions: builtins.list[ColumnElement[bool]] = []
        if status is not None:
            conditions.append(_T.c.status == status)
        if team_id is not None:
            conditions.append(_T.c.team_id == team_id)
        if lane_key is not None:
            conditions.append(_T.c.lane_key == lane_key)
        return await self._select(conditions, limit, session)

    async def counts(self) -> dict[str, int]:
        """Rows per status: queued, sending, sent, failed."""
        async with self._db.session() as s:
            return await self._queue.counts(s)

    async def purge(
        self, *, older_than: datetime, statuses: Sequence[str] = ("sent", "failed")
    ) -> int:
        """Delete settled rows created before ``older_than`` (idempotency keys expire with them)."""
        return await self._purge(self._queue, "created_at", older_than, statuses)

    async def backlog(self) -> Backlog:
        """Rows not yet settled, and the age of the oldest."""
        async with self._db.session() as s:
            return await self._queue.backlog(s)

    async def _select(
        self,
        conditions: Sequence[ColumnElement[bool]],
        limit: int,
        session: AsyncSession | None,
    ) -> builtins.list[OutboxMessage]:
        stmt = select(_T).where(*conditions).order_by(_T.c.id).limit(limit)
        async with self._read(session) as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_message(r) for r in rows]
