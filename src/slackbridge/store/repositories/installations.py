"""Installations (an app in a workspace) and the user tokens granted within them.

Tokens, refresh tokens and the incoming-webhook URL are encrypted at rest and decrypted into the
returned dataclasses (where ``repr`` leaves them out, so a logged object shows no secret).
Absent team or enterprise ids are stored as ``''`` and returned as ``None``.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import InstallationRow, UserTokenRow, table_of
from slackbridge.store.repositories._base import Repository, as_tuple, dialect_insert
from slackbridge.store.repositories.refresh_lock import RefreshLock, hold_refresh_lock

__all__ = [
    "Installation",
    "InstallationSpec",
    "InstallationStatus",
    "InstallationsRepository",
    "RefreshLock",
    "SaveResult",
    "UserToken",
    "UserTokenSpec",
]

InstallationStatus = Literal["active", "disconnected", "uninstalled", "removed"]

_I = table_of(InstallationRow)
_U = table_of(UserTokenRow)
_I_SECRETS = ("bot_token", "bot_refresh_token", "incoming_webhook_url")
_U_SECRETS = ("token", "refresh_token")


@dataclass(frozen=True)
class UserTokenSpec:
    """A user token from an OAuth exchange (``authed_user``) or a refresh."""

    user_id: str
    token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    scopes: Sequence[str] = ()


@dataclass(frozen=True)
class InstallationSpec:
    """Everything an ``oauth.v2.access`` answer tells about one installation."""

    app_ref: int
    team_id: str | None
    team_name: str | None = None
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    is_enterprise_install: bool = False
    bot_token: str | None = field(default=None, repr=False)
    bot_refresh_token: str | None = field(default=None, repr=False)
    bot_token_expires_at: datetime | None = None
    bot_user_id: str | None = None
    bot_id: str | None = None
    bot_scopes: Sequence[str] = ()
    installer_user_id: str | None = None
    incoming_webhook_url: str | None = field(default=None, repr=False)
    incoming_webhook_channel: str | None = None
    incoming_webhook_channel_id: str | None = None
    incoming_webhook_configuration_url: str | None = None
    product_ref: str | None = None
    user_token: UserTokenSpec | None = None


@dataclass(frozen=True)
class Installation:
    """A stored installation with its secrets decrypted."""

    id: int
    app_ref: int
    team_id: str | None
    team_name: str | None
    enterprise_id: str | None
    enterprise_name: str | None
    is_enterprise_install: bool
    bot_token: str | None = field(repr=False)
    bot_refresh_token: str | None = field(repr=False)
    bot_token_expires_at: datetime | None
    bot_user_id: str | None
    bot_id: str | None
    bot_scopes: tuple[str, ...]
    installer_user_id: str | None
    incoming_webhook_url: str | None = field(repr=False)
    incoming_webhook_channel: str | None
    incoming_webhook_channel_id: str | None
    incoming_webhook_configuration_url: str | None
    product_ref: str | None
    status: InstallationStatus
    last_error: str | None
    installed_at: datetime
    updated_at: datetime

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class UserToken:
    """A stored user token with its secrets decrypted."""

    id: int
    installation_id: int
    user_id: str
    token: str | None = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    scopes: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SaveResult:
    """The saved installation, and whether it is new (``False``: a reinstall updated it)."""

    installation: Installation
    created: bool


class InstallationsRepository(Repository):
    """Save, find and retire installations; hold user tokens; serialize token refreshes."""

    # -- mapping -------------------------------------------------------------------------------

    def _to_installation(self, row: RowMapping) -> Installation:
        rid = int(row["id"])
        secrets = {
            name: self._open("installations", f"{name}_enc", rid, row[f"{name}_enc"])
            for name in _I_SECRETS
        }
        return Installation(
            id=rid,
            app_ref=int(row["app_ref"]),
            team_id=row["team_id"] or None,
            team_name=row["team_name"],
            enterprise_id=row["enterprise_id"] or None,
            enterprise_name=row["enterprise_name"],
            is_enterprise_install=bool(row["is_enterprise_install"]),
            bot_token_expires_at=row["bot_token_expires_at"],
            bot_user_id=row["bot_user_id"],
            bot_id=row["bot_id"],
            bot_scopes=as_tuple(row["bot_scopes"]),
            installer_user_id=row["installer_user_id"],
            incoming_webhook_channel=row["incoming_webhook_channel"],
            incoming_webhook_channel_id=row["incoming_webhook_channel_id"],
            incoming_webhook_configuration_url=row["incoming_webhook_configuration_url"],
            product_ref=row["product_ref"],
            status=row["status"],
            last_error=row["last_error"],
            installed_at=row["installed_at"],
            updated_at=row["updated_at"],
            **secrets,
        )

    def _to_user_token(self, row: RowMapping) -> UserToken:
        rid = int(row["id"])
        return UserToken(
            id=rid,
            installation_id=int(row["installation_id"]),
            user_id=row["user_id"],
            token=self._open("user_tokens", "token_enc", rid, row["token_enc"]),
            refresh_token=self._open(
                "user_tokens", "refresh_token_enc", rid, row["refresh_token_enc"]
            ),
            expires_at=row["expires_at"],
            scopes=as_tuple(row["scopes"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    # -- writes --------------------------------------------------------------------------------

    async def save(
        self, spec: InstallationSpec, *, session: AsyncSession | None = None
    ) -> SaveResult:
        """Store an installation, or update it on reinstall (same app, enterprise and team).

        A reinstall replaces the tokens, makes the installation ``active`` again and keeps the
        earlier ``product_ref`` when the new one is absent. A user token in ``spec`` is saved too,
        all in one transaction.
        """
        now = self._clock()
        key = {
            "app_ref": spec.app_ref,
            "enterprise_id": spec.enterprise_id or "",
            "team_id": spec.team_id or "",
        }
        values: dict[str, Any] = {
            "team_name": spec.team_name,
            "enterprise_name": spec.enterprise_name,
            "is_enterprise_install": spec.is_enterprise_install,
            "bot_token_expires_at": spec.bot_token_expires_at,
            "bot_user_id": spec.bot_user_id,
            "bot_id": spec.bot_id,
            "bot_scopes": list(spec.bot_scopes),
            "installer_user_id": spec.installer_user_id,
            "incoming_webhook_channel": spec.incoming_webhook_channel,
            "incoming_webhook_channel_id": spec.incoming_webhook_channel_id,
            "incoming_webhook_configuration_url": spec.incoming_webhook_configuration_url,
            "status": "active",
            "last_error": None,
            "updated_at": now,
        }
        insert = dialect_insert(self._db, _I).values(
            **key, **values, product_ref=spec.product_ref, installed_at=now
        )
        upsert = insert.on_conflict_do_update(
            index_elements=list(key),
            set_={
                **values,
                "product_ref": func.coalesce(insert.excluded.product_ref, _I.c.product_ref),
                "installed_at": now,
            },
        ).returning(_I.c.id)
        async with self._tx(session) as tx:
            existing = (
                await tx.execute(select(_I.c.id).where(*(_I.c[k] == v for k, v in key.items())))
            ).scalar_one_or_none()
            rid = int((await tx.execute(upsert)).scalar_one())
            sealed = {
                f"{name}_enc": self._seal("installations", f"{name}_enc", rid, getattr(spec, name))
                for name in _I_SECRETS
            }
            await tx.execute(update(_I).where(_I.c.id == rid).values(**sealed))
            if spec.user_token is not None:
                await self.save_user_token(rid, spec.user_token, session=tx)
            row = (await tx.execute(select(_I).where(_I.c.id == rid))).mappings().one()
        return SaveResult(installation=self._to_installation(row), created=existing is None)

    async def save_user_token(
        self, installation_id: int, spec: UserTokenSpec, *, session: AsyncSession | None = None
    ) -> UserToken:
        """Store (or replace) the token one user granted in an installation."""
        now = self._clock()
        values = {"expires_at": spec.expires_at, "scopes": list(spec.scopes), "updated_at": now}
        stmt = (
            dialect_insert(self._db, _U)
            .values(installation_id=installation_id, user_id=spec.user_id, created_at=now, **values)
            .on_conflict_do_update(index_elements=["installation_id", "user_id"], set_=values)
            .returning(_U.c.id)
        )
        async with self._tx(session) as tx:
            rid = int((await tx.execute(stmt)).scalar_one())
            await tx.execute(
                update(_U)
                .where(_U.c.id == rid)
                .values(
                    token_enc=self._seal("user_tokens", "token_enc", rid, spec.token),
                    refresh_token_enc=self._seal(
                        "user_tokens", "refresh_token_enc", rid, spec.refresh_token
                    ),
                )
            )
            row = (await tx.execute(select(_U).where(_U.c.id == rid))).mappings().one()
        return self._to_user_token(row)

    async def set_status(
        self,
        installation_id: int,
        status: InstallationStatus,
        *,
        last_error: str | None = None,
        session: AsyncSession | None = None,
    ) -> bool:
        """Change the status (``disconnected`` after a dead token, ``active`` again, …)."""
        stmt = (
            update(_I)
            .where(_I.c.id == installation_id)
            .values(status=status, last_error=last_error, updated_at=self._clock())
        )
        async with self._tx(session) as tx:
            result = await tx.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def forget_tokens(
        self,
        installation_id: int,
        *,
        bot: bool = True,
        user_ids: Sequence[str] | None = None,
        session: AsyncSession | None = None,
    ) -> int:
        """Delete tokens: the bot's (with its refresh token and webhook URL) when ``bot``, and
        the given users' (every user's when ``user_ids`` is None). Returns user tokens deleted."""
        async with self._tx(session) as tx:
            if bot:
                await tx.execute(
                    update(_I)
                    .where(_I.c.id == installation_id)
                    .values(
                        bot_token_enc=None,
                        bot_refresh_token_enc=None,
                        bot_token_expires_at=None,
                        incoming_webhook_url_enc=None,
                        updated_at=self._clock(),
                    )
                )
            stmt = delete(_U).where(_U.c.installation_id == installation_id)
            if user_ids is not None:
                stmt = stmt.where(_U.c.user_id.in_(list(user_ids)))
            result = await tx.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def retire(
        self,
        installation_id: int,
        status: Literal["uninstalled", "removed"],
        *,
        reason: str | None = None,
        session: AsyncSession | None = None,
    ) -> bool:
        """Delete every token of the installation and mark it uninstalled or removed."""
        async with self._tx(session) as tx:
            await self.forget_tokens(installation_id, session=tx)
            return await self.set_status(installation_id, status, last_error=reason, session=tx)

    # -- reads ---------------------------------------------------------------------------------

    async def get(
        self, installation_id: int, *, session: AsyncSession | None = None
    ) -> Installation | None:
        rows = await self._select([_I.c.id == installation_id], session)
        return rows[0] if rows else None

    async def find(
        self,
        app_ref: int,
        *,
        team_id: str | None,
        enterprise_id: str | None = None,
        is_enterprise_install: bool = False,
        session: AsyncSession | None = None,
    ) -> Installation | None:
        """The installation of an app for a team (or, for org-wide installs, an enterprise).

        ``enterprise_id=None`` matches any enterprise: Slack's team ids are unique on their own.
        """
        conditions = [_I.c.app_ref == app_ref]
        if is_enterprise_install:
            conditions += [_I.c.enterprise_id == (enterprise_id or ""), _I.c.team_id == ""]
        else:
            conditions.append(_I.c.team_id == (team_id or ""))
            if enterprise_id is not None:
                conditions.append(_I.c.enterprise_id == enterprise_id)
        rows = await self._select(conditions, session)
        return rows[0] if rows else None

    async def list(
        self,
        *,
        app_ref: int | None = None,
        team_id: str | None = None,
        status: InstallationStatus | None = None,
        session: AsyncSession | None = None,
    ) -> builtins.list[Installation]:
        """Installations in id order, optionally narrowed by app, team and status."""
        conditions: builtins.list[ColumnElement[bool]] = []
        if app_ref is not None:
            conditions.append(_I.c.app_ref == app_ref)
        if team_id is not None:
            conditions.append(_I.c.team_id == team_id)
        if status is not None:
            conditions.append(_I.c.status == status)
        return await self._select(conditions, session)

    async def expiring_before(
        self, moment: datetime, *, session: AsyncSession | None = None
    ) -> builtins.list[Installation]:
        """Active installations whose bot token expires before ``moment`` (to refresh them)."""
        return await self._select(
            [
                _I.c.status == "active",
                _I.c.bot_token_expires_at.is_not(None),
                _I.c.bot_token_expires_at < moment,
            ],
            session,
        )

    async def get_user_token(
        self, installation_id: int, user_id: str, *, session: AsyncSession | None = None
    ) -> UserToken | None:
        stmt = select(_U).where(_U.c.installation_id == installation_id, _U.c.user_id == user_id)
        async with self._read(session) as s:
            row = (await s.execute(stmt)).mappings().first()
        return None if row is None else self._to_user_token(row)

    async def list_user_tokens(
        self, installation_id: int, *, session: AsyncSession | None = None
    ) -> builtins.list[UserToken]:
        stmt = select(_U).where(_U.c.installation_id == installation_id).order_by(_U.c.id)
        async with self._read(session) as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [self._to_user_token(r) for r in rows]

    async def user_tokens_expiring_before(
        self, moment: datetime, *, session: AsyncSession | None = None
    ) -> builtins.list[UserToken]:
        """User tokens (of active installations) that expire before ``moment``."""
        stmt = (
            select(_U)
            .join(_I, _I.c.id == _U.c.installation_id)
            .where(_I.c.status == "active", _U.c.expires_at.is_not(None), _U.c.expires_at < moment)
            .order_by(_U.c.id)
        )
        async with self._read(session) as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [self._to_user_token(r) for r in rows]

    async def _select(
        self, conditions: Sequence[ColumnElement[bool]], session: AsyncSession | None
    ) -> builtins.list[Installation]:
        async with self._read(session) as s:
            rows = (await s.execute(select(_I).where(*conditions).order_by(_I.c.id))).mappings()
            return [self._to_installation(r) for r in rows.all()]

    # -- token refresh -------------------------------------------------------------------------

    @asynccontextmanager
    async def lock_for_refresh(self, installation_id: int) -> AsyncIterator[RefreshLock]:
        """Hold the installation's token-refresh lock (one holder at a time, even across
        processes on PostgreSQL); see :mod:`.refresh_lock` for the guarantees per engine.

        Raises :class:`~slackbridge.store.errors.NotFoundError` for an unknown installation.
        """
        async with hold_refresh_lock(self, self._db, installation_id) as lock:
            yield lock
