"""Several gateways on one database: the gateway part that connects them.

A gateway part (``on_startup``, ``workers``, ``readiness``; see :mod:`slackbridge.runtime`):

* on PostgreSQL, wake-ups travel between the gateways (:mod:`slackbridge.store.wakeups_pg`):
  a queue's rows committed by one gateway wake every gateway's worker for that queue, not only
  its own; while the listening connection is down, workers poll as before;
* :func:`elector` is the process's :class:`~slackbridge.store.elector.Elector`, through which
  retention, Socket Mode connections (a bounded number per app across the cluster) and any other
  singleton (the bridge's catch-up: ``async with singleton(gateway, "catch-up", stop)``, or
  :class:`~slackbridge.store.elector.SingletonWorker`) have one holder at a time;
* ``/readyz`` shows, under ``cluster``, the leases this process holds (with their fencing
  tokens), whether wake-ups are connected, and how Slack's budgets are kept.

On SQLite (one process) leases are held in memory at once and wake-ups stay in the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import text

from slackbridge.runtime import Gateway, Worker
from slackbridge.store.elector import Held
from slackbridge.store.wakeups_pg import PgWakeups, channel_name, dsn_of

__all__ = ["AUTOVACUUM_OFF", "on_startup", "readiness", "singleton", "workers"]

_log = logging.getLogger("slackbridge.cluster")


def _pg_wakeups(gateway: Gateway) -> PgWakeups | None:
    """The gateway's LISTEN/NOTIFY wake-ups, when :func:`on_startup` installed them."""
    return gateway.wakeups if isinstance(gateway.wakeups, PgWakeups) else None


def singleton(
    gateway: Gateway, name: str, stop: asyncio.Event, *, slots: int = 1
) -> contextlib.AbstractAsyncContextManager[Held | None]:
    """``async with singleton(gateway, "catch-up", stop) as held:``: the block runs while this
    gateway holds ``name`` (None when ``stop`` came first); stop acting when ``held.lost`` is
    set. For a whole worker, wrap it: ``SingletonWorker(gateway.elector, worker)``."""
    return gateway.elector.hold(name, stop, slots=slots)


AUTOVACUUM_OFF = (
    "PostgreSQL runs with autovacuum off: every settled queue row leaves dead versions in the "
    "queues' indexes, and claims and deliveries slow down as they pile up; turn autovacuum on "
    "(PostgreSQL's default) or VACUUM slackbridge's tables regularly"
)


async def on_startup(gateway: Gateway) -> None:
    """Gateway part hook: on PostgreSQL, the gateway's wake-ups become LISTEN/NOTIFY ones, so a
    queue's rows committed here wake that queue's worker in every gateway; and a server running
    without autovacuum is warned about (the queues rely on it: see :data:`AUTOVACUUM_OFF`)."""
    db = gateway.db
    if not db.is_postgres:
        return
    gateway.wakeups = PgWakeups(
        dsn_of(db.url), channel=channel_name(db.schema), origin=gateway.instance_id
    )
    async with db.session() as session:
        setting = (await session.execute(text("SELECT current_setting('autovacuum')"))).scalar()
    if setting != "on":
        _log.warning(AUTOVACUUM_OFF)


class _WakeupsWorker:
    """Keeps the LISTEN connection (reconnecting with backoff) while the gateway runs."""

    name = "cluster-wakeups"

    def __init__(self, gateway: Gateway, wakeups: PgWakeups) -> None:
        self._gateway = gateway
        self._wakeups = wakeups

    async def run(self, stop: asyncio.Event) -> None:
        await self._wakeups.start()
        try:
            await stop.wait()
        finally:
            await self._wakeups.close()


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: the wake-ups connection (PostgreSQL)."""
    wakeups = _pg_wakeups(gateway)
    return [] if wakeups is None else [_WakeupsWorker(gateway, wakeups)]


def readiness(gateway: Gateway) -> dict[str, dict[str, Any]]:
    """Gateway part hook for ``/readyz``: what this process holds in the cluster."""
    held = gateway.elector.held()
    wakeups = _pg_wakeups(gateway)
    shared = gateway.db.is_postgres
    detail = ", ".join(held) if held else "holds no singleton"
    return {
        "cluster": {
            "ok": True,  # holding nothing is normal: another gateway does
            "detail": detail,
            "instance": gateway.instance_id,
            "leases": [{"name": name, "fence": fence} for name, fence in held.items()],
            "wakeups": (
                "in process"
                if wakeups is None
                else ("listening" if wakeups.connected else "polling (reconnecting)")
            ),
            "rate_limits": "shared in PostgreSQL" if shared else "this process",
        }
    }
