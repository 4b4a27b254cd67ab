"""Fair turns at SQLite's single write lock for the outbox's writers in one process.

SQLite lets one transaction write at a time; the others wait in SQLite's busy handler, which
sleeps and polls with growing pauses and serves nobody in order. Under a burst (a product posting
hundreds of messages while the sender records deliveries) some writers then wait for seconds while
others pass, which shows as stalls in a channel's delivery. Taking an asyncio lock first queues the
outbox's writers of this process in arrival order instead, each holding SQLite's lock only for its
own short transaction. PostgreSQL needs no such gate (row locks, no single writer).

Only whole, non-nested repository calls go through the gate (a call never waits for it while
holding it), so it cannot deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

from slackbridge.store.db import Database

__all__ = ["write_turn"]

_gates: weakref.WeakKeyDictionary[Database, dict[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _lock(db: Database) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    per_loop = _gates.setdefault(db, {})
    lock = per_loop.get(loop)
    if lock is None:
        for stale in [other for other in per_loop if other.is_closed()]:
            del per_loop[stale]
        lock = per_loop[loop] = asyncio.Lock()
    return lock


@contextlib.asynccontextmanager
async def write_turn(db: Database) -> AsyncIterator[None]:
    """Wait for this process's turn to write to ``db`` (a no-op on PostgreSQL)."""
    if not db.is_sqlite:
        yield
        return
    async with _lock(db):
        yield
