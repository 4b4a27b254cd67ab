"""The write path's connector for the async engine (PostgreSQL, and in-memory SQLite).

A batch's jobs are synchronous functions of a connection; SQLAlchemy runs them on an async
connection with :meth:`~sqlalchemy.ext.asyncio.AsyncConnection.run_sync`, each statement still
awaiting the driver underneath. On PostgreSQL a batch is one transaction on one pooled
connection: one commit (one WAL flush) for everything in it; the queues' hot statements run
there as plain SQL on the driver's connection (``store/queue_postgres.py``). An in-memory SQLite
database lives in the engine's one shared connection, which only this engine can see, so it is
written here too (``BEGIN IMMEDIATE``, as ``Database.transaction`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from slackbridge.store.queue_postgres import PLAIN_OPTION

__all__ = ["AsyncEngineConnector"]

R = TypeVar("R")


class AsyncEngineConnector:
    """Runs batches on connections of ``engine``'s pool."""

    def __init__(self, engine: AsyncEngine, *, begin_option: str | None = None) -> None:
        # PostgreSQL runs batches side by side; an in-memory SQLite has one connection.
        self.concurrent = begin_option is None
        self._engine = engine
        self._begin_option = begin_option  # SQLite: the execution option for BEGIN IMMEDIATE

        # PostgreSQL: connections kept between batches (checking one out of the pool pings the
        # server first: a round trip per batch); and for batches run without a transaction.
        self._idle: list[AsyncConnection] = []
        self._idle_each: list[AsyncConnection] = []

    async def commit(self, batch: Callable[[Connection], R]) -> R:
        if not self.concurrent:
            async with self._engine.connect() as conn:
                conn = await conn.execution_options(**{str(self._begin_option): "IMMEDIATE"})
                async with conn.begin():
                    return await conn.run_sync(batch)
        conn = self._idle.pop() if self._idle else await self._connect()
        try:
            # Begun, run and committed in ONE greenlet (AsyncConnection.begin() and its commit
            # would spawn one each, the batch a third).
            return await conn.run_sync(_in_transaction, batch)
        finally:
            if conn.closed or conn.invalidated:
                await conn.close()
            else:
                self._idle.append(conn)

    async def commit_each(self, batch: Callable[[Connection], R]) -> R:
        """Run ``batch`` with every statement committed by itself (no BEGIN, no COMMIT: one
        round trip a statement); PostgreSQL only, for a batch that needs no atomicity (the
        write path's lone lane step)."""
        if not self.concurrent:
            return await self.commit(batch)
        each = self._idle_each
        conn = each.pop() if each else await self._connect(isolation_level="AUTOCOMMIT")
        try:
            return await conn.run_sync(_each_by_itself, batch)
        finally:
            if conn.closed or conn.invalidated:
                await conn.close()
            else:
                each.append(conn)

    async def read(self, query: Callable[[Connection], R]) -> R:
        """Run ``query`` (reads only) on a kept autocommit connection (PostgreSQL only): no pool
        checkout and its ping, no BEGIN and no ROLLBACK, no ORM session; one round trip a
        statement. Under READ COMMITTED (the default) a read session's statements each see
        their own snapshot too, so the result is the same. A kept connection found broken (the
        server restarted) is dropped and the read runs once more on a fresh one, as the pool's
        ping on checkout would have had it."""
        if not self.concurrent:
            raise RuntimeError("read() is for PostgreSQL's kept connections")
        try:
            return await self.commit_each(query)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return await self.commit_each(query)

    async def _connect(self, **options: Any) -> AsyncConnection:
        conn = await self._engine.connect()
        # The queues' hot statements run as plain SQL on this connection's driver
        # (store/queue_postgres.py).
        return await conn.execution_options(**{PLAIN_OPTION: True}, **options)

    async def close(self) -> None:
        """Return the kept connections to the pool (which belongs to the database)."""
        idle, self._idle, self._idle_each = self._idle + self._idle_each, [], []
        for conn in idle:
            await conn.close()


def _in_transaction(conn: Connection, batch: Callable[[Connection], R]) -> R:
    """``batch`` in a transaction of ``conn``: committed, or rolled back if it raises."""
    with conn.begin():
        return batch(conn)


def _each_by_itself(conn: Connection, batch: Callable[[Connection], R]) -> R:
    """``batch`` on an autocommit connection; SQLAlchemy's own transaction, begun by a Core
    statement (nothing on the server), ended too."""
    try:
        return batch(conn)
    finally:
        if conn.in_transaction():
            conn.rollback()
