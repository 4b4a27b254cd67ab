"""A cache of Slack users (names and emails for webhook payloads), refreshed by age."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import UserCacheRow, table_of
from slackbridge.store.repositories._base import Repository, dialect_insert

__all__ = ["CachedUser", "UsersRepository"]

_T = table_of(UserCacheRow)
_FIELDS = ("name", "real_name", "display_name", "email", "is_bot", "deleted", "profile")


@dataclass(frozen=True)
class CachedUser:
    team_id: str
    user_id: str
    name: str | None = None
    real_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    profile: Mapping[str, Any] = field(default_factory=dict)
    fetched_at: datetime | None = None


def _to_user(row: RowMapping) -> CachedUser:
    return CachedUser(
        team_id=row["team_id"],
        user_id=row["user_id"],
        name=row["name"],
        real_name=row["real_name"],
        display_name=row["display_name"],
        email=row["email"],
        is_bot=bool(row["is_bot"]),
        deleted=bool(row["deleted"]),
        profile=dict(row["profile"] or {}),
        fetched_at=row["fetched_at"],
    )


class UsersRepository(Repository):
    """Read and refresh cached users."""

    async def get(
        self,
        team_id: str,
        user_id: str,
        *,
        max_age: timedelta | None = None,
        session: AsyncSession | None = None,
    ) -> CachedUser | None:
        """The cached user, or None when absent or older than ``max_age``."""
        stmt = select(_T).where(_T.c.team_id == team_id, _T.c.user_id == user_id)
        if max_age is not None:
            stmt = stmt.where(_T.c.fetched_at >= self._clock() - max_age)
        if session is None:
            # Read for every inbox batch's enrichment: quick (see Repository._read_quick).
            row = await self._read_quick(lambda conn: conn.execute(stmt).mappings().first())
        else:
            row = (await session.execute(stmt)).mappings().first()
        return None if row is None else _to_user(row)

    async def find_by_email(
        self, team_id: str, email: str, *, session: AsyncSession | None = None
    ) -> CachedUser | None:
        """A cached user of the team with this email (case-insensitive)."""
        stmt = select(_T).where(_T.c.team_id == team_id, func.lower(_T.c.email) == email.lower())
        async with self._read(session) as s:
            row = (await s.execute(stmt.order_by(_T.c.fetched_at.desc()))).mappings().first()
        return None if row is None else _to_user(row)

    async def put_many(
        self, users: Sequence[CachedUser], *, session: AsyncSession | None = None
    ) -> None:
        """Insert or refresh users (``fetched_at`` becomes now)."""
        if not users:
            return
        now = self._clock()
        rows = [
            {
                "team_id": u.team_id,
                "user_id": u.user_id,
                "name": u.name,
                "real_name": u.real_name,
                "display_name": u.display_name,
                "email": u.email,
                "is_bot": u.is_bot,
                "deleted": u.deleted,
                "profile": dict(u.profile),
                "fetched_at": now,
            }
            for u in users
        ]
        insert = dialect_insert(self._db, _T)
        stmt = insert.on_conflict_do_update(
            index_elements=["team_id", "user_id"],
            set_={name: insert.excluded[name] for name in (*_FIELDS, "fetched_at")},
        )
        async with self._tx(session) as tx:
            await tx.execute(stmt, rows)

    async def put(self, user: CachedUser, *, session: AsyncSession | None = None) -> None:
        await self.put_many([user], session=session)

    async def forget(
        self, team_id: str, user_id: str | None = None, *, session: AsyncSession | None = None
    ) -> int:
        """Drop one user, or every user of a team (e.g. after an uninstall)."""
        stmt = delete(_T).where(_T.c.team_id == team_id)
        if user_id is not None:
            stmt = stmt.where(_T.c.user_id == user_id)
        async with self._tx(session) as tx:
            result = await tx.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]
