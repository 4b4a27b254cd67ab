"""Checkpoints of a SQLite file's write-ahead log, kept off the commit that acks Slack.

By default SQLite checkpoints inside a ``COMMIT`` once the WAL holds 1,000 pages: that commit
then copies the log into the database file and syncs it, which takes tens of milliseconds while
every request waiting for it waits too (measured: it set the ingress's p99 ack latency). The
inbox writer's connection therefore runs with automatic checkpoints off and pokes a
:class:`WalCheckpointer` after its commits; the checkpointer runs a ``PASSIVE`` checkpoint (one
that never waits for readers or writers, so commits go on meanwhile) from its own connection in
its own thread, at most every :data:`CHECKPOINT_INTERVAL` seconds. Durability is unchanged: in
WAL mode a committed transaction is in the log whether or not it was checkpointed, and the other
connections keep SQLite's automatic checkpoints, so the log is bounded even without a poke.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["CHECKPOINT_INTERVAL", "WalCheckpointer"]

_log = logging.getLogger("slackbridge.store")

#: Seconds between checkpoints while writes go on.
CHECKPOINT_INTERVAL = 0.25


class WalCheckpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on ``path`` in a thread of its own, when poked."""

    def __init__(
        self, path: str, *, busy_timeout_ms: int, interval: float = CHECKPOINT_INTERVAL
    ) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._interval = interval
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._running: Future[None] | None = None
        self._last = 0.0
        self.checkpoints = 0  # how many ran (for tests and curiosity)

    def poke(self) -> None:
        """Writes were committed: start a checkpoint unless one runs or ran a moment ago.
        Returns at once; never raises (a failed checkpoint is retried at the next poke)."""
        now = time.monotonic()
        if (self._running is not None and not self._running.done()) or (
            now - self._last < self._interval
        ):
            return
        self._last = now
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="wal-checkpoint")
        self._running = self._executor.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
                self._conn = conn
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:
            _log.warning("WAL checkpoint of %s failed (retried later): %r", self._path, exc)

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    async def close(self) -> None:
        """Wait for a running checkpoint, close the connection and stop the thread."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.get_running_loop().run_in_executor(executor, self._close)
        executor.shutdown(wait=False)
        self._running = None
