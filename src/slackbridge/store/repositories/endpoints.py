"""Product webhook endpoints: their URLs and signing secrets are encrypted at rest.

A URL is stored like a secret (it may carry a password or a token): ``url_enc`` holds it
encrypted, ``url_key`` a keyed digest of it that keeps each URL stored once. Endpoints are few,
so an URL is looked up by decrypting them all, which also finds rows whose digest was made
under an older key (``slackbridge secrets rotate``) or that still hold a plaintext URL from
before the column was encrypted (:meth:`EndpointsRepository.seal_plaintext_urls` encrypts those).

An endpoint signs with its current secret and, while a rotation overlaps, with each previous
one (``webhook_endpoint_secrets``) until that is retired.
"""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from slackbridge.redact import redact_url
from slackbridge.store.models import WebhookEndpointRow, WebhookSecretRow, table_of
from slackbridge.store.repositories._base import Repository, as_tuple

__all__ = ["EndpointSpec", "EndpointsRepository", "PreviousSecret", "WebhookEndpoint"]

_T = table_of(WebhookEndpointRow)
_S = table_of(WebhookSecretRow)
_TABLE = "webhook_endpoints"
_DIGEST_PURPOSE = "webhook_endpoints.url_key"
# Any constant: the PostgreSQL advisory lock that makes concurrent start-ups store an URL once.
_SYNC_LOCK_KEY = 0x5B_B1_D6_E1


@dataclass(frozen=True)
class EndpointSpec:
    """An endpoint as configured; empty ``event_types`` means every type except slack.event."""

    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    event_types: Sequence[str] = ()
    synchronous: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class PreviousSecret:
    """A secret an endpoint still signs with, replaced by a newer one at ``replaced_at``."""

    id: int
    secret: str = field(repr=False)
    replaced_at: datetime


@dataclass(frozen=True)
class WebhookEndpoint:
    id: int
    url: str = field(repr=False)
    secret: str | None = field(repr=False)
    event_types: tuple[str, ...]
    synchronous: bool
    enabled: bool
    previous_secrets: tuple[PreviousSecret, ...] = ()

    @property
    def shown_url(self) -> str:
        """The URL without its credentials and query, for logs, pages and the CLI."""
        return redact_url(self.url)

    @property
    def signing_secrets(self) -> tuple[str, ...]:
        """Every secret webhooks are signed with: the current one first."""
        current = (self.secret,) if self.secret else ()
        return current + tuple(p.secret for p in self.previous_secrets)


def _truncate_wal(path: str) -> None:
    """Empty the write-ahead log (its old frames may hold values just overwritten)."""
    conn = sqlite3.connect(path, timeout=5.0)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()


