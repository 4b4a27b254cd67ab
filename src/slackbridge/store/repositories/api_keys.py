"""Product API keys: shown once at creation, stored as SHA-256 digests, each with a scope.

A key looks like ``sbk_<prefix>_<secret>``; the prefix identifies it in listings and logs
without revealing it. Its :class:`ApiKeyScope` says what it may do (``read``, ``write``,
``admin``) and where (workspaces by team id, or installations by the product's install ref).
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import ApiKeyRow, table_of
from slackbridge.store.repositories._base import Repository

__all__ = [
    "API_KEY_PREFIX",
    "FULL_SCOPE",
    "PERMISSIONS",
    "ApiKey",
    "ApiKeyScope",
    "ApiKeysRepository",
    "CreatedApiKey",
    "hash_api_key",
    "parse_permissions",
]

API_KEY_PREFIX = "sbk_"
_T = table_of(ApiKeyRow)
# last_used_at is informative; writing it on every request would turn each read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_api_key(key: str) -> str:
    """The stored form of an API key (hex SHA-256)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


#: What a key may be allowed to do; ``admin`` includes ``read`` and ``write``.
PERMISSIONS = ("read", "write", "admin")


def parse_permissions(text: str) -> frozenset[str]:
    """``"read,write"`` as a set; ValueError naming the first unknown word."""
    words = {w.strip().lower() for w in text.split(",") if w.strip()}
    unknown = sorted(words - set(PERMISSIONS))
    if unknown:
        raise ValueError(f"unknown permission {unknown[0]!r} (use {', '.join(PERMISSIONS)})")
    if not words:
        raise ValueError(f"name at least one permission ({', '.join(PERMISSIONS)})")
    return frozenset(words)


@dataclass(frozen=True)
class ApiKeyScope:
    """What a key may do, and where.

    ``team_ids`` and ``product_refs`` together list what the key may touch: a workspace whose
    team id is listed, or one where an installation carries a listed install ref. With both
    empty the key may touch every workspace (what keys made before scopes existed get).
    """

    permissions: frozenset[str] = frozenset({"read", "write"})
    team_ids: tuple[str, ...] = ()
    product_refs: tuple[str, ...] = ()

    @property
    def everywhere(self) -> bool:
        return not self.team_ids and not self.product_refs

    def allows(self, permission: str) -> bool:
        """Whether the key has ``permission`` (``admin`` has them all)."""
        return permission in self.permissions or "admin" in self.permissions

    def covers(self, team_id: str, product_refs: Iterable[str | None] = ()) -> bool:
        """Whether the key may touch ``team_id``, whose installations carry ``product_refs``."""
        if self.everywhere or team_id in self.team_ids:
            return True
        return any(ref is not None and ref in self.product_refs for ref in product_refs)

    def describe_permissions(self) -> str:
        return ",".join(p for p in PERMISSIONS if p in self.permissions)


#: The scope of keys from ``SLACKBRIDGE_API_KEYS``: everything, everywhere.
FULL_SCOPE = ApiKeyScope(permissions=frozenset(PERMISSIONS))


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    scope: ApiKeyScope

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key: ``secret`` is the full key, shown to the user once and never stored."""

    key: ApiKey
    secret: str = field(repr=False)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _to_key(row: RowMapping) -> ApiKey:
    scope = ApiKeyScope(
        permissions=frozenset(p for p in str(row["permissions"]).split(",") if p in PERMISSIONS),
        team_ids=_strings(row["team_ids"]),
        product_refs=_strings(row["product_refs"]),
    )
    return ApiKey(
        id=int(row["id"]),
        name=row["name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        scope=scope,
    )


class ApiKeysRepository(Repository):
    """Create, verify, list and revoke API keys."""

    async def create(
        self,
        name: str,
        scope: ApiKeyScope | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> CreatedApiKey:
        """A new key with ``scope`` (by default ``read`` and ``write`` in every workspace)."""
        scope = scope or ApiKeyScope()
        if not scope.permissions:
            raise ValueError("an API key needs at least one permission")
        prefix = secrets.token_hex(4)
        secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        stmt = (
            _T.insert()
            .values(
                name=name,
                prefix=prefix,
                hash=hash_api_key(secret),
                created_at=self._clock(),
                permissions=scope.describe_permissions(),
                # NULL, not [], for "everywhere": the same as the rows made before scopes.
                team_ids=sorted(set(scope.team_ids)) or None,
                product_refs=sorted(set(scope.product_refs)) or None,
            )
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
