"""Retention: processed inbox rows and delivered webhooks are deleted after a while.

The inbox keeps every request Slack sent, and its unique key is what absorbs Slack's retries;
Slack retries for minutes, not days, so rows that are done can go once they are older than
``retention_days`` (7 by default). Delivered webhooks go after the same time. Dead deliveries and
failed inbox rows are kept until an operator deals with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from slackbridge.runtime import Gateway
from slackbridge.store.elector import PeriodicSingleton
from slackbridge.store.repositories.deliveries import DeliveriesRepository
from slackbridge.store.repositories.inbox import InboxRepository

__all__ = ["RetentionWorker", "elected_retention", "purge_once"]

_log = logging.getLogger("slackbridge.retention")
_EVERY_SECONDS = 3600.0


async def purge_once(gateway: Gateway, *, now: datetime | None = None) -> tuple[int, int]:
    """Delete done inbox rows and delivered webhooks older than the retention; returns how
    many of each."""
    before = (now or datetime.now(UTC)) - timedelta(days=gateway.settings.retention_days)
    rows = await InboxRepository(gateway.db, gateway.keyring).purge(older_than=before)
    sent = await DeliveriesRepository(gateway.db, gateway.keyring).purge(older_than=before)
    return rows, sent


class RetentionWorker:
    """Purges once shortly after start-up, then every hour (a supervised gateway worker)."""

    name = "retention"

    def __init__(self, gateway: Gateway, *, every: float = _EVERY_SECONDS) -> None:
        self._gateway = gateway
        self._every = every

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            rows, sent = await purge_once(self._gateway)
            if rows or sent:
                _log.info("retention: deleted %d inbox rows and %d delivered webhooks", rows, sent)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)


def elected_retention(gateway: Gateway) -> PeriodicSingleton:
    """Retention for gateways sharing a database: one of them purges, once per period
    (``SLACKBRIDGE_RETENTION_EVERY_SECONDS``, an hour)."""

    async def purge() -> None:
        rows, sent = await purge_once(gateway)
        _log.info("retention: deleted %d inbox rows and %d delivered webhooks", rows, sent)

    return PeriodicSingleton(
        gateway.elector,
        "retention",
        gateway.settings.retention_every_seconds,
        purge,
    )
