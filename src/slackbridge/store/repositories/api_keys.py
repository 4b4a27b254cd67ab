"""Product API keys: shown once at creation, stored as SHA-256 digests.

A key looks like ``sbk_<prefix>_<secret>``; the prefix identifies it in listings and logs
without revealing it.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import ApiKeyRow, table_of
from slackbridge.store.repositories._base import Repository

__all__ = ["API_KEY_PREFIX", "ApiKey", "ApiKeysRepository", "CreatedApiKey", "hash_api_key"]

API_KEY_PREFIX = "sbk_"
_T = table_of(ApiKeyRow)
# last_used_at is informative; writing it on every request would turn each read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_api_key(key: str) -> str:
    """The stored form of an API key (hex SHA-256)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key: ``secret`` is the full key, shown to the user once and never stored."""

    key: ApiKey
    secret: str = field(repr=False)


def _to_key(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=int(row["id"]),
        name=row["name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


class ApiKeysRepository(Repository):
    """Create, verify, list and revoke API keys."""

    async def create(self, name: str, *, session: AsyncSession | None = None) -> CreatedApiKey:
        prefix = secrets.token_hex(4)
        secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        stmt = (
            _T.insert()
            .values(name=name, prefix=prefix, hash=hash_api_key(secret), created_at=self._clock())
            .returning(*_T.c)
        )
        async with self._tx(session) as tx:
            row = (await tx.execute(stmt)).mappings().one()
        return CreatedApiKey(key=_to_key(row), secret=secret)

    async def verify(self, secret: str, *, session: AsyncSession | None = None) -> ApiKey | None:
        """The active key matching ``secret`` (and note its use), or None."""
        now = self._clock()
        digest = hash_api_key(secret)
        async with self._read(session) as s:
            row = (await s.execute(select(_T).where(_T.c.hash == digest))).mappings().first()
        if row is None or row["revoked_at"] is not None:
            return None
        last = row["last_used_at"]
        if last is None or now - last >= _LAST_USED_RESOLUTION:
            async with self._tx(session) as tx:
                await tx.execute(update(_T).where(_T.c.id == row["id"]).values(last_used_at=now))
            return replace(_to_key(row), last_used_at=now)
        return _to_key(row)

    async def list(
        self, *, include_revoked: bool = False, session: AsyncSession | None = None
    ) -> builtins.list[ApiKey]:
        stmt = select(_T).order_by(_T.c.id)
        if not include_revoked:
            stmt = stmt.where(_T.c.revoked_at.is_(None))
        async with self._read(session) as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [_to_key(r) for r in rows]

    async def revoke(self, prefix: str, *, session: AsyncSession | None = None) -> bool:
        """Revoke the key with this prefix (the ``sbk_`` part may be included); False if none."""
        prefix = prefix.removeprefix(API_KEY_PREFIX).split("_", 1)[0]
        stmt = (
            update(_T)
            .where(_T.c.prefix == prefix, _T.c.revoked_at.is_(None))
            .values(revoked_at=self._clock())
        )
        async with self._tx(session) as tx:
            result = await tx.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
