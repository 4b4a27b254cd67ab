"""Backlog of each queue (inbox, deliveries, outbox): how many rows wait, and for how long.

A slow or absent product never slows Slack's acks; it makes a backlog instead, and this is where
an operator sees it: ``/metrics`` (``slackbridge_queue_depth`` and
``slackbridge_queue_oldest_seconds``, by queue) and ``/readyz`` (a ``queues`` check with each
queue's depth and age; informative: a backlog does not make the gateway unready). The counts
are read at most once a second, however often they are scraped.
"""

from __future__ import annotations

import time

from slackbridge.metrics import QUEUE_DEPTH, QUEUE_OLDEST_SECONDS
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.queue import Backlog
from slackbridge.store.repositories.deliveries import DeliveriesRepository
from slackbridge.store.repositories.inbox import InboxRepository
from slackbridge.store.repositories.outbox import OutboxRepository

__all__ = ["BacklogCache"]

_EVERY = 1.0


class BacklogCache:
    """One process's view of the queues' backlogs, read from the store at most once a second."""

    def __init__(self) -> None:
        self._read: tuple[float, dict[str, Backlog]] | None = None

    async def backlogs(self, db: Database, keyring: Keyring) -> dict[str, Backlog]:
        """Each queue's unfinished rows and the age of its oldest (read at most once a second)."""
        cached = self._read
        now = time.monotonic()
        if cached is not None and now - cached[0] < _EVERY:
            return cached[1]
        found = {
            "inbox": await InboxRepository(db, keyring).backlog(),
            "deliveries": await DeliveriesRepository(db, keyring).backlog(),
            "outbox": await OutboxRepository(db, keyring).backlog(),
        }
        self._read = (now, found)
        return found

    async def publish(self, db: Database, keyring: Keyring) -> dict[str, Backlog]:
        """:meth:`backlogs`, also set as the Prometheus gauges."""
        found = await self.backlogs(db, keyring)
        for queue, backlog in found.items():
            QUEUE_DEPTH.labels(queue).set(backlog.depth)
            QUEUE_OLDEST_SECONDS.labels(queue).set(backlog.oldest_seconds)
        return found
