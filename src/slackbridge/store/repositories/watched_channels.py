"""Watched channels: where new top-level messages (or messages given a chosen reaction) open
conversations from Slack."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, RowMapping

from slackbridge.store.models import BridgeWatchedChannelRow, table_of
from slackbridge.store.repositories._base import Repository, dialect_insert_for

__all__ = ["WatchedChannel", "WatchedChannelsRepository"]

_T = table_of(BridgeWatchedChannelRow)


@dataclass(frozen=True)
class WatchedChannel:
    team_id: str
    channel_id: str
    open_on: str
    reaction: str | None
    mode: str
    created_at: datetime
    updated_at: datetime


def _to_watched(row: RowMapping) -> WatchedChannel:
    return WatchedChannel(
        team_id=row["team_id"],
        channel_id=row["channel_id"],
        open_on=row["open_on"],
        reaction=row["reaction"],
        mode=row["mode"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class WatchedChannelsRepository(Repository):
    """Put, remove and list watched channels."""

    async def put(
        self,
        team_id: str,
        channel_id: str,
        *,
        open_on: str,
        reaction: str | None = None,
        mode: str = "still",
    ) -> WatchedChannel:
        now = self._clock()
        insert = dialect_insert_for(self._db.dialect, _T)
        settings = {"open_on": open_on, "reaction": reaction, "mode": mode, "updated_at": now}
        stmt = insert.values(
            team_id=team_id, channel_id=channel_id, created_at=now, **settings
        ).on_conflict_do_update(index_elements=["team_id", "channel_id"], set_=settings)
        where = (_T.c.team_id == team_id, _T.c.channel_id == channel_id)

        def job(conn: Connection) -> WatchedChannel:
            conn.execute(stmt)
            return _to_watched(conn.execute(select(_T).where(*where)).mappings().one())

        return await self._write(job)

    async def get(self, team_id: str, channel_id: str) -> WatchedChannel | None:
        stmt = select(_T).where(_T.c.team_id == team_id, _T.c.channel_id == channel_id)
        async with self._db.session() as s:
            row = (await s.execute(stmt)).mappings().first()
        return None if row is None else _to_watched(row)

    async def remove(self, team_id: str, channel_id: str) -> bool:
        stmt = delete(_T).where(_T.c.team_id == team_id, _T.c.channel_id == channel_id)
        return await self._write(lambda conn: bool(conn.execute(stmt).rowcount == 1))

    async def list(self, *, team_id: str | None = None) -> builtins.list[WatchedChannel]:
        stmt = select(_T).order_by(_T.c.team_id, _T.c.channel_id)
        if team_id is not None:
            stmt = stmt.where(_T.c.team_id == team_id)
        async with self._db.session() as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_watched(r) for r in rows]
