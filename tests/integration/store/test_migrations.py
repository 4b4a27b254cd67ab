"""The Alembic migrations build exactly the models' schema, on both engines."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from slackbridge.store.db import open_database
from slackbridge.store.migrate import current_revision, head_revision, upgrade
from slackbridge.store.models import metadata


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _check(url: str, schema: str | None = None) -> None:
    first = await upgrade(url, schema=schema)
    assert first.before is None
    assert first.after == head_revision()
    assert first.changed
    again = await upgrade(url, schema=schema)
    assert not again.changed
    db = open_database(url, schema=schema)
    try:
        assert await current_revision(db) == head_revision()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await db.close()


async def test_sqlite_migration_matches_models(tmp_path: Path) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'sb.db'}")


async def test_postgres_migration_matches_models(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    await _check(url, schema)


async def test_postgres_upgrade_creates_a_missing_schema(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    nested = f"{schema}_sub"
    try:
        result = await upgrade(url, schema=nested)
        assert result.after == head_revision()
    finally:
        from sqlalchemy import text

        admin = open_database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{nested}" CASCADE'))
        await admin.close()


def test_migration_scripts_ship_inside_the_package() -> None:
    import slackbridge.store as package

    versions = Path(package.__file__).parent / "migrations" / "versions"
    assert any(p.suffix == ".py" for p in versions.iterdir())


async def _concurrent_upgrades(url: str, schema: str | None = None) -> None:
    results = await asyncio.gather(*(upgrade(url, schema=schema) for _ in range(3)))
    assert sorted(r.changed for r in results) == [False, False, True]
    assert {r.after for r in results} == {head_revision()}


async def test_concurrent_sqlite_upgrades_take_turns(tmp_path: Path) -> None:
    await _concurrent_upgrades(f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}")


async def test_concurrent_postgres_upgrades_take_turns(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    await _concurrent_upgrades(url, schema)
