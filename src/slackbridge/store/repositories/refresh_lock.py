"""Single-flight token refresh.

Slack's refresh tokens are single use: when two workers refresh the same token at once, the
second gets ``invalid_refresh_token`` and may mark a healthy workspace as dead. So a refresh runs
inside :meth:`InstallationsRepository.lock_for_refresh`, which admits one holder per installation
at a time. The holder reads the installation *under the lock* (a waiter that gets in after a
refresh sees the fresh token and expiry, and need not refresh again), calls Slack, and saves the
new tokens through the lock.

How the lock works, per engine:

* PostgreSQL: a transaction holds ``SELECT … FOR UPDATE`` on the installation row for the whole
  block; the new tokens are written in that transaction and committed when the block ends. This
  serializes refreshes across every process and instance.
* SQLite: an ``asyncio.Lock`` per installation serializes the holders of one process (SQLite is
  the one-process engine). The SQLite write lock is *not* held across the call to Slack, because
  that would stall every other writer (ingress included) for a network round trip; instead each
  save is its own ``BEGIN IMMEDIATE`` transaction that compares the refresh token read under the
  lock with the stored one and raises :class:`~slackbridge.store.errors.RefreshConflict` if
  another process changed it meanwhile, so a stale refresh never overwrites a newer token.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.db import Database
from slackbridge.store.errors import NotFoundError, RefreshConflict
from slackbridge.store.models import InstallationRow, UserTokenRow, table_of

if TYPE_CHECKING:
    from slackbridge.store.repositories.installations import (
        Installation,
        InstallationsRepository,
        UserToken,
    )

__all__ = ["RefreshLock", "hold_refresh_lock"]

_I = table_of(InstallationRow)
_U = table_of(UserTokenRow)

# One asyncio.Lock per (database, installation) per event loop (a lock can't cross loops).
# Deliberately process-wide, not per runtime: every Database object over one SQLite file in a
# process (the server's, a CLI command's, a Bolt app's) must take the same lock, as they would
# take the same row lock on PostgreSQL.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int], asyncio.Lock]]
_LOCKS = weakref.WeakKeyDictionary()


def _local_lock(db: Database, installation_id: int) -> asyncio.Lock:
    per_loop = _LOCKS.setdefault(asyncio.get_running_loop(), {})
    key = (db.url.render_as_string(hide_password=False), installation_id)
    return per_loop.setdefault(key, asyncio.Lock())


class RefreshLock:
    """Held while refreshing one installation's tokens; read and save through it."""

    def __init__(
        self, repo: InstallationsRepository, session: AsyncSession | None, row: RowMapping
    ) -> None:
        self._repo = repo
        self._session = session
        self._bot_refresh_blob: bytes | None = row["bot_refresh_token_enc"]
        self._user_refresh_blobs: dict[str, bytes | None] = {}
        self.installation: Installation = repo._to_installation(row)

    async def user_token(self, user_id: str) -> UserToken | None:
        """A user's token, read under the lock."""
        stmt = select(_U).where(
            _U.c.installation_id == self.installation.id, _U.c.user_id == user_id
        )
        async with self._repo._read(self._session) as s:
            row = (await s.execute(stmt)).mappings().first()
        if row is None:
            return None
        self._user_refresh_blobs[user_id] = row["refresh_token_enc"]
        return self._repo._to_user_token(row)

    async def save_bot_token(
        self, token: str, refresh_token: str | None, expires_at: datetime | None
    ) -> Installation:
        """Store the refreshed bot token; raises RefreshConflict if it changed meanwhile."""
        rid = self.installation.id
        seal = self._repo._seal
        stmt = (
            update(_I)
            .where(_I.c.id == rid, _same(_I.c.bot_refresh_token_enc, self._bot_refresh_blob))
            .values(
                bot_token_enc=seal("installations", "bot_token_enc", rid, token),
                bot_refresh_token_enc=seal(
                    "installations", "bot_refresh_token_enc", rid, refresh_token
                ),
                bot_token_expires_at=expires_at,
                updated_at=self._repo._clock(),
            )
            .returning(*_I.c)
        )
        async with self._repo._tx(self._session) as tx:
            row = (await tx.execute(stmt)).mappings().first()
        if row is None:
            raise RefreshConflict(
                f"installation {rid}: the bot token was refreshed by someone else meanwhile"
            )
        self._bot_refresh_blob = row["bot_refresh_token_enc"]
        self.installation = self._repo._to_installation(row)
        return self.installation

    async def save_user_token(
        self, user_id: str, token: str, refresh_token: str | None, expires_at: datetime | None
    ) -> UserToken:
        """Store a refreshed user token (read it first with :meth:`user_token`)."""
        if user_id not in self._user_refresh_blobs:
            raise RefreshConflict(f"read the token of {user_id} under the lock before saving it")
        rid_stmt = select(_U.c.id).where(
            _U.c.installation_id == self.installation.id, _U.c.user_id == user_id
        )
        async with self._repo._tx(self._session) as tx:
            rid = (await tx.execute(rid_stmt)).scalar_one_or_none()
            row = None
            if rid is not None:
                seal = self._repo._seal
                stmt = (
                    update(_U)
                    .where(
                        _U.c.id == rid,
                        _same(_U.c.refresh_token_enc, self._user_refresh_blobs[user_id]),
                    )
                    .values(
                        token_enc=seal("user_tokens", "token_enc", rid, token),
                        refresh_token_enc=seal(
                            "user_tokens", "refresh_token_enc", rid, refresh_token
                        ),
                        expires_at=expires_at,
                        updated_at=self._repo._clock(),
                    )
                    .returning(*_U.c)
                )
                row = (await tx.execute(stmt)).mappings().first()
        if row is None:
            raise RefreshConflict(
                f"installation {self.installation.id}: the token of {user_id} changed meanwhile"
            )
        self._user_refresh_blobs[user_id] = row["refresh_token_enc"]
        return self._repo._to_user_token(row)


def _same(column: ColumnElement[Any], blob: bytes | None) -> ColumnElement[bool]:
    # Compare-and-set on the encrypted blob read under the lock (the bytes are unique per write).
    return column.is_(None) if blob is None else column == blob


async def _read_row(session: AsyncSession, installation_id: int, *, for_update: bool) -> RowMapping:
    stmt = select(_I).where(_I.c.id == installation_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise NotFoundError(f"no installation with id {installation_id}")
    return row


@asynccontextmanager
async def hold_refresh_lock(
    repo: InstallationsRepository, db: Database, installation_id: int
) -> AsyncIterator[RefreshLock]:
    """The lock behind :meth:`InstallationsRepository.lock_for_refresh`."""
    if db.is_postgres:
        async with db.transaction() as tx:
            row = await _read_row(tx, installation_id, for_update=True)
            yield RefreshLock(repo, tx, row)
        return
    async with _local_lock(db, installation_id):
        async with db.session() as s:
            row = await _read_row(s, installation_id, for_update=False)
        yield RefreshLock(repo, None, row)
