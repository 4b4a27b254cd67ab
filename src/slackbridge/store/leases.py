"""Leases with fencing tokens: how gateways sharing a database pick one holder for a job.

A lease is a row (``cluster_leases``) naming its holder until ``expires_at``; the holder renews
it well before then, and when the holder dies the lease simply runs out and another process takes
it (within the lease's time to live, ~10 s by default). Every change of holder adds one to the
lease's ``fence``; a holder passes its fence with each write that only the current holder may
make (:meth:`PgLeases.claim_period`), so a holder that was paused past its lease and replaced
can't act on stale belief: its writes no longer match.

Times are the database's (``clock_timestamp()``), so gateways on hosts whose clocks differ still
agree on who holds what.

:class:`LocalLeases` is the same contract for one process (SQLite): held in memory, trivially.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text

from slackbridge.store.db import Database

__all__ = ["Lease", "Leases", "LocalLeases", "PeriodClaim", "PgLeases", "leases_for"]


@dataclass(frozen=True)
class Lease:
    """``holder`` holds ``name``; ``fence`` grows by one whenever the holder changes."""

    name: str
    holder: str
    fence: int


@dataclass(frozen=True)
class PeriodClaim:
    """The answer of :meth:`Leases.claim_period`: the period this call claimed (None when it was
    already claimed, or the lease is no longer ours) and the seconds until the next one begins."""

    period: int | None
    next_in: float


class Leases(Protocol):
    """Where leases are kept (see the module docstring)."""

    async def acquire(self, name: str, holder: str, ttl: float) -> Lease | None:
        """Take ``name`` for ``ttl`` seconds if it is free, expired or already ours."""

    async def renew(self, lease: Lease, ttl: float) -> bool:
        """Extend our lease; False when it is no longer ours (its fence moved on)."""

    async def release(self, lease: Lease) -> None:
        """Give the lease up at once (another process may take it right away)."""

    async def claim_period(self, lease: Lease, job: str, every: float) -> PeriodClaim:
        """Claim the current period of the periodic ``job`` (every ``every`` seconds), fenced
        by ``lease``: at most one claim per period, whoever asks."""

    async def holders(self, prefix: str) -> dict[str, str]:
        """The live leases whose names start with ``prefix``: name → holder."""


_ACQUIRE = text(
    """
    INSERT INTO cluster_leases AS l (name, holder, fence, expires_at, acquired_at)
    VALUES (:name, :holder, 1, clock_timestamp() + make_interval(secs => :ttl), clock_timestamp())
    ON CONFLICT (name) DO UPDATE SET
        holder = EXCLUDED.holder,
        fence = l.fence + CASE WHEN l.holder = EXCLUDED.holder THEN 0 ELSE 1 END,
        expires_at = EXCLUDED.expires_at,
        acquired_at = CASE WHEN l.holder = EXCLUDED.holder
                           THEN l.acquired_at ELSE EXCLUDED.acquired_at END
    WHERE l.holder = EXCLUDED.holder OR l.expires_at < clock_timestamp()
    RETURNING fence
    """
)
_RENEW = text(
    """
    UPDATE cluster_leases SET expires_at = clock_timestamp() + make_interval(secs => :ttl)
    WHERE name = :name AND holder = :holder AND fence = :fence
    RETURNING fence
    """
)
_RELEASE = text(
    """
    UPDATE cluster_leases SET expires_at = to_timestamp(0)
    WHERE name = :name AND holder = :holder AND fence = :fence
    """
)
_CLAIM_PERIOD = text(
    """
    WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t,
                        CAST(:every AS float8) AS every,
                        CAST(:holder AS text) AS holder,
                        CAST(:fence AS bigint) AS fence),
    claimed AS (
        INSERT INTO cluster_runs (name, period, holder, fence, ran_at)
        SELECT CAST(:job AS text), floor(now.t / now.every)::bigint, now.holder, now.fence,
               clock_timestamp()
        FROM now
        WHERE EXISTS (
            SELECT 1 FROM cluster_leases l
            WHERE l.name = CAST(:lease AS text) AND l.holder = now.holder AND l.fence = now.fence
              AND l.expires_at > clock_timestamp()
        )
        ON CONFLICT DO NOTHING
        RETURNING period
    )
    SELECT (SELECT period FROM claimed), (floor(t / every) + 1) * every - t FROM now
    """
)
_FORGET_RUNS = text(
    "DELETE FROM cluster_runs WHERE name = :job AND period < CAST(:period AS bigint) - 1000",
)
_HOLDERS = text(
    """
    SELECT name, holder FROM cluster_leases
    WHERE name LIKE :prefix ESCAPE '\\' AND expires_at > clock_timestamp()
    """
)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PgLeases:
    """Leases in PostgreSQL's ``cluster_leases`` (each call is one short transaction)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def acquire(self, name: str, holder: str, ttl: float) -> Lease | None:
        async with self._db.transaction() as session:
            fence = (
                await session.execute(_ACQUIRE, {"name": name, "holder": holder, "ttl": ttl})
            ).scalar_one_or_none()
        return None if fence is None else Lease(name, holder, int(fence))

    async def renew(self, lease: Lease, ttl: float) -> bool:
        params = {"name": lease.name, "holder": lease.holder, "fence": lease.fence, "ttl": ttl}
        async with self._db.transaction() as session:
            return (await session.execute(_RENEW, params)).scalar_one_or_none() is not None

    async def release(self, lease: Lease) -> None:
        params = {"name": lease.name, "holder": lease.holder, "fence": lease.fence}
        async with self._db.transaction() as session:
            await session.execute(_RELEASE, params)

    async def claim_period(self, lease: Lease, job: str, every: float) -> PeriodClaim:
        params = {
            "job": job,
            "every": every,
            "lease": lease.name,
            "holder": lease.holder,
            "fence": lease.fence,
        }
        async with self._db.transaction() as session:
            period, next_in = (await session.execute(_CLAIM_PERIOD, params)).one()
            if period is not None:
                await session.execute(_FORGET_RUNS, {"job": job, "period": period})
        return PeriodClaim(None if period is None else int(period), max(0.0, float(next_in)))

    async def holders(self, prefix: str) -> dict[str, str]:
        async with self._db.session() as session:
            rows = (await session.execute(_HOLDERS, {"prefix": _like_prefix(prefix)})).all()
        return {str(name): str(holder) for name, holder in rows}


