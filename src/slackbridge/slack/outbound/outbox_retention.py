"""Settled outbox rows don't stay forever.

Sent and failed operations are kept for ``SLACKBRIDGE_RETENTION_DAYS`` (7 by default) after they
were created, for ``GET /messages/{id}`` and Idempotency-Key replays, then deleted; rows still
queued are never touched. An upload's bytes go sooner: the update that settles an upload also
drops them, and the row keeps only the file's name and size (see :func:`without_file_content`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slackbridge.store.elector import PeriodicSingleton
from slackbridge.store.repositories.outbox import OutboxMessage, OutboxRepository

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway

__all__ = ["OutboxRetention", "elected_outbox_retention", "purge_outbox", "without_file_content"]

_log = logging.getLogger("slackbridge.sender")
_EVERY_SECONDS = 3600.0


async def purge_outbox(gateway: Gateway, *, now: datetime | None = None) -> int:
    """Delete settled outbox rows created more than the retention ago; returns how many."""
    before = (now or datetime.now(UTC)) - timedelta(days=gateway.settings.retention_days)
    return await OutboxRepository(gateway.db, gateway.keyring).purge(older_than=before)


def without_file_content(row: OutboxMessage) -> dict[str, Any] | None:
    """An upload's request without its bytes (its name, size and digest stay), to store when
    it is settled; None when ``row`` carries no bytes."""
    spec = row.payload.get("file")
    if row.method != "files.upload" or not isinstance(spec, dict) or "content_b64" not in spec:
        return None
    kept = {k: v for k, v in spec.items() if k != "content_b64"}
    kept["size"] = len(spec["content_b64"]) * 3 // 4 - str(spec["content_b64"]).count("=")
    return {**row.payload, "file": kept}


class OutboxRetention:
    """Purges once shortly after start-up, then every hour (a supervised gateway worker)."""

    name = "outbox-retention"

    def __init__(self, gateway: Gateway, *, every: float = _EVERY_SECONDS) -> None:
        self._gateway = gateway
        self._every = every

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            deleted = await purge_outbox(self._gateway)
            if deleted:
                _log.info("retention: deleted %d settled outbox rows", deleted)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)


def elected_outbox_retention(gateway: Gateway) -> PeriodicSingleton:
    """Outbox retention for gateways sharing a database: one of them purges, once per period
    (``SLACKBRIDGE_RETENTION_EVERY_SECONDS``, an hour)."""

    async def purge() -> None:
        deleted = await purge_outbox(gateway)
        _log.info("retention: deleted %d settled outbox rows", deleted)

    return PeriodicSingleton(
        gateway.elector,
        "outbox-retention",
        gateway.settings.retention_every_seconds,
        purge,
    )