class EndpointsRepository(Repository):
    """Store and list webhook endpoints and their signing secrets."""

    def _url_of(self, row: RowMapping) -> str:
        if row["url_enc"] is None:
            return str(row["url_key"])  # not encrypted yet (stored before 0003)
        url = self._open(_TABLE, "url_enc", int(row["id"]), row["url_enc"])
        return url or ""

    def _to_endpoint(self, row: RowMapping, previous: Sequence[RowMapping] = ()) -> WebhookEndpoint:
        rid = int(row["id"])
        return WebhookEndpoint(
            id=rid,
            url=self._url_of(row),
            secret=self._open(_TABLE, "secret_enc", rid, row["secret_enc"]),
            event_types=as_tuple(row["event_types"]),
            synchronous=bool(row["synchronous"]),
            enabled=bool(row["enabled"]),
            previous_secrets=tuple(self._to_previous(p) for p in previous),
        )

    def _to_previous(self, row: RowMapping) -> PreviousSecret:
        rid = int(row["id"])
        secret = self._open("webhook_endpoint_secrets", "secret_enc", rid, row["secret_enc"])
        return PreviousSecret(id=rid, secret=secret or "", replaced_at=row["replaced_at"])

    async def _load(
        self, s: AsyncSession, *, where: ColumnElement[bool] | None = None
    ) -> builtins.list[WebhookEndpoint]:
        stmt = select(_T).order_by(_T.c.id)
        if where is not None:
            stmt = stmt.where(where)
        rows = (await s.execute(stmt)).mappings().all()
        if not rows:
            return []
        ids = [int(r["id"]) for r in rows]
        previous: dict[int, builtins.list[RowMapping]] = {}
        found = await s.execute(
            select(_S).where(_S.c.endpoint_id.in_(ids)).order_by(_S.c.replaced_at.desc(), _S.c.id)
        )
        for p in found.mappings().all():
            previous.setdefault(int(p["endpoint_id"]), []).append(p)
        return [self._to_endpoint(r, previous.get(int(r["id"]), ())) for r in rows]

    async def _find_id(self, tx: AsyncSession, url: str) -> int | None:
        rows = (await tx.execute(select(_T.c.id, _T.c.url_key, _T.c.url_enc))).mappings().all()
        for row in rows:
            if self._url_of(row) == url:
                return int(row["id"])
        return None

    async def upsert(
        self, spec: EndpointSpec, *, session: AsyncSession | None = None
    ) -> WebhookEndpoint:
        """Create the endpoint for ``spec.url`` or replace its settings and secret.

        A new secret replacing another one does not end it: the old one keeps signing (a
        previous secret) until :meth:`retire_secrets`, so that receivers can switch over.
        """
        now = self._clock()
        values = {
            "event_types": list(spec.event_types),
            "synchronous": spec.synchronous,
            "enabled": spec.enabled,
            "updated_at": now,
        }
        async with self._tx(session) as tx:
            if self._db.is_postgres:
                await tx.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SYNC_LOCK_KEY})
            rid = await self._find_id(tx, spec.url)
            if rid is None:
                digest = self._keyring.digest(spec.url, _DIGEST_PURPOSE)
                inserted = await tx.execute(
                    insert(_T).values(url_key=digest, created_at=now, **values).returning(_T.c.id)
                )
                rid = int(inserted.scalar_one())
            else:
                await tx.execute(update(_T).where(_T.c.id == rid).values(**values))
            await self._seal_url(tx, rid, spec.url)
            if spec.secret is not None:
                await self._set_secret(tx, rid, spec.secret)
            (endpoint,) = await self._load(tx, where=_T.c.id == rid)
        return endpoint

    async def _seal_url(self, tx: AsyncSession, rid: int, url: str) -> None:
        await tx.execute(
            update(_T)
            .where(_T.c.id == rid)
            .values(
                url_key=self._keyring.digest(url, _DIGEST_PURPOSE),
                url_enc=self._seal(_TABLE, "url_enc", rid, url),
            )
        )

    async def _set_secret(self, tx: AsyncSession, rid: int, secret: str) -> None:
        """Make ``secret`` the current one; the one it replaces becomes a previous secret."""
        row = (await tx.execute(select(_T.c.secret_enc).where(_T.c.id == rid))).one()
        current = self._open(_TABLE, "secret_enc", rid, row.secret_enc)
        if current == secret:
            return
        # A secret that comes back (a configuration rolled back) is current again, not twice.
        stored = (await tx.execute(select(_S).where(_S.c.endpoint_id == rid))).mappings().all()
        for previous in stored:
            if self._to_previous(previous).secret == secret:
                await tx.execute(delete(_S).where(_S.c.id == previous["id"]))
        if current:
            await self._add_previous(tx, rid, current)
        sealed = self._seal(_TABLE, "secret_enc", rid, secret)
        await tx.execute(
            update(_T).where(_T.c.id == rid).values(secret_enc=sealed, updated_at=self._clock())
        )

    async def _add_previous(self, tx: AsyncSession, endpoint_id: int, secret: str) -> None:
        inserted = await tx.execute(
            insert(_S)
            .values(endpoint_id=endpoint_id, secret_enc=b"", replaced_at=self._clock())
            .returning(_S.c.id)
        )
        sid = int(inserted.scalar_one())
        sealed = self._seal("webhook_endpoint_secrets", "secret_enc", sid, secret)
        await tx.execute(update(_S).where(_S.c.id == sid).values(secret_enc=sealed))

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

    async def rotate_secret(
        self, endpoint_id: int, secret: str, *, session: AsyncSession | None = None
    ) -> WebhookEndpoint | None:
        """Make ``secret`` the endpoint's current secret, keeping the one it replaces signing;
        None when there is no such endpoint."""
        async with self._tx(session) as tx:
            found = await self._load(tx, where=_T.c.id == endpoint_id)
            if not found:
                return None
            await self._set_secret(tx, endpoint_id, secret)
            (endpoint,) = await self._load(tx, where=_T.c.id == endpoint_id)
        return endpoint

    async def retire_secrets(
        self,
        endpoint_id: int,
        secret_id: int | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> int:
        """Stop signing with the endpoint's previous secrets (only ``secret_id`` if given);
        how many were retired."""
        stmt = delete(_S).where(_S.c.endpoint_id == endpoint_id)
        if secret_id is not None:
            stmt = stmt.where(_S.c.id == secret_id)
        async with self._tx(session) as tx:
            result = await tx.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def seal_plaintext_urls(self) -> int:
        """Encrypt the URLs stored in plaintext before 0003; how many there were.

        On SQLite the old values are overwritten on disk (``secure_delete``), and the
        write-ahead log that held them is emptied afterwards.
        """
        plaintext = select(_T.c.id, _T.c.url_key).where(_T.c.url_enc.is_(None))
        async with self._db.session() as s:
            if not (await s.execute(plaintext.limit(1))).first():
                return 0
        async with self._db.transaction() as tx:
            if self._db.is_sqlite:
                await tx.execute(text("PRAGMA secure_delete=ON"))
            rows = (await tx.execute(plaintext)).mappings().all()
            for row in rows:
                await self._seal_url(tx, int(row["id"]), str(row["url_key"]))
        path = self._db.url.database
        if self._db.is_sqlite and path and path != ":memory:":
            await asyncio.to_thread(_truncate_wal, path)
        return len(rows)

    async def get(
        self, endpoint_id: int, *, session: AsyncSession | None = None
    ) -> WebhookEndpoint | None:
        async with self._read(session) as s:
            found = await self._load(s, where=_T.c.id == endpoint_id)
        return found[0] if found else None

    async def list(
        self, *, enabled_only: bool = False, session: AsyncSession | None = None
    ) -> builtins.list[WebhookEndpoint]:
        async with self._read(session) as s:
            return await self._load(s, where=_T.c.enabled.is_(True) if enabled_only else None)

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