class LocalLeases:
    """Leases for one process (SQLite): the same contract, kept in memory."""

    def __init__(self) -> None:
        self._leases: dict[str, tuple[str, int, float]] = {}
        self._periods: dict[str, int] = {}

    async def acquire(self, name: str, holder: str, ttl: float) -> Lease | None:
        now = time.monotonic()
        current = self._leases.get(name)
        if current is None:
            fence = 1
        elif current[0] == holder:
            fence = current[1]
        elif current[2] < now:
            fence = current[1] + 1
        else:
            return None
        self._leases[name] = (holder, fence, now + ttl)
        return Lease(name, holder, fence)

    async def renew(self, lease: Lease, ttl: float) -> bool:
        current = self._leases.get(lease.name)
        if current is None or current[:2] != (lease.holder, lease.fence):
            return False
        self._leases[lease.name] = (lease.holder, lease.fence, time.monotonic() + ttl)
        return True

    async def release(self, lease: Lease) -> None:
        current = self._leases.get(lease.name)
        if current is not None and current[:2] == (lease.holder, lease.fence):
            self._leases[lease.name] = (lease.holder, lease.fence, 0.0)

    async def claim_period(self, lease: Lease, job: str, every: float) -> PeriodClaim:
        now = time.time()
        period = int(now // every)
        next_in = (period + 1) * every - now
        current = self._leases.get(lease.name)
        held = (
            current is not None
            and current[:2] == (lease.holder, lease.fence)
            and current[2] > time.monotonic()
        )
        if not held or self._periods.get(job, -1) >= period:
            return PeriodClaim(None, next_in)
        self._periods[job] = period
        return PeriodClaim(period, next_in)

    async def holders(self, prefix: str) -> dict[str, str]:
        now = time.monotonic()
        return {
            name: holder
            for name, (holder, _fence, until) in self._leases.items()
            if name.startswith(prefix) and until > now
        }


def leases_for(db: Database) -> Leases:
    """PostgreSQL's shared leases, or in-memory ones for SQLite (one process)."""
    return PgLeases(db) if db.is_postgres else LocalLeases()
