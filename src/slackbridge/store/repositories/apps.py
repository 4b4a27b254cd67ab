"""Slack apps: their credentials (encrypted) and their settings."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import SlackAppRow, table_of
from slackbridge.store.repositories._base import Repository, as_tuple, dialect_insert

__all__ = ["AppSpec", "AppsRepository", "SlackApp"]

_T = table_of(SlackAppRow)
_TABLE = "slack_apps"
_SECRETS = ("client_secret", "signing_secret", "verification_token", "app_token")


@dataclass(frozen=True)
class AppSpec:
    """What to store for an app (from settings, the manifest provisioning or the CLI)."""

    name: str
    app_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    verification_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    bot_scopes: Sequence[str] = ()
    user_scopes: Sequence[str] = ()
    socket_mode: bool = False
    token_rotation: bool = False


@dataclass(frozen=True)
class SlackApp:
    """A stored app with its secrets decrypted (secrets are left out of ``repr``)."""

    id: int
    name: str
    app_id: str | None
    client_id: str | None
    client_secret: str | None = field(repr=False)
    signing_secret: str | None = field(repr=False)
    verification_token: str | None = field(repr=False)
    app_token: str | None = field(repr=False)
    bot_scopes: tuple[str, ...]
    user_scopes: tuple[str, ...]
    socket_mode: bool
    token_rotation: bool


class AppsRepository(Repository):
    """Create, update and look up Slack apps."""

    def _to_app(self, row: RowMapping) -> SlackApp:
        rid = int(row["id"])
        secrets = {
            name: self._open(_TABLE, f"{name}_enc", rid, row[f"{name}_enc"]) for name in _SECRETS
        }
        return SlackApp(
            id=rid,
            name=row["name"],
            app_id=row["app_id"],
            client_id=row["client_id"],
            bot_scopes=as_tuple(row["bot_scopes"]),
            user_scopes=as_tuple(row["user_scopes"]),
            socket_mode=bool(row["socket_mode"]),
            token_rotation=bool(row["token_rotation"]),
            **secrets,
        )

    async def upsert(self, spec: AppSpec, *, session: AsyncSession | None = None) -> SlackApp:
        """Create the app named ``spec.name`` or replace its stored values."""
        now = self._clock()
        values = {
            "name": spec.name,
            "app_id": spec.app_id,
            "client_id": spec.client_id,
            "bot_scopes": list(spec.bot_scopes),
            "user_scopes": list(spec.user_scopes),
            "socket_mode": spec.socket_mode,
            "token_rotation": spec.token_rotation,
            "updated_at": now,
        }
        stmt = dialect_insert(self._db, _T).values(created_at=now, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_=values).returning(_T.c.id)
        async with self._tx(session) as tx:
            rid = int((await tx.execute(stmt)).scalar_one())
            sealed = {
                f"{name}_enc": self._seal(_TABLE, f"{name}_enc", rid, getattr(spec, name))
                for name in _SECRETS
            }
            await tx.execute(update(_T).where(_T.c.id == rid).values(**sealed))
            row = (await tx.execute(select(_T).where(_T.c.id == rid))).mappings().one()
        return self._to_app(row)

    async def get(self, app_ref: int, *, session: AsyncSession | None = None) -> SlackApp | None:
        """The app with row id ``app_ref``."""
        return await self._one(_T.c.id == app_ref, session)

    async def get_by_name(
        self, name: str, *, session: AsyncSession | None = None
    ) -> SlackApp | None:
        return await self._one(_T.c.name == name, session)

    async def get_by_app_id(
        self, app_id: str, *, session: AsyncSession | None = None
    ) -> SlackApp | None:
        """The app with Slack's app id (``A…``), e.g. from an event's ``api_app_id``."""
        return await self._one(_T.c.app_id == app_id, session)

    async def list(self, *, session: AsyncSession | None = None) -> builtins.list[SlackApp]:
        """Every app, in creation order."""
        async with self._read(session) as s:
            rows = (await s.execute(select(_T).order_by(_T.c.id))).mappings().all()
        return [self._to_app(r) for r in rows]

    async def _one(
        self, condition: ColumnElement[bool], session: AsyncSession | None
    ) -> SlackApp | None:
        async with self._read(session) as s:
            stmt = select(_T).where(condition).order_by(_T.c.id)
            row = (await s.execute(stmt)).mappings().first()
        return None if row is None else self._to_app(row)
