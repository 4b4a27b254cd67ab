"""Product webhook endpoints (their signing secrets are encrypted at rest)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import WebhookEndpointRow, table_of
from slackbridge.store.repositories._base import Repository, as_tuple, dialect_insert

__all__ = ["EndpointSpec", "EndpointsRepository", "WebhookEndpoint"]

_T = table_of(WebhookEndpointRow)


@dataclass(frozen=True)
class EndpointSpec:
    """An endpoint as configured; empty ``event_types`` means every type except slack.event."""

    url: str
    secret: str | None = field(default=None, repr=False)
    event_types: Sequence[str] = ()
    synchronous: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class WebhookEndpoint:
    id: int
    url: str
    secret: str | None = field(repr=False)
    event_types: tuple[str, ...]
    synchronous: bool
    enabled: bool


class EndpointsRepository(Repository):
    """Store and list webhook endpoints."""

    def _to_endpoint(self, row: RowMapping) -> WebhookEndpoint:
        rid = int(row["id"])
        return WebhookEndpoint(
            id=rid,
            url=row["url"],
            secret=self._open("webhook_endpoints", "secret_enc", rid, row["secret_enc"]),
            event_types=as_tuple(row["event_types"]),
            synchronous=bool(row["synchronous"]),
            enabled=bool(row["enabled"]),
        )

    async def upsert(
        self, spec: EndpointSpec, *, session: AsyncSession | None = None
    ) -> WebhookEndpoint:
        """Create the endpoint for ``spec.url`` or replace its settings and secret."""
        now = self._clock()
        values = {
            "event_types": list(spec.event_types),
            "synchronous": spec.synchronous,
            "enabled": spec.enabled,
            "updated_at": now,
        }
        stmt = (
            dialect_insert(self._db, _T)
            .values(url=spec.url, created_at=now, **values)
            .on_conflict_do_update(index_elements=["url"], set_=values)
            .returning(_T.c.id)
        )
        async with self._tx(session) as tx:
            rid = int((await tx.execute(stmt)).scalar_one())
            sealed = self._seal("webhook_endpoints", "secret_enc", rid, spec.secret)
            row = (
                (
                    await tx.execute(
                        update(_T).where(_T.c.id == rid).values(secret_enc=sealed).returning(*_T.c)
                    )
                )
                .mappings()
                .one()
            )
        return self._to_endpoint(row)

    async def sync(self, specs: Sequence[EndpointSpec]) -> builtins.list[WebhookEndpoint]:
        """Make the stored endpoints match configuration: upsert ``specs``, disable the rest
        (disabled rather than deleted, so that their delivery history stays)."""
        async with self._db.transaction() as tx:
            endpoints = [await self.upsert(spec, session=tx) for spec in specs]
            keep = [e.id for e in endpoints]
            await tx.execute(
                update(_T)
                .where(_T.c.id.not_in(keep) if keep else _T.c.id.is_not(None))
                .values(enabled=False, updated_at=self._clock())
            )
        return endpoints

    async def get(
        self, endpoint_id: int, *, session: AsyncSession | None = None
    ) -> WebhookEndpoint | None:
        async with self._read(session) as s:
            row = (await s.execute(select(_T).where(_T.c.id == endpoint_id))).mappings().first()
        return None if row is None else self._to_endpoint(row)

    async def list(
        self, *, enabled_only: bool = False, session: AsyncSession | None = None
    ) -> builtins.list[WebhookEndpoint]:
        stmt = select(_T).order_by(_T.c.id)
        if enabled_only:
            stmt = stmt.where(_T.c.enabled.is_(True))
        async with self._read(session) as s:
            rows = (await s.execute(stmt)).mappings().all()
        return [self._to_endpoint(r) for r in rows]

    async def set_enabled(
        self, endpoint_id: int, enabled: bool, *, session: AsyncSession | None = None
    ) -> bool:
        stmt = (
            update(_T)
            .where(_T.c.id == endpoint_id)
            .values(enabled=enabled, updated_at=self._clock())
        )
        async with self._tx(session) as tx:
            result = await tx.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
