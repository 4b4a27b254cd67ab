"""The database handle: an async engine and session factory for SQLite or PostgreSQL.

SQLite (aiosqlite) is the embedded default for one process. Each connection runs in WAL mode
(readers never block the writer), with a busy timeout (a writer waits for the lock instead of
failing at once), ``synchronous=NORMAL`` (durable at every checkpoint, safe in WAL mode against
application crashes) and foreign keys on. The driver's own implicit transactions are switched
off so that slackbridge decides how each transaction begins: :meth:`Database.transaction` starts
with ``BEGIN IMMEDIATE``, which takes the write lock up front; a deferred transaction that reads
first and writes later could otherwise fail with "database is locked" without waiting.

PostgreSQL (asyncpg) is the engine for several instances. An optional schema is put on the
``search_path`` of every connection, which lets tests (and several deployments) share one database.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from slackbridge.store.connector_async import AsyncEngineConnector
from slackbridge.store.connector_sqlite import ReadLater, SqliteFileConnector
from slackbridge.store.files import create_private_file
from slackbridge.store.write_path import Job, WritePath

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "DatabaseConfigError",
    "mask_url",
    "normalize_url",
    "open_database",
    "sqlite_file",
]

SQLITE_BUSY_TIMEOUT_MS = 15_000
_BEGIN_OPTION = "slackbridge_sqlite_begin"
_WAL_ATTEMPTS = 5
T = TypeVar("T")


class DatabaseConfigError(ValueError):
    """The database URL can't be used; the message says what to set instead."""


