"""The bridge's links: product conversations ↔ Slack threads, product messages ↔ Slack messages.

Both links are unique both ways. Linking is idempotent: linking the same pair again returns the
existing link; linking either side to something else raises
:class:`~slackbridge.store.errors.ConflictError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.errors import ConflictError
from slackbridge.store.models import ConversationLinkRow, MessageLinkRow, table_of
from slackbridge.store.repositories._base import Repository, dialect_insert

__all__ = ["ConversationLink", "LinksRepository", "MessageLink"]

_C = table_of(ConversationLinkRow)
_M = table_of(MessageLinkRow)


@dataclass(frozen=True)
class ConversationLink:
    """``thread_ts`` is None when the conversation is a whole channel."""

    id: int
    product_ref: str
    team_id: str
    channel_id: str
    thread_ts: str | None
    created_at: datetime


@dataclass(frozen=True)
class MessageLink:
    id: int
    product_ref: str
    team_id: str
    channel_id: str
    ts: str
    created_at: datetime


def _conversation(row: RowMapping) -> ConversationLink:
    return ConversationLink(
        id=int(row["id"]),
        product_ref=row["product_ref"],
        team_id=row["team_id"],
        channel_id=row["channel_id"],
        thread_ts=row["thread_ts"] or None,
        created_at=row["created_at"],
    )


def _message(row: RowMapping) -> MessageLink:
    return MessageLink(
        id=int(row["id"]),
        product_ref=row["product_ref"],
        team_id=row["team_id"],
        channel_id=row["channel_id"],
        ts=row["ts"],
        created_at=row["created_at"],
    )


class LinksRepository(Repository):
    """Create and follow the bridge's links."""

    async def _link(
        self, table: Table, values: dict[str, str], session: AsyncSession | None
    ) -> RowMapping:
        stmt = (
            dialect_insert(self._db, table)
            .values(created_at=self._clock(), **values)
            .on_conflict_do_nothing()
        )
        async with self._tx(session) as tx:
            await tx.execute(stmt)
            row = (
                (
                    await tx.execute(
                        select(table).where(table.c.product_ref == values["product_ref"])
                    )
                )
                .mappings()
                .first()
            )
        if row is None or any(row[k] != v for k, v in values.items()):
            raise ConflictError(f"{table.name}: one side of {values} is already linked elsewhere")
        return row

    async def link_conversation(
        self,
        product_ref: str,
        *,
        team_id: str,
        channel_id: str,
        thread_ts: str | None = None,
        session: AsyncSession | None = None,
    ) -> ConversationLink:
        values = {
            "product_ref": product_ref,
            "team_id": team_id,
            "channel_id": channel_id,
            "thread_ts": thread_ts or "",
        }
        return _conversation(await self._link(_C, values, session))

    async def conversation_by_ref(
        self, product_ref: str, *, session: AsyncSession | None = None
    ) -> ConversationLink | None:
        row = await self._first(_C, [_C.c.product_ref == product_ref], session)
        return None if row is None else _conversation(row)

    async def conversation_by_thread(
        self,
        team_id: str,
        channel_id: str,
        thread_ts: str | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> ConversationLink | None:
        """The conversation linked to a thread (``thread_ts``) or to the whole channel (None)."""
        conditions = [
            _C.c.team_id == team_id,
            _C.c.channel_id == channel_id,
            _C.c.thread_ts == (thread_ts or ""),
        ]
        row = await self._first(_C, conditions, session)
        return None if row is None else _conversation(row)

    async def unlink_conversation(
        self, product_ref: str, *, session: AsyncSession | None = None
    ) -> bool:
        return await self._delete(_C, product_ref, session)

    async def link_message(
        self,
        product_ref: str,
        *,
        team_id: str,
        channel_id: str,
        ts: str,
        session: AsyncSession | None = None,
    ) -> MessageLink:
        values = {
            "product_ref": product_ref,
            "team_id": team_id,
            "channel_id": channel_id,
            "ts": ts,
        }
        return _message(await self._link(_M, values, session))

    async def message_by_ref(
        self, product_ref: str, *, session: AsyncSession | None = None
    ) -> MessageLink | None:
        row = await self._first(_M, [_M.c.product_ref == product_ref], session)
        return None if row is None else _message(row)

    async def message_by_ts(
        self, team_id: str, channel_id: str, ts: str, *, session: AsyncSession | None = None
    ) -> MessageLink | None:
        conditions = [_M.c.team_id == team_id, _M.c.channel_id == channel_id, _M.c.ts == ts]
        row = await self._first(_M, conditions, session)
        return None if row is None else _message(row)

    async def unlink_message(
        self, product_ref: str, *, session: AsyncSession | None = None
    ) -> bool:
        return await self._delete(_M, product_ref, session)

    async def _first(
        self, table: Table, conditions: list[ColumnElement[bool]], session: AsyncSession | None
    ) -> RowMapping | None:
        async with self._read(session) as s:
            return (await s.execute(select(table).where(*conditions))).mappings().first()

    async def _delete(self, table: Table, product_ref: str, session: AsyncSession | None) -> bool:
        async with self._tx(session) as tx:
            result = await tx.execute(delete(table).where(table.c.product_ref == product_ref))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
