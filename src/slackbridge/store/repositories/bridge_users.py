"""The bridge's user links: a product user ↔ a Slack user (by id or email) in a workspace, and
the ``users.lookupByEmail`` cache (rows without a product user).

A link and the cache share one row per (workspace, email): linking a product user to an email
already looked up takes that row over, so what Slack said about the email is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from slackbridge.store.errors import ConflictError
from slackbridge.store.models import BridgeUserLinkRow, table_of
from slackbridge.store.repositories._base import Repository
from slackbridge.store.write_path import Job

__all__ = ["UserLink", "UserLinksRepository"]

_T = table_of(BridgeUserLinkRow)


@dataclass(frozen=True)
class UserLink:
    id: int
    team_id: str
    product_user: str | None
    slack_user: str | None
    email: str | None
    name: str | None
    avatar_url: str | None
    fetched_at: datetime | None


def _to_link(row: RowMapping) -> UserLink:
    return UserLink(
        id=int(row["id"]),
        team_id=row["team_id"],
        product_user=row["product_user"],
        slack_user=row["slack_user"],
        email=row["email"],
        name=row["name"],
        avatar_url=row["avatar_url"],
        fetched_at=row["fetched_at"],
    )


def _one(conn: Connection, *conditions: ColumnElement[bool]) -> UserLink | None:
    row = conn.execute(select(_T).where(*conditions)).mappings().first()
    return None if row is None else _to_link(row)


def _norm(email: str | None) -> str | None:
    return email.strip().lower() if email else None


class UserLinksRepository(Repository):
    """Link product users to Slack users; cache what Slack says about emails."""

    async def _upsert(self, job: Job[UserLink]) -> UserLink:
        """Run a read-then-insert ``job``; when another process inserted the same row between
        its read and its insert (gateways sharing PostgreSQL), once more: it then updates it."""
        try:
            return await self._write(job)
        except IntegrityError:
            return await self._write(job)

    async def put_link(
        self,
        team_id: str,
        product_user: str,
        *,
        email: str | None = None,
        slack_user: str | None = None,
    ) -> UserLink:
        """Create or replace ``product_user``'s link. Raises :class:`ConflictError` when the
        email is linked to another product user."""
        email = _norm(email)
        now = self._clock()

        def job(conn: Connection) -> UserLink:
            mine = _one(conn, _T.c.team_id == team_id, _T.c.product_user == product_user)
            by_email = _one(conn, _T.c.team_id == team_id, _T.c.email == email) if email else None
            if by_email is not None and by_email.product_user not in (None, product_user):
                raise ConflictError(f"{email} is linked to another product user")
            values: dict[str, Any] = {
                "product_user": product_user,
                "email": email,
                "slack_user": slack_user,
                "updated_at": now,
            }
            cached = by_email if by_email is not None and by_email.product_user is None else None
            if cached is not None and slack_user is None:
                # What Slack said about the email stays.
                values.update(
                    slack_user=cached.slack_user,
                    name=cached.name,
                    avatar_url=cached.avatar_url,
                    fetched_at=cached.fetched_at,
                )
            elif mine is None or mine.slack_user != slack_user or mine.email != email:
                values.update(name=None, avatar_url=None, fetched_at=None)
            if cached is not None:
                conn.execute(delete(_T).where(_T.c.id == cached.id))
            if mine is None:
                conn.execute(_T.insert().values(team_id=team_id, created_at=now, **values))
            else:
                conn.execute(update(_T).where(_T.c.id == mine.id).values(**values))
            found = _one(conn, _T.c.team_id == team_id, _T.c.product_user == product_user)
            assert found is not None
            return found

        return await self._upsert(job)

    async def by_product_user(self, team_id: str, product_user: str) -> UserLink | None:
        return await self._first(_T.c.team_id == team_id, _T.c.product_user == product_user)

    async def by_email(self, team_id: str, email: str) -> UserLink | None:
        return await self._first(_T.c.team_id == team_id, _T.c.email == _norm(email))

    async def by_slack_user(self, team_id: str, slack_user: str) -> UserLink | None:
        """The link of a Slack user (a product user's link first, then the cache)."""
        stmt = (
            select(_T)
            .where(_T.c.team_id == team_id, _T.c.slack_user == slack_user)
            .order_by(_T.c.product_user.is_(None), _T.c.id)
        )
        async with self._db.session() as s:
            row = (await s.execute(stmt)).mappings().first()
        return None if row is None else _to_link(row)

    async def remember_lookup(
        self,
        team_id: str,
        email: str,
        *,
        slack_user: str | None,
        name: str | None = None,
        avatar_url: str | None = None,
    ) -> UserLink:
        """Store what ``users.lookupByEmail`` answered (``slack_user`` None: no such user)."""
        email_key = _norm(email)
        now = self._clock()
        values = {
            "slack_user": slack_user,
            "name": name,
            "avatar_url": avatar_url,
            "fetched_at": now,
            "updated_at": now,
        }

        def job(conn: Connection) -> UserLink:
            found = _one(conn, _T.c.team_id == team_id, _T.c.email == email_key)
            if found is None:
                conn.execute(
                    _T.insert().values(team_id=team_id, email=email_key, created_at=now, **values)
                )
            else:
                conn.execute(update(_T).where(_T.c.id == found.id).values(**values))
            stored = _one(conn, _T.c.team_id == team_id, _T.c.email == email_key)
            assert stored is not None
            return stored

        return await self._upsert(job)

    async def remember_profile(
        self, team_id: str, slack_user: str, *, name: str | None, avatar_url: str | None
    ) -> int:
        """Store a Slack user's current name and avatar on their links (``user_change``)."""
        now = self._clock()
        stmt = (
            update(_T)
            .where(_T.c.team_id == team_id, _T.c.slack_user == slack_user)
            .values(name=name, avatar_url=avatar_url, fetched_at=now, updated_at=now)
        )
        return await self._write(lambda conn: int(conn.execute(stmt).rowcount))

    async def expire(self, team_id: str, slack_user: str | None = None) -> int:
        """Mark cached answers stale (a ``user_change``, say): the next use looks again."""
        conditions = [_T.c.team_id == team_id]
        if slack_user is not None:
            conditions.append(_T.c.slack_user == slack_user)
        stmt = update(_T).where(*conditions).values(fetched_at=None)
        return await self._write(lambda conn: int(conn.execute(stmt).rowcount))

    def is_fresh(self, link: UserLink, max_age: timedelta) -> bool:
        return link.fetched_at is not None and link.fetched_at >= self._clock() - max_age

    async def _first(self, *conditions: ColumnElement[bool]) -> UserLink | None:
        async with self._db.session() as s:
            row = (await s.execute(select(_T).where(*conditions))).mappings().first()
        return None if row is None else _to_link(row)
