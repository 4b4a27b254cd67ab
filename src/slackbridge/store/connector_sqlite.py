"""The write path's connector for a SQLite file: one connection, batches on the loop's thread.

The async SQLite driver runs every call (BEGIN, each statement, COMMIT) as a separate hop to its
thread, and under load each hop waits for the busy event loop to hand back the GIL (up to a
switch interval), so a transaction of a dozen statements took tens of milliseconds while it held
the database's write lock. This connector keeps one plain ``sqlite3`` connection of its own (same
settings as ``store/db.py``: WAL, ``synchronous=NORMAL``, foreign keys) wrapped in a synchronous
SQLAlchemy connection, and runs a whole batch in one go: ``BEGIN IMMEDIATE``, the jobs'
statements, ``COMMIT``, a few hundred microseconds of SQLite's C code.

Where it runs: on the event loop's own thread while the write lock is free, which is the usual
case since every write of the process comes through here; else in a dedicated thread. The
connection has no busy timeout, so a lock held by another process (a CLI command) or by an
emptying WAL checkpoint fails ``BEGIN IMMEDIATE`` at once instead of stalling the loop; the
batch then goes to the thread, which waits for the lock (up to the store's busy timeout), and
later batches follow it there until it is done, so batches commit in order. Small reads may use
the connection too, between batches (:meth:`SqliteFileConnector.read_now`), in a read
transaction that takes no lock a writer needs. Commits never
checkpoint the write-ahead log themselves: a :class:`~slackbridge.store.wal_checkpoint.
WalCheckpointer` does that beside them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from slackbridge.store.wal_checkpoint import WalCheckpointer

__all__ = ["ReadLater", "SqliteFileConnector", "is_busy"]

R = TypeVar("R")

#: Seconds between two attempts at a batch while another connection holds the write lock.
_RETRY_PAUSE_MIN = 0.00025
_RETRY_PAUSE_MAX = 0.001


def is_busy(exc: BaseException) -> bool:
    """The error is SQLite's "database is locked" (SQLITE_BUSY and its extended codes)."""
    inner = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error
    if not isinstance(inner, sqlite3.OperationalError):
        return False
    code = getattr(inner, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def _engine(path: str) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=StaticPool,
        # No busy timeout: a taken lock must not stall the event loop (see module doc).
        connect_args={"check_same_thread": False, "timeout": 0},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun explicitly below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # A checkpoint inside COMMIT would hold up everything waiting for it.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # The connector begins each batch on the driver's connection itself (see _once): a
        # job's first Core statement then joins that transaction instead of beginning one.
        raw = conn.connection.driver_connection
        if not (isinstance(raw, sqlite3.Connection) and raw.in_transaction):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _end_read(conn: Connection, raw: sqlite3.Connection) -> None:
    """End a read transaction, on SQLAlchemy's side too if a statement began it there."""
    if conn.in_transaction():
        conn.rollback()
    if raw.in_transaction:
        raw.rollback()


class ReadLater(Exception):
    """:meth:`SqliteFileConnector.read_now` could not read at once (read elsewhere)."""


class SqliteFileConnector:
    """Runs batches on one connection to the SQLite file at ``path`` (see the module doc)."""

    def __init__(self, path: str, *, busy_timeout_ms: int) -> None:
        self.concurrent = False  # one writer: batches one after the other
        self.path = path
        self._busy_timeout = busy_timeout_ms / 1000
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._raw: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._queued = 0  # batches waiting in or for the thread
        self.deferred = 0  # batches that found the write lock taken (for tests and curiosity)
        self.checkpointer = WalCheckpointer(path)

    def _connection(self) -> Connection:
        if self._conn is None:
            if self._engine is None:
                self._engine = _engine(self.path)
            self._conn = self._engine.connect()
        return self._conn

    def _driver(self, conn: Connection) -> sqlite3.Connection:
        if self._raw is None:
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            self._raw = raw
        return self._raw

    def _once(self, batch: Callable[[Connection], R]) -> R:
        """``batch`` in one transaction, begun and ended on the driver's connection: SQLAlchemy's
        transaction events cost more per batch than SQLite's BEGIN and COMMIT. Jobs that run
        Core statements join it (see ``_on_begin``), and SQLAlchemy's side is ended with it."""
        conn = self._connection()
        raw = self._driver(conn)
        raw.execute("BEGIN IMMEDIATE")
        try:
            result = batch(conn)
            if conn.in_transaction():
                conn.commit()  # COMMIT on the driver's connection, and SQLAlchemy's side ended
            else:
                raw.commit()
        except BaseException:
            if conn.in_transaction():
                conn.rollback()
            if raw.in_transaction:
                raw.rollback()
            raise
        return result

    def _patiently(self, batch: Callable[[Connection], R]) -> R:
        """In the thread: ``batch`` again while the write lock is taken, up to the timeout.

        The lock is mostly the WAL checkpointer's restart (6 to 30 ms under load, see
        ``wal_checkpoint.py``) and Slack's acks wait for this batch: the pause between two
        attempts stays at most :data:`_RETRY_PAUSE_MAX`, so that the batch follows the lock's
        release within a millisecond (a pause doubling up to 10 ms added up to 10 ms to the
        acks' tail); an attempt that finds the lock taken costs microseconds."""
        deadline = time.monotonic() + self._busy_timeout
        pause = _RETRY_PAUSE_MIN
        while True:
            try:
                return self._once(batch)
            except Exception as exc:
                if not is_busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _RETRY_PAUSE_MAX)

    def read_now(self, query: Callable[[sqlite3.Connection], R]) -> R:
        """Run ``query`` (a read: it must leave no statement open) on this connection, outside
        any transaction, at once: a read in WAL mode takes no lock a writer holds, and on the
        loop's thread costs microseconds where a read session of the async engine costs two
        thread hops. Raises :class:`ReadLater` while a batch runs in the thread (the connection
        is then in use there) or when SQLite answers busy."""
        if self._queued:
            raise ReadLater
        raw = self._driver(self._connection())
        if raw.in_transaction:
            raise ReadLater
        try:
            return query(raw)
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise ReadLater from exc
            raise

    def read_core_now(self, query: Callable[[Connection], R]) -> R:
        """:meth:`read_now` for Core statements: ``query`` runs on this connection in a read
        transaction (a deferred ``BEGIN``: no write lock), rolled back after it."""
        conn = self._connection()
        raw = self._driver(conn)
        if self._queued or raw.in_transaction:
            raise ReadLater
        try:
            raw.execute("BEGIN")  # a read: the statements' autobegin joins it (_on_begin)
            try:
                return query(conn)
            finally:
                _end_read(conn, raw)
        except Exception as exc:
            if is_busy(exc):
                raise ReadLater from exc
            raise

    async def commit(self, batch: Callable[[Connection], R]) -> R:
        """Run ``batch`` in one transaction: on this thread if the lock is free and nothing
        waits in the thread, else in the thread."""
        if not self._queued:
            try:
                result = self._once(batch)
            except Exception as exc:
                if not is_busy(exc):
                    raise
                self.deferred += 1
            else:
                self.checkpointer.poke()
                return result
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._queued += 1
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._executor, self._patiently, batch)
        finally:
            self._queued -= 1
        self.checkpointer.poke()
        return result

    async def commit_each(self, batch: Callable[[Connection], R]) -> R:
        """As :meth:`commit`: SQLite's one writer runs every batch in a transaction (the write
        path sends a lone step here only on a ``concurrent`` connector, which this is not)."""
        return await self.commit(batch)

    def _close(self) -> None:
        self._raw = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    async def close(self) -> None:
        """Close the connection and stop the threads (the next batch opens them again)."""
        await self.checkpointer.close()
        executor, self._executor = self._executor, None
        if executor is None:
            self._close()
            return
        await asyncio.get_running_loop().run_in_executor(executor, self._close)
        executor.shutdown(wait=False)
