"""Shared fixtures for every test level."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from slackbridge.store.crypto import Keyring
    from slackbridge.store.db import Database
    from slackbridge.store.store import Store


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


@pytest.fixture
async def pg_schema() -> AsyncIterator[tuple[str, str]]:
    """(url, schema): a fresh, empty PostgreSQL schema, dropped after the test."""
    from sqlalchemy import text

    from slackbridge.store.db import open_database

    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = open_database(url, pool_size=1)
    try:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield url, schema
    finally:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Database]:
    """An empty slackbridge schema on SQLite, then on PostgreSQL (skipped without its URL)."""
    from pathlib import Path

    from slackbridge.store.db import open_database
    from slackbridge.store.models import metadata

    if request.param == "sqlite":
        assert isinstance(tmp_path, Path)
        db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    else:
        url, schema = request.getfixturevalue("pg_schema")
        db = open_database(url, schema=schema)
    try:
        # create_all for speed; tests/integration/store/test_migrations.py proves the Alembic
        # migration builds the same schema.
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield db
    finally:
        await db.close()


@pytest.fixture
def store(database: Database, keyring: Keyring) -> Store:
    """Every repository over `database` and `keyring`."""
    from slackbridge.store.store import Store

    return Store(database, keyring)
