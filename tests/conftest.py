"""Shared fixtures for every test level."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

import pytest

from tests.support.fuzz import load_profile

if TYPE_CHECKING:
    from slackbridge.store.crypto import Keyring
    from slackbridge.store.db import Database
    from slackbridge.store.store import Store


# Property tests draw the same examples on every run unless SLACKBRIDGE_FUZZ=deep asks for a
# random, deeper search (tests/support/fuzz.py).
load_profile()


# --- store fixtures -------------------------------------------------------------------------
# `database` runs a test on SQLite (a temporary file) and on PostgreSQL (from
# SLACKBRIDGE_TEST_DATABASE_URL, in a schema of its own that is dropped afterwards, so that
# concurrent test runs sharing one database never see each other's rows).

PG_URL_ENV = "SLACKBRIDGE_TEST_DATABASE_URL"
PG_SKIP_REASON = "set SLACKBRIDGE_TEST_DATABASE_URL to run PostgreSQL tests"


@pytest.fixture
def keyring() -> Keyring:
    """A keyring with one fresh key."""
    from slackbridge.store.crypto import Keyring, generate_key

    return Keyring.parse(generate_key())


@asynccontextmanager
async def fresh_pg_schema(url: str) -> AsyncIterator[str]:
    """Create a uniquely named, empty schema in ``url``'s database; drop it afterwards."""
    from sqlalchemy import text

    from slackbridge.store.db import open_database

    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = open_database(url, pool_size=1)
    try:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield schema
    finally:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.close()


def _pg_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    return url


@pytest.fixture
async def pg_schema() -> AsyncIterator[tuple[str, str]]:
    """(url, schema): a fresh, empty PostgreSQL schema, dropped after the test."""
    url = _pg_url()
    async with fresh_pg_schema(url) as schema:
        yield url, schema


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Database]:
    """An empty slackbridge schema on SQLite, then on PostgreSQL (skipped without its URL)."""
    from pathlib import Path

    from slackbridge.store.db import open_database
    from slackbridge.store.models import metadata

    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            assert isinstance(tmp_path, Path)
            db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
        else:
            url = _pg_url()
            schema = await stack.enter_async_context(fresh_pg_schema(url))
            db = open_database(url, schema=schema)
        stack.push_async_callback(db.close)
        # create_all for speed; tests/integration/store/test_migrations.py proves the Alembic
        # migration builds the same schema.
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield db


@pytest.fixture
def store(database: Database, keyring: Keyring) -> Store:
    """Every repository over `database` and `keyring`."""
    from slackbridge.store.store import Store

    return Store(database, keyring)
