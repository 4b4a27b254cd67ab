"""Fixtures for the store's tests: a controllable clock and a store that uses it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database, open_database
from slackbridge.store.models import metadata
from slackbridge.store.store import Store


class FakeClock:
    """A clock that only moves when told to (leases and expiries without sleeping)."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cstore(database: Database, keyring: Keyring, clock: FakeClock) -> Store:
    """A store whose "now" is `clock`."""
    return Store(database, keyring, clock=clock)


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` until it holds, failing after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


# --- stores whose write path runs the queues' hot statements as plain SQL ----------------------


async def _store(db: Database, keyring: Keyring, clock: FakeClock) -> AsyncIterator[Store]:
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield Store(db, keyring, clock=clock)
    finally:
        await db.close()


@pytest.fixture
async def file_store(tmp_path: Path, keyring: Keyring, clock: FakeClock) -> AsyncIterator[Store]:
    """A store on a SQLite file (its write path runs plain statements on its own connection)."""
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}")
    async for store in _store(db, keyring, clock):
        yield store


@pytest.fixture
async def pg_store(
    pg_schema: tuple[str, str], keyring: Keyring, clock: FakeClock
) -> AsyncIterator[Store]:
    """A store in a fresh PostgreSQL schema (plain statements on the write path's connections)."""
    url, schema = pg_schema
    async for store in _store(open_database(url, schema=schema), keyring, clock):
        yield store


@pytest.fixture(params=["sqlite", "postgres"])
def plain_store(request: pytest.FixtureRequest) -> Store:
    """:func:`file_store`, then :func:`pg_store` (skipped without PostgreSQL)."""
    name = "file_store" if request.param == "sqlite" else "pg_store"
    store: Store = request.getfixturevalue(name)
    return store
