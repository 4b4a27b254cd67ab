"""The bridge's messages: product message id ↔ Slack ts ↔ the outbox operation that posts it.

A product message is stored together with its outbox operations in one write job, so that a
message is never queued twice (its id is unique within its conversation) and never stored
without its operations. Messages seen in Slack are recorded by ts (``origin='slack'``).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import Connection, RowMapping

from slackbridge.store.models import BridgeMessageRow, table_of
from slackbridge.store.repositories._base import Repository, dialect_insert_for
from slackbridge.store.repositories.outbox import NewOutboxMessage, OutboxMessage, enqueue_job

__all__ = [
    "BridgeMessage",
    "MessagesRepository",
    "NewProductMessage",
    "PostOperations",
    "Stored",
]

_T = table_of(BridgeMessageRow)


@dataclass(frozen=True)
class NewProductMessage:
    conversation_id: int
    product_message_id: str
    author: Mapping[str, Any]
    request_digest: str
    content_digest: str | None = None


@dataclass(frozen=True)
class PostOperations:
    """The operations posting a message: the text post (None for a message of files only) and
    one upload per file."""

    post: NewOutboxMessage | None
    files: Sequence[NewOutboxMessage] = ()


@dataclass(frozen=True)
class BridgeMessage:
    id: int
    conversation_id: int
    origin: str
    product_message_id: str | None
    operation_id: str | None
    last_operation_id: str | None
    file_operation_ids: tuple[str, ...]
    file_ids: tuple[str, ...]
    ts: str | None
    state: str
    author: dict[str, Any]
    request_digest: str | None
    content_digest: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    thread_ts: str | None = None  # the thread a Slack message lives in (see the model)


def _to_message(row: RowMapping) -> BridgeMessage:
    return BridgeMessage(
        id=int(row["id"]),
        conversation_id=int(row["conversation_id"]),
        origin=row["origin"],
        product_message_id=row["product_message_id"],
        operation_id=row["operation_id"],
        last_operation_id=row["last_operation_id"],
        file_operation_ids=tuple(row["file_operation_ids"] or ()),
        file_ids=tuple(row["file_ids"] or ()),
        ts=row["ts"],
        state=row["state"],
        author=dict(row["author"] or {}),
        request_digest=row["request_digest"],
        content_digest=row["content_digest"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deleted_at=row["deleted_at"],
        thread_ts=row["thread_ts"],
    )


@dataclass(frozen=True)
class Stored:
    """The stored message; ``created`` is False when the id was used before."""

    message: BridgeMessage
    created: bool
    operations: tuple[OutboxMessage, ...] = ()


def _one(conn: Connection, *conditions: ColumnElement[bool]) -> BridgeMessage | None:
    row = conn.execute(select(_T).where(*conditions)).mappings().first()
    return None if row is None else _to_message(row)


class MessagesRepository(Repository):
    """Store, find and settle the bridge's messages."""

    async def add_product_message(
        self, new: NewProductMessage, operations: Callable[[], PostOperations]
    ) -> Stored:
        """Store the message unless its id exists in the conversation; when stored, enqueue its
        operations in the same transaction."""
        dialect = self._db.dialect
        now = self._clock()
        stmt = (
            dialect_insert_for(dialect, _T)
            .values(
                conversation_id=new.conversation_id,
                origin="product",
                product_message_id=new.product_message_id,
                state="queued",
                author=dict(new.author),
                request_digest=new.request_digest,
                content_digest=new.content_digest,
                file_operation_ids=[],
                file_ids=[],
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["conversation_id", "product_message_id"])
            .returning(_T.c.id)
        )
        same_id = (
            _T.c.conversation_id == new.conversation_id,
            _T.c.product_message_id == new.product_message_id,
        )

        def job(conn: Connection) -> Stored:
            inserted = conn.execute(stmt).scalar()
            if inserted is None:
                existing = _one(conn, *same_id)
                assert existing is not None
                return Stored(existing, created=False)
            ops = operations()
            post = enqueue_job(dialect, ops.post, now)(conn).message if ops.post else None
            files = [enqueue_job(dialect, op, now)(conn).message for op in ops.files]
            first = post or (files[0] if files else None)
            conn.execute(
                update(_T)
                .where(_T.c.id == int(inserted))
                .values(
                    operation_id=first.message_id if first else None,
                    file_operation_ids=[f.message_id for f in files],
                )
            )
            found = _one(conn, _T.c.id == int(inserted))
            assert found is not None
            rows = tuple(r for r in (post, *files) if r is not None)
            return Stored(found, created=True, operations=rows)

        return await self._write(job)

    async def record_slack_message(
        self,
        conversation_id: int,
        ts: str,
        *,
        author: Mapping[str, Any] | None = None,
        content_digest: str | None = None,
        file_ids: Sequence[str] = (),
        thread_ts: str | None = None,
    ) -> Stored:
        """Remember a message seen in Slack (idempotent by ts) and the thread it lives in
        (``thread_ts``: see the model; it fills in a row recorded without one)."""
        now = self._clock()
        stmt = (
            dialect_insert_for(self._db.dialect, _T)
            .values(
                conversation_id=conversation_id,
                origin="slack",
                ts=ts,
                state="sent",
                author=dict(author or {}),
                content_digest=content_digest,
                file_operation_ids=[],
                file_ids=list(file_ids),
                thread_ts=thread_ts,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["conversation_id", "ts"])
            .returning(_T.c.id)
        )
        mine = (_T.c.conversation_id == conversation_id, _T.c.ts == ts)
        place = update(_T).where(*mine, _T.c.thread_ts.is_(None)).values(thread_ts=thread_ts)

        def job(conn: Connection) -> Stored:
            inserted = conn.execute(stmt).scalar()
            if inserted is None and thread_ts is not None:
                conn.execute(place)
            found = _one(conn, *mine)
            assert found is not None
            return Stored(found, created=inserted is not None)

        return await self._write(job)

    async def add_operations(
        self, message_id: int, operations: Sequence[NewOutboxMessage], **values: Any
    ) -> tuple[BridgeMessage, tuple[OutboxMessage, ...]]:
        """Enqueue operations on a stored message (an edit, a deletion, a reaction) and make the
        last one its ``last_operation_id``, atomically; ``values`` are set on the row too. A
        deletion (``values`` set ``deleted_at``) is queued once: when the row is deleted already
        (a concurrent request won), nothing is queued and the row is answered as it is."""
        dialect = self._db.dialect
        now = self._clock()

        def job(conn: Connection) -> tuple[BridgeMessage, tuple[OutboxMessage, ...]]:
            if values.get("deleted_at") is not None:
                claim = (
                    update(_T)
                    .where(_T.c.id == message_id, _T.c.deleted_at.is_(None))
                    .values(deleted_at=values["deleted_at"])
                )
                if conn.execute(claim).rowcount == 0:
                    current = _one(conn, _T.c.id == message_id)
                    assert current is not None
                    return current, ()
            rows = tuple(enqueue_job(dialect, op, now)(conn).message for op in operations)
            extra = dict(values)
            if rows:
                extra["last_operation_id"] = rows[-1].message_id
            conn.execute(update(_T).where(_T.c.id == message_id).values(updated_at=now, **extra))
            found = _one(conn, _T.c.id == message_id)
            assert found is not None
            return found, rows

        return await self._write(job)

    async def get(self, conversation_id: int, product_message_id: str) -> BridgeMessage | None:
        return await self._first(
            _T.c.conversation_id == conversation_id,
            _T.c.product_message_id == product_message_id,
        )

    async def by_ts(self, conversation_id: int, ts: str) -> BridgeMessage | None:
        return await self._first(_T.c.conversation_id == conversation_id, _T.c.ts == ts)

    async def by_operation(self, operation_id: str) -> BridgeMessage | None:
        """The message a post operation (``msg_…``, from the loop guard) belongs to."""
        return await self._first(_T.c.operation_id == operation_id)

    async def pending(self, *, limit: int = 200) -> builtins.list[BridgeMessage]:
        """Product messages whose post has not settled yet, oldest first."""
        stmt = select(_T).where(_T.c.state == "queued").order_by(_T.c.id).limit(limit)
        async with self._db.session() as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_message(r) for r in rows]

    async def settle(self, message_id: int, **values: Any) -> BridgeMessage | None:
        """Set columns (``ts``, ``state``, ``error``, ``file_ids``, ``deleted_at``, …)."""
        now = self._clock()

        def job(conn: Connection) -> BridgeMessage | None:
            conn.execute(update(_T).where(_T.c.id == message_id).values(updated_at=now, **values))
            return _one(conn, _T.c.id == message_id)

        return await self._write(job)

    async def replace_digest(
        self, conversation_id: int, ts: str, *, known: str, digest: str
    ) -> bool:
        """Record ``digest`` as the content last sent of the message ``ts``, only while the
        store still holds ``known`` and the message is not deleted (a live edit recorded
        meanwhile is newer and stays); True when replaced."""
        now = self._clock()
        stmt = (
            update(_T)
            .where(
                _T.c.conversation_id == conversation_id,
                _T.c.ts == ts,
                _T.c.content_digest == known,
                _T.c.deleted_at.is_(None),
            )
            .values(content_digest=digest, updated_at=now)
        )

        def job(conn: Connection) -> bool:
            return bool(conn.execute(stmt).rowcount)

        return await self._write(job)

    async def mark_deleted(self, conversation_id: int, ts: str, at: datetime) -> bool:
        """Record the message ``ts`` as deleted in Slack unless it is already; True when it
        was not."""
        stmt = (
            update(_T)
            .where(
                _T.c.conversation_id == conversation_id,
                _T.c.ts == ts,
                _T.c.deleted_at.is_(None),
            )
            .values(deleted_at=at, updated_at=self._clock())
        )

        def job(conn: Connection) -> bool:
            return bool(conn.execute(stmt).rowcount)

        return await self._write(job)

    async def _first(self, *conditions: ColumnElement[bool]) -> BridgeMessage | None:
        async with self._db.session() as s:
            row = (await s.execute(select(_T).where(*conditions))).mappings().first()
        return None if row is None else _to_message(row)
