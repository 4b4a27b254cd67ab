"""Checkpoints of a SQLite file's write-ahead log, kept off the commit that acks Slack.

By default SQLite checkpoints inside a ``COMMIT`` once the WAL holds 1,000 pages: that commit
then copies the log into the database file and syncs it, which takes tens of milliseconds while
every request waiting for it waits too (measured: it set the ingress's p99 ack latency). The
inbox writer's connection therefore runs with automatic checkpoints off and pokes a
:class:`WalCheckpointer` after its commits; the checkpointer runs a ``PASSIVE`` checkpoint (one
that never waits for readers or writers, so commits go on meanwhile) from its own connection in
its own thread, at most every :data:`CHECKPOINT_INTERVAL` seconds.

A passive checkpoint copies the log but can't start it over while commits keep coming (SQLite
restarts the log only once every frame in it is copied, and new ones arrive during the copy), so
under sustained load the log file would grow without end. When it holds more than
:data:`WAL_LIMIT_PAGES` pages, the checkpointer runs a ``RESTART`` checkpoint instead: it waits
for the write lock and for readers of older snapshots, holding new writers back meanwhile (the
inbox writer then hands its batches to its thread rather than stall the event loop), copies what
is left (little: the passive ones did the rest), syncs the database, and has the next commit
write the log from its beginning again. Slack's acks wait for it, so it is kept short: it does
not also truncate the file (a ``TRUNCATE`` checkpoint took twice as long, 15 to 60 ms against
6 to 30 under the flat-out bench, and the log's blocks would be allocated again right after);
the file keeps the size it reached, and only a log past :data:`WAL_TRUNCATE_PAGES` (when
restarts could not keep up) is emptied. It waits at most :data:`TRUNCATE_WAIT_MS`, so a long
reader can't hold the ingress's commits back: the checkpoint then gives up and is tried again
at a later poke.

Durability is unchanged: in WAL mode a committed transaction is in the log whether or not it was
checkpointed, and the other connections keep SQLite's automatic checkpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = [
    "CHECKPOINT_INTERVAL",
    "TRUNCATE_WAIT_MS",
    "WAL_LIMIT_PAGES",
    "WAL_TRUNCATE_PAGES",
    "WalCheckpointer",
]

_log = logging.getLogger("slackbridge.store")

#: Seconds between checkpoints while writes go on.
CHECKPOINT_INTERVAL = 0.25
#: Pages in the log (4 KiB each by default) beyond which it is copied and started over.
WAL_LIMIT_PAGES = 8192
#: Pages in the log beyond which its file is emptied too (restarts fell behind).
WAL_TRUNCATE_PAGES = 4 * WAL_LIMIT_PAGES
#: How long a restarting checkpoint may wait for the lock and for readers (it holds writers back).
TRUNCATE_WAIT_MS = 50


class WalCheckpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on ``path`` in a thread of its own, when poked."""

    def __init__(
        self,
        path: str,
        *,
        interval: float = CHECKPOINT_INTERVAL,
        limit_pages: int = WAL_LIMIT_PAGES,
        truncate_pages: int = WAL_TRUNCATE_PAGES,
    ) -> None:
        self._path = path
        self._interval = interval
        self._limit_pages = limit_pages
        self._truncate_pages = truncate_pages
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._running: Future[None] | None = None
        self._last = 0.0
        self.checkpoints = 0  # how many ran (for tests and curiosity)
        self.restarts = 0  # how many of them started the log over
        self.truncations = 0  # how many of those also emptied its file

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
                conn.execute(f"PRAGMA busy_timeout={TRUNCATE_WAIT_MS}")
                self._conn = conn
            _busy, log_pages, _copied = self._conn.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
            self.checkpoints += 1
            if log_pages > self._limit_pages:
                empty = log_pages > self._truncate_pages
                mode = "TRUNCATE" if empty else "RESTART"
                (busy, _log_pages, _copied) = self._conn.execute(
                    f"PRAGMA wal_checkpoint({mode})"
                ).fetchone()
                if not busy:  # busy: gave up waiting (see module doc); tried again later
                    self.restarts += 1
                    self.truncations += empty
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