def normalize_url(url: str) -> URL:
    """Parse ``url`` and pick its async driver (SQLite → aiosqlite, PostgreSQL → asyncpg)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise DatabaseConfigError(
            f"SLACKBRIDGE_DATABASE_URL is not a valid URL ({exc}); use "
            "sqlite+aiosqlite:///path/to/slackbridge.db or postgresql+asyncpg://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise DatabaseConfigError(
        f"unsupported database {backend!r} in SLACKBRIDGE_DATABASE_URL; use "
        "sqlite+aiosqlite:///path/to/slackbridge.db or postgresql+asyncpg://user@host/db"
    )


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***``, for logs and CLI output."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True)


class Database:
    """An async engine plus its session factory.

    Use :meth:`session` for reads, :meth:`write` for the queues' writes (the process's one
    group-committing write path, ``store/write_path.py``) and :meth:`transaction` for the other
    writes (it commits on success and rolls back on error). Repositories take a ``Database``
    and own every query.
    """

    def __init__(self, engine: AsyncEngine, *, schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )
        self._write_path: WritePath | None = None
        self._write_loop: asyncio.AbstractEventLoop | None = None

    @property
    def sqlite_file(self) -> str | None:
        """The database file when this is a file-backed SQLite database, else None."""
        if not self.is_sqlite:
            return None
        path = _sqlite_path(self.url)
        return None if path is None else str(path)

    @property
    def write_path(self) -> WritePath:
        """The process's write path for this store (made on first use, one per event loop)."""
        loop = asyncio.get_running_loop()
        if self._write_path is None or self._write_loop is not loop:
            path = self.sqlite_file
            connector: SqliteFileConnector | AsyncEngineConnector
            if path is not None:
                connector = SqliteFileConnector(path, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS)
            else:
                connector = AsyncEngineConnector(
                    self.engine, begin_option=_BEGIN_OPTION if self.is_sqlite else None
                )
            self._write_path = WritePath(connector)
            self._write_loop = loop
        return self._write_path

    async def write(
        self, job: Job[T], *, urgent: bool = False, step: bool = False, single: bool = False
    ) -> T:
        """Run ``job`` (a function of a synchronous connection) in the write path's next batch;
        returns its result once committed. ``urgent``: ahead of the jobs waiting (the ingress);
        ``step``: a lane runner's step (batches of their own on PostgreSQL); ``single``: an
        urgent job that runs one statement (it may commit by itself on PostgreSQL)."""
        return await self.write_path.write(job, urgent=urgent, step=step, single=single)

    def read_now(self, query: Callable[[Connection], T]) -> T:
        """Run ``query`` (reads only, a few indexed rows) at once on the SQLite write path's
        own connection, in a read transaction: no thread hop and no ORM session, where a read
        session of the async engine costs several of each. Raises
        :class:`~slackbridge.store.connector_sqlite.ReadLater` where it can't (PostgreSQL, an
        in-memory database, the connection busy in the writer's thread): read with
        :meth:`session` instead."""
        connector = self.write_path.connector
        if not isinstance(connector, SqliteFileConnector):
            raise ReadLater
        return connector.read_core_now(query)

    async def read_kept(self, query: Callable[[Connection], T]) -> T:
        """Run ``query`` (reads only, a few indexed rows) on a PostgreSQL connection the write
        path keeps, with every statement by itself (:meth:`AsyncEngineConnector.read
        <slackbridge.store.connector_async.AsyncEngineConnector.read>`): a read session costs a
        pool checkout with its ping, BEGIN and ROLLBACK, four round trips where this takes one.
        Raises :class:`~slackbridge.store.connector_sqlite.ReadLater` on SQLite (read with
        :meth:`read_now` or :meth:`session` there)."""
        connector = self.write_path.connector
        if not isinstance(connector, AsyncEngineConnector) or not connector.concurrent:
            raise ReadLater
        return await connector.read(query)

    @property
    def url(self) -> URL:
        """The engine's URL (render it with :func:`mask_url` before showing it)."""
        return self.engine.url

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads (SQLite: a deferred transaction that takes no write lock)."""
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one write transaction: committed on exit, rolled back on error.

        On SQLite the transaction begins with ``BEGIN IMMEDIATE`` so that it waits (up to the busy
        timeout) for the single write lock instead of failing half-way.
        """
        async with self.sessionmaker() as session, session.begin():
            if self.is_sqlite:
                await session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
            yield session

    @asynccontextmanager
    async def begin_write(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection inside one write transaction (SQLite: ``BEGIN IMMEDIATE``)."""
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = await conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            async with conn.begin():
                yield conn

    async def close(self) -> None:
        """Commit what the write path holds, then close every connection."""
        write_path, self._write_path = self._write_path, None
        if write_path is not None and self._write_loop is asyncio.get_running_loop():
            await write_path.close()
        await self.engine.dispose()


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ``url``; None for PostgreSQL or an in-memory SQLite database."""
    parsed = normalize_url(url)
    return _sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None


def _sqlite_path(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _enable_wal(cursor: Any) -> None:
    """Switch the database file to WAL (once per file; later connections find it so).

    Switching takes an exclusive lock, and SQLite may refuse it with "database is locked"
    without waiting when another connection opens or writes the new file at the same moment.
    Reading the mode does wait (busy timeout): when another connection has switched the file
    already, that is all this connection needed.
    """
    for _ in range(_WAL_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
        cursor.execute("PRAGMA journal_mode")
        row = cursor.fetchone()
        if row and str(row[0]).lower() == "wal":
            return
    cursor.execute("PRAGMA journal_mode=WAL")


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def open_database(
    url: str,
    *,
    schema: str | None = None,
    echo: bool = False,
    pool_size: int = 10,
    application_name: str = "slackbridge",
) -> Database:
    """Create a :class:`Database` for ``url`` (SQLite or PostgreSQL).

    For a SQLite file the file and its parent directory (the data dir) are created, readable by
    their owner only (``store/files.py``). ``schema`` (PostgreSQL only)
    is put first on every connection's ``search_path`` (``slackbridge db upgrade`` creates it);
    ``application_name`` names the connections in PostgreSQL's ``pg_stat_activity``.
    """
    parsed = normalize_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if schema:
            raise DatabaseConfigError("a database schema can only be used with PostgreSQL")
        path = _sqlite_path(parsed)
        if path is None:
            # An in-memory database lives in one connection; share it.
            kwargs["poolclass"] = StaticPool
        else:
            # Created here, before SQLite would create it with the umask's mode (0644 as a
            # rule); the -wal and -shm files take this file's mode.
            create_private_file(path)
            kwargs["pool_size"] = pool_size
        kwargs["connect_args"] = {"check_same_thread": False}
        engine = create_async_engine(parsed, **kwargs)
        _install_sqlite_hooks(engine)
        return Database(engine)

    server_settings = {"application_name": application_name}
    if schema:
        server_settings["search_path"] = schema
    engine = create_async_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
        **kwargs,
    )
    return Database(engine, schema=schema)
