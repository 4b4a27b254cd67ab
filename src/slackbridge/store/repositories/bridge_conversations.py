"""The bridge's conversations: created once per key (with the outbox operations that make their
Slack place, in the same transaction), found by key, by Slack place or by operation, settled.

Creating is race-free on both engines: the row is inserted with ``ON CONFLICT (key) DO
NOTHING``; only the request whose insert took effect enqueues the operations, in the same write
job, so any number of concurrent creates of one key make one Slack thread or channel.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from slackbridge.store.models import BridgeConversationRow, table_of
from slackbridge.store.repositories._base import Repository, dialect_insert_for
from slackbridge.store.repositories.outbox import NewOutboxMessage, OutboxMessage, enqueue_job

__all__ = [
    "Conversation",
    "ConversationsRepository",
    "Created",
    "NewConversation",
    "OperationsFor",
]

_T = table_of(BridgeConversationRow)

#: Given the new conversation's id, the outbox operations that make its Slack place (the first
#: one is the creating operation).
OperationsFor = Callable[[int], Sequence[NewOutboxMessage]]


@dataclass(frozen=True)
class NewConversation:
    key: str
    team_id: str
    mode: str
    state: str = "creating"
    app_id: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    title: str | None = None
    metadata: Mapping[str, Any] | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    created_by: str | None = None


@dataclass(frozen=True)
class Conversation:
    id: int
    key: str
    team_id: str
    app_id: str | None
    mode: str
    state: str
    channel_id: str | None
    thread_ts: str | None
    permalink: str | None
    title: str | None
    metadata: dict[str, Any] | None
    spec: dict[str, Any]
    create_operation_id: str | None
    state_operation_id: str | None
    error: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    last_activity_at: datetime
    last_seen_ts: str | None


def _to_conversation(row: RowMapping) -> Conversation:
    return Conversation(
        id=int(row["id"]),
        key=row["key"],
        team_id=row["team_id"],
        app_id=row["app_id"],
        mode=row["mode"],
        state=row["state"],
        channel_id=row["channel_id"],
        thread_ts=row["thread_ts"],
        permalink=row["permalink"],
        title=row["title"],
        metadata=None if row["product_metadata"] is None else dict(row["product_metadata"]),
        spec=dict(row["spec"] or {}),
        create_operation_id=row["create_operation_id"],
        state_operation_id=row["state_operation_id"],
        error=row["error"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
        last_activity_at=row["last_activity_at"],
        last_seen_ts=row["last_seen_ts"],
    )


@dataclass(frozen=True)
class Created:
    """The stored conversation; ``created`` is False when the key existed already."""

    conversation: Conversation
    created: bool
    operations: tuple[OutboxMessage, ...] = ()


def _select_one(conn: Connection, *conditions: ColumnElement[bool]) -> Conversation | None:
    row = conn.execute(select(_T).where(*conditions)).mappings().first()
    return None if row is None else _to_conversation(row)


class ConversationsRepository(Repository):
    """Create, find and settle conversations."""

    async def create(
        self, new: NewConversation, operations: OperationsFor | None = None
    ) -> Created:
        """Insert the conversation unless its key exists; when inserted, enqueue
        ``operations(id)`` in the same transaction and remember the first as the creating one."""
        dialect = self._db.dialect
        now = self._clock()
        stmt = (
            dialect_insert_for(dialect, _T)
            .values(
                key=new.key,
                team_id=new.team_id,
                app_id=new.app_id,
                mode=new.mode,
                state=new.state,
                channel_id=new.channel_id,
                thread_ts=new.thread_ts,
                title=new.title,
                product_metadata=None if new.metadata is None else dict(new.metadata),
                spec=dict(new.spec),
                created_by=new.created_by,
                created_at=now,
                updated_at=now,
                last_activity_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(_T.c.id)
        )

        def job(conn: Connection) -> Created:
            inserted = conn.execute(stmt).scalar()
            if inserted is None:
                existing = _select_one(conn, _T.c.key == new.key)
                assert existing is not None
                return Created(existing, created=False)
            conversation_id = int(inserted)
            rows = [
                enqueue_job(dialect, op, now)(conn).message
                for op in (operations(conversation_id) if operations else ())
            ]
            if rows:
                conn.execute(
                    update(_T)
                    .where(_T.c.id == conversation_id)
                    .values(create_operation_id=rows[0].message_id)
                )
            found = _select_one(conn, _T.c.id == conversation_id)
            assert found is not None
            return Created(found, created=True, operations=tuple(rows))

        return await self._write(job)

    async def get(self, key: str) -> Conversation | None:
        return await self._first(_T.c.key == key)

    async def get_by_id(self, conversation_id: int) -> Conversation | None:
        return await self._first(_T.c.id == conversation_id)

    async def by_place(
        self, team_id: str, channel_id: str, thread_ts: str | None = None
    ) -> Conversation | None:
        """The conversation living in this thread (still) or, ``thread_ts`` None, this whole
        channel (noisy)."""
        conditions = [_T.c.team_id == team_id, _T.c.channel_id == channel_id]
        conditions.append(
            _T.c.thread_ts.is_(None) if thread_ts is None else _T.c.thread_ts == thread_ts
        )
        return await self._first(*conditions)

    async def any_in_channel(self, team_id: str, channel_id: str) -> Conversation | None:
        """A conversation living in this channel: the noisy one that is the channel, or a still
        one threaded in it."""
        return await self._first(_T.c.team_id == team_id, _T.c.channel_id == channel_id)

    async def by_create_operation(self, operation_id: str) -> Conversation | None:
        """The conversation whose Slack place ``operation_id`` creates (the card's post)."""
        return await self._first(_T.c.create_operation_id == operation_id)

    async def list(
        self,
        *,
        team_id: str | None = None,
        team_ids: Sequence[str] | None = None,
        state: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[Conversation]:
        """Oldest first, from after ``after_id`` (the cursor)."""
        conditions: builtins.list[ColumnElement[bool]] = []
        if team_id is not None:
            conditions.append(_T.c.team_id == team_id)
        if team_ids is not None:
            conditions.append(_T.c.team_id.in_(tuple(team_ids)))
        if state is not None:
            conditions.append(_T.c.state == state)
        if after_id is not None:
            conditions.append(_T.c.id > after_id)
        stmt = select(_T).where(*conditions).order_by(_T.c.id).limit(limit)
        async with self._db.session() as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_conversation(r) for r in rows]

    async def creating(self, *, limit: int = 100) -> builtins.list[Conversation]:
        """Conversations whose Slack place is still being made (also those closed meanwhile),
        oldest first."""
        unplaced = or_(
            _T.c.state == "creating",
            _T.c.channel_id.is_(None),
            and_(_T.c.mode == "still", _T.c.thread_ts.is_(None)),
        )
        stmt = (
            select(_T)
            .where(_T.c.create_operation_id.is_not(None), _T.c.state != "failed", unplaced)
            .order_by(_T.c.id)
            .limit(limit)
        )
        async with self._db.session() as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_conversation(r) for r in rows]

    async def most_recently_active(
        self, *, state: str = "open", limit: int = 100
    ) -> builtins.list[Conversation]:
        """Conversations by last activity, newest first (the catch-up's order)."""
        stmt = (
            select(_T)
            .where(_T.c.state == state)
            .order_by(_T.c.last_activity_at.desc(), _T.c.id.desc())
            .limit(limit)
        )
        async with self._db.session() as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_conversation(r) for r in rows]

    async def update(
        self,
        conversation_id: int,
        *,
        expect_state: str | None = None,
        expect_key: str | None = None,
        **values: Any,
    ) -> Conversation | None:
        """Set columns (``metadata`` names ``product_metadata``); with ``expect_state`` (or
        ``expect_key``), only while the conversation is in that state (has that key). Returns
        the row after, or None when it did not apply."""
        if "metadata" in values:
            values["product_metadata"] = values.pop("metadata")
        now = self._clock()
        conditions = [_T.c.id == conversation_id]
        if expect_state is not None:
            conditions.append(_T.c.state == expect_state)
        if expect_key is not None:
            conditions.append(_T.c.key == expect_key)
        stmt = update(_T).where(*conditions).values(updated_at=now, **values)

        def job(conn: Connection) -> Conversation | None:
            if conn.execute(stmt).rowcount != 1:
                return None
            return _select_one(conn, _T.c.id == conversation_id)

        return await self._write(job)

    async def change_state(
        self,
        conversation_id: int,
        *,
        state: str,
        from_states: Sequence[str],
        operations: Sequence[NewOutboxMessage] = (),
        **values: Any,
    ) -> tuple[Conversation | None, bool]:
        """Move to ``state`` from one of ``from_states`` and enqueue ``operations`` (the last
        one becomes ``state_operation_id``), atomically. Returns the row and whether it moved."""
        dialect = self._db.dialect
        now = self._clock()

        def job(conn: Connection) -> tuple[Conversation | None, bool]:
            current = _select_one(conn, _T.c.id == conversation_id)
            if current is None or current.state not in from_states:
                return current, False
            rows = [enqueue_job(dialect, op, now)(conn).message for op in operations]
            extra = dict(values)
            if rows:
                extra["state_operation_id"] = rows[-1].message_id
            conn.execute(
                update(_T)
                .where(_T.c.id == conversation_id)
                .values(state=state, updated_at=now, **extra)
            )
            return _select_one(conn, _T.c.id == conversation_id), True

        return await self._write(job)

    async def touch(
        self, conversation_id: int, *, at: datetime | None = None, seen_ts: str | None = None
    ) -> None:
        """Record activity (a message either way); ``seen_ts`` moves the catch-up mark forward."""
        values: dict[str, Any] = {"last_activity_at": at or self._clock()}
        if seen_ts is not None:
            # Only forward: ts values of one format order as text.
            values["last_seen_ts"] = case(
                (or_(_T.c.last_seen_ts.is_(None), _T.c.last_seen_ts < seen_ts), seen_ts),
                else_=_T.c.last_seen_ts,
            )
        stmt = update(_T).where(_T.c.id == conversation_id).values(**values)
        await self._write(lambda conn: conn.execute(stmt))

    async def _first(self, *conditions: ColumnElement[bool]) -> Conversation | None:
        async with self._db.session() as s:
            row = (await s.execute(select(_T).where(*conditions))).mappings().first()
        return None if row is None else _to_conversation(row)
