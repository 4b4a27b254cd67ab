"""The ingress group commit's writer for SQLite: one short transaction per batch of inbox rows.

The async SQLite driver runs every call (BEGIN, INSERT, fetch, COMMIT, …) as a separate hop to
its thread, a couple of dozen per transaction, which made each group commit take milliseconds
and capped ingress throughput. This writer keeps its own connection to the same database file,
with the same settings as ``store/db.py`` (WAL, ``synchronous=NORMAL``, foreign keys), and writes
a whole batch in one call: ``BEGIN IMMEDIATE``, one query for the keys already stored, one
multi-row ``INSERT`` of the new rows, ``COMMIT``. New rows may be written already leased to this
process's inbox worker (:meth:`SqliteInboxWriter.insert_leased`, see ``pipeline/handoff.py``).

Where the call runs: on the event loop's own thread when SQLite's write lock is free (the usual
case: the transaction is a few hundred microseconds of SQLite's C code, and a thread would have
to win the GIL back from the busy event loop after every step, each time waiting up to a switch
interval), else in a dedicated thread. The connection has no busy timeout, so a lock held by
another connection (a worker's transaction, a CLI command) fails ``BEGIN IMMEDIATE`` at once
instead of stalling the loop; the batch then goes to the thread, which waits for the lock (up to
the store's busy timeout), and later batches follow it there until it is done, so batches commit
in order. Commits never checkpoint the write-ahead log themselves: a
:class:`~slackbridge.store.wal_checkpoint.WalCheckpointer` does that beside them.

Timestamps go through SQLAlchemy's own bind processor for the column type and the headers are
JSON, so the rows read back exactly as the inbox repository's; its ``insert_many`` stays the path
for PostgreSQL (and in-memory SQLite, which a second connection could not see). ``tests/
integration/gateway/ingress/test_inbox_writer.py`` checks that the two agree.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson

from slackbridge.store.db import SQLITE_BUSY_TIMEOUT_MS, Database
from slackbridge.store.models import InboxRow, table_of
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.inbox import InboxInsertResult, InboxItem, NewInboxItem
from slackbridge.store.wal_checkpoint import WalCheckpointer

__all__ = ["SqliteInboxWriter", "sqlite_file_of", "writer_for"]

_T = table_of(InboxRow)
_COLUMNS = (
    "dedupe_key",
    "kind",
    "body",
    "app_ref",
    "team_id",
    "headers",
    "received_at",
    "status",
    "attempts",
    "not_before",
    "lease_owner",
    "lease_expires_at",
)
_T_RESULT = TypeVar("_T_RESULT")
_CHUNK = 500  # rows per statement: well under SQLite's bound-parameter limit
# Rows per completing UPDATE, each its own hop: an ingress batch queued behind a completion
# waits for one of these (about a millisecond), not for the worker's whole batch.
_COMPLETE_CHUNK = 100


def sqlite_file_of(db: Database) -> str | None:
    """The database file when ``db`` is a file-backed SQLite database, else None."""
    if not db.is_sqlite:
        return None
    name = db.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return name


class SqliteInboxWriter:
    """Inserts inbox rows into a SQLite file, on the loop's thread or its own (see module doc)."""

    def __init__(self, db: Database, path: str, clock: Callable[[], datetime] = utcnow) -> None:
        self._path = path
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._queued = 0  # calls waiting in or for the thread
        self.deferred = 0  # calls that found the write lock taken (for tests and curiosity)
        self.checkpointer = WalCheckpointer(path)
        dialect = db.engine.dialect
        self._process: dict[str, Callable[[Any], Any] | None] = {
            name: _T.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _COLUMNS
        }

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            # No busy timeout: a taken lock must not stall the event loop (see module doc); a
            # call that meets one here goes to the thread, which connects again patiently.
            conn = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=0
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                # A checkpoint inside COMMIT would hold up every request waiting for it.
                conn.execute("PRAGMA wal_autocheckpoint=0")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _when(self, value: datetime) -> Any:
        process = self._process["received_at"]
        return process(value) if process is not None else value

    def _rows(
        self,
        items: Sequence[NewInboxItem],
        now: datetime,
        lease: tuple[str, datetime] | None,
        *,
        first_id: int,
    ) -> list[Any]:
        """The statement's parameters for ``items`` (ids from ``first_id`` on), flat: the id,
        then :data:`_COLUMNS` in order.

        The batch's timestamps are converted once; the headers are JSON (orjson: the same
        document as SQLAlchemy's JSON type writes, without its cost per row)."""
        stamp = self._when(now)
        status, attempts = ("processing", 1) if lease else ("pending", 0)
        owner, expires = (lease[0], self._when(lease[1])) if lease else (None, None)
        params: list[Any] = []
        for row_id, item in enumerate(items, first_id):
            params += (
                row_id,
                item.dedupe_key,
                item.kind,
                item.body,
                item.app_ref,
                item.team_id,
                orjson.dumps(dict(item.headers)).decode(),
                stamp,
                status,
                attempts,
                stamp,
                owner,
                expires,
            )
        return params

    def _write(
        self,
        conn: sqlite3.Connection,
        items: Sequence[NewInboxItem],
        lease: tuple[str, float] | None,
    ) -> tuple[dict[str, int], datetime, datetime | None]:
        # Few statements, each one step: in the thread, the sqlite3 module takes the GIL back
        # after every step, each time waiting for the busy event loop, so RETURNING (one step
        # per row) is avoided. Under the write lock (BEGIN IMMEDIATE) nothing else can insert,
        # so "new" keys and max(id) stay true until COMMIT.
        now = self._clock()
        expires = now + timedelta(seconds=lease[1]) if lease else None
        row_lease = (lease[0], expires) if lease and expires else None
        inserted: dict[str, int] = {}
        conn.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(items), _CHUNK):
                chunk = items[start : start + _CHUNK]
                keys = [item.dedupe_key for item in chunk]
                marks = ", ".join("?" * len(keys))
                known = {
                    key
                    for (key,) in conn.execute(
                        f"SELECT dedupe_key FROM inbox WHERE dedupe_key IN ({marks})", keys
                    )
                }
                new: list[NewInboxItem] = []
                for item in chunk:
                    if item.dedupe_key not in known:
                        known.add(item.dedupe_key)  # a repeat within the batch is a duplicate
                        new.append(item)
                if not new:
                    continue
                (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM inbox").fetchone()
                one = "(" + ", ".join("?" * (len(_COLUMNS) + 1)) + ")"
                sql = f"INSERT INTO inbox (id, {', '.join(_COLUMNS)}) VALUES " + ", ".join(
                    [one] * len(new)
                )
                conn.execute(sql, self._rows(new, now, row_lease, first_id=last + 1))
                inserted.update((item.dedupe_key, last + 1 + n) for n, item in enumerate(new))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return inserted, now, expires

    async def _call(self, fn: Callable[..., _T_RESULT], *args: Any) -> _T_RESULT:
        """``fn(connection, *args)``, on this thread if the write lock is free and no call waits
        in the thread, else in the thread (see module doc)."""
        if not self._queued:
            try:
                result = fn(self._connect(), *args)
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
                self.deferred += 1
            else:
                self.checkpointer.poke()
                return result
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="inbox-writer")
        self._queued += 1
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._executor, self._patiently, fn, *args)
        finally:
            self._queued -= 1
        self.checkpointer.poke()
        return result

    def _patiently(self, fn: Callable[..., _T_RESULT], *args: Any) -> _T_RESULT:
        """In the thread: ``fn`` again while the write lock is taken, up to the busy timeout."""
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        pause = 0.0005
        while True:
            try:
                return fn(self._connect(), *args)
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.01)

    async def insert_many(self, items: Sequence[NewInboxItem]) -> list[InboxInsertResult]:
        """Store ``items`` in ONE transaction; results follow their order (a key already stored,
        or repeated within ``items``, is reported as not inserted)."""
        results, _ = await self.insert_leased(items, None)
        return results

    async def insert_leased(
        self, items: Sequence[NewInboxItem], lease: tuple[str, float] | None
    ) -> tuple[list[InboxInsertResult], list[InboxItem]]:
        """As :meth:`insert_many`, with the new rows leased to ``lease = (owner, seconds)``
        (claimed at once, ``attempts`` 1); also returns those rows, in order."""
        if not items:
            return [], []
        inserted, now, expires = await self._call(self._write, items, lease)
        results: list[InboxInsertResult] = []
        leased: list[InboxItem] = []
        for item in items:
            row_id = inserted.pop(item.dedupe_key, None)
            results.append(InboxInsertResult(item.dedupe_key, row_id is not None))
            if row_id is not None and lease is not None:
                leased.append(
                    InboxItem(
                        id=row_id,
                        dedupe_key=item.dedupe_key,
                        app_ref=item.app_ref,
                        team_id=item.team_id,
                        kind=item.kind,
                        body=item.body,
                        headers=dict(item.headers),
                        received_at=now,
                        status="processing",
                        attempts=1,
                        not_before=now,
                        lease_owner=lease[0],
                        lease_expires_at=expires,
                        last_error=None,
                        payload=item.payload,
                    )
                )
        return results, leased

    @staticmethod
    def _complete(conn: sqlite3.Connection, ids: Sequence[int], owner: str) -> int:
        marks = ", ".join("?" * len(ids))
        cursor = conn.execute(
            "UPDATE inbox SET status = 'done', lease_owner = NULL, lease_expires_at = NULL "
            f"WHERE id IN ({marks}) AND lease_owner = ? AND status = 'processing'",
            [*ids, owner],
        )
        return cursor.rowcount

    async def complete_many(self, ids: Sequence[int], owner: str) -> int:
        """Mark the rows ``ids`` leased by ``owner`` done (one statement per
        :data:`_COMPLETE_CHUNK` rows); rows whose lease was lost to another worker are left
        alone. Returns how many were done."""
        if not ids:
            return 0
        done = 0
        for start in range(0, len(ids), _COMPLETE_CHUNK):
            if start:
                await asyncio.sleep(0)  # written on the loop's thread: let requests in between
            done += await self._call(self._complete, ids[start : start + _COMPLETE_CHUNK], owner)
        return done

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        """Close the connection and stop the thread (the next write starts them again)."""
        await self.checkpointer.close()
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.get_running_loop().run_in_executor(executor, self._close)
        executor.shutdown(wait=False)


def _busy(exc: sqlite3.OperationalError) -> bool:
    """The error is SQLite's "database is locked" (SQLITE_BUSY and its extended codes)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


_WRITERS: weakref.WeakKeyDictionary[Database, SqliteInboxWriter] = weakref.WeakKeyDictionary()


def writer_for(db: Database) -> SqliteInboxWriter | None:
    """The store's inbox writer (one per database), or None when ``db`` is not a SQLite file."""
    found = _WRITERS.get(db)
    if found is None:
        path = sqlite_file_of(db)
        if path is None:
            return None
        found = _WRITERS[db] = SqliteInboxWriter(db, path)
    return found
