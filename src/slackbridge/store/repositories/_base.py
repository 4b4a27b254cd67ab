"""What every repository shares: the database, the keyring, the clock, transactions, upserts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store import purge_pace
from slackbridge.store.connector_sqlite import ReadLater
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.models_base import Clock, utcnow
from slackbridge.store.queue import Queue
from slackbridge.store.write_path import Job

__all__ = [
    "PURGE_CHUNK",
    "Clock",
    "Repository",
    "dialect_insert",
    "dialect_insert_for",
    "secret_purpose",
]

T = TypeVar("T")

#: Rows the first write of a purge deletes (then sized by time: ``store/purge_pace.py``). A purge
#: of an hour of traffic is millions of rows; as one statement it would hold the store's one
#: writer (SQLite's write lock) for seconds, and Slack's acks with it. In chunks, the ingress's
#: commits go between them (its jobs go first in the write path's queue).
PURGE_CHUNK = purge_pace.FIRST


def secret_purpose(table: str, column: str, row_id: int) -> str:
    """The associated data binding an encrypted value to its table, column and row."""
    return f"{table}.{column}:{row_id}"


def dialect_insert(db: Database, table: Table) -> Any:
    """An INSERT with ``on_conflict_do_nothing/do_update`` for the database's dialect."""
    return dialect_insert_for(db.dialect, table)


def dialect_insert_for(dialect: str, table: Table) -> Any:
    """:func:`dialect_insert` by dialect name (a write job knows its connection's)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Repository:
    """Base of the repositories: every query runs in a transaction of its own unless the caller
    passes ``session=`` to make several repository calls one atomic unit (for example "mark the
    inbox row done and enqueue its deliveries")."""

    def __init__(self, db: Database, keyring: Keyring, clock: Clock = utcnow) -> None:
        self._db = db
        self._keyring = keyring
        self._clock = clock

    @asynccontextmanager
    async def _tx(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if session is not None:
            yield session
            return
        async with self._db.transaction() as own:
            yield own

    async def _purge(
        self,
        queue: Queue,
        time_column: str,
        before: datetime,
        statuses: Sequence[str],
        *,
        chunk: int | None = None,
        pace: Callable[[int, float], int] | None = None,
    ) -> int:
        """Delete ``queue``'s rows in ``statuses`` older than ``before`` (by ``time_column``) in
        chunks, each a write through the write path: ``chunk`` rows (:data:`PURGE_CHUNK`) first,
        then as many as ``pace`` (:func:`~slackbridge.store.purge_pace.next_chunk`) says from the
        last chunk's size and the seconds its statement took. Returns how many went."""
        pace = pace or purge_pace.next_chunk
        size = chunk or PURGE_CHUNK
        total = 0

        def chunk_of(limit: int) -> Job[tuple[int, float]]:
            def job(conn: Connection) -> tuple[int, float]:
                started = time.perf_counter()
                gone = queue.purge(conn, time_column, before, statuses, limit=limit)
                return gone, time.perf_counter() - started

            return job

        while True:
            gone, took = await self._write(chunk_of(size))
            total += gone
            if gone < size:
                return total
            size = pace(size, took)

    async def _write(self, job: Job[T], session: AsyncSession | None = None) -> T:
        """Run ``job`` through the store's write path, or in ``session``'s transaction when the
        caller passes one (so the same code serves both; see ``store/write_path.py``)."""
        if session is not None:
            return await session.run_sync(lambda sync: job(sync.connection()))
        return await self._db.write(job)

    async def _read_quick(self, query: Callable[[Connection], T]) -> T:
        """Run ``query`` (a few indexed reads) at once on a SQLite file's write connection
        (:meth:`Database.read_now <slackbridge.store.db.Database.read_now>`), on PostgreSQL on a
        kept autocommit connection (:meth:`Database.read_kept
        <slackbridge.store.db.Database.read_kept>`), else in a read session: the same code
        every way."""
        try:
            return self._db.read_now(query)
        except ReadLater:
            pass
        try:
            return await self._db.read_kept(query)
        except ReadLater:
            pass
        async with self._db.session() as session:
            return await session.run_sync(lambda sync: query(sync.connection()))

    @asynccontextmanager
    async def _read(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if session is not None:
            yield session
            return
        async with self._db.session() as own:
            yield own

    def _seal(self, table: str, column: str, row_id: int, value: str | None) -> bytes | None:
        if value is None:
            return None
        return self._keyring.encrypt(value, secret_purpose(table, column, row_id))

    def _open(self, table: str, column: str, row_id: int, value: bytes | None) -> str | None:
        if value is None:
            return None
        return self._keyring.decrypt(value, secret_purpose(table, column, row_id))


def as_tuple(values: Sequence[str] | None) -> tuple[str, ...]:
    """A JSON list column as a tuple (dataclasses here are frozen)."""
    return tuple(values or ())
