"""The write path's connector for the async engine (PostgreSQL, and in-memory SQLite).

A batch's jobs are synchronous functions of a connection; SQLAlchemy runs them on an async
connection with :meth:`~sqlalchemy.ext.asyncio.AsyncConnection.run_sync`, each statement still
awaiting the driver underneath. On PostgreSQL a batch is one transaction on one pooled
connection: one commit (one WAL flush) for everything in it. An in-memory SQLite database lives
in the engine's one shared connection, which only this engine can see, so it is written here too
(``BEGIN IMMEDIATE``, as ``Database.transaction`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["AsyncEngineConnector"]

R = TypeVar("R")


class AsyncEngineConnector:
    """Runs batches on connections of ``engine``'s pool."""

    def __init__(self, engine: AsyncEngine, *, begin_option: str | None = None) -> None:
        self._engine = engine
        self._begin_option = begin_option  # SQLite: the execution option for BEGIN IMMEDIATE

    async def commit(self, batch: Callable[[Connection], R]) -> R:
        async with self._engine.connect() as conn:
            if self._begin_option is not None:
                conn = await conn.execution_options(**{self._begin_option: "IMMEDIATE"})
            async with conn.begin():
                return await conn.run_sync(batch)

    async def close(self) -> None:
        """Nothing of its own to close (the pool belongs to the database)."""
