"""The database handle: URLs, SQLite pragmas, transactions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from slackbridge.store.db import (
    Database,
    DatabaseConfigError,
    mask_url,
    normalize_url,
    open_database,
)


def test_drivers_are_chosen_for_plain_urls() -> None:
    assert normalize_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_urls_say_what_to_use(url: str) -> None:
    with pytest.raises(DatabaseConfigError, match=r"postgresql\+asyncpg://"):
        normalize_url(url)


def test_password_is_masked() -> None:
    shown = mask_url("postgresql+asyncpg://bob:hunter2@db.example:5432/app")
    assert "hunter2" not in shown
    assert "bob:***@db.example" in shown


def test_schema_is_refused_for_sqlite(tmp_path: Path) -> None:
    with pytest.raises(DatabaseConfigError, match="PostgreSQL"):
        open_database(f"sqlite:///{tmp_path / 'x.db'}", schema="s")


async def test_sqlite_creates_data_dir_and_sets_pragmas(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'sb.db'}")
    try:
        async with db.session() as s:
            pragmas = {
                name: (await s.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")
            }
        assert (tmp_path / "nested" / "dir" / "sb.db").exists()
        assert pragmas == {
            "journal_mode": "wal",
            "busy_timeout": 15000,
            "synchronous": 1,  # NORMAL
            "foreign_keys": 1,
        }
        assert db.is_sqlite and not db.is_postgres and db.dialect == "sqlite"
    finally:
        await db.close()


async def test_transaction_commits_and_rolls_back(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.execute(text("CREATE TABLE t_probe (v INTEGER)"))
    async with database.transaction() as tx:
        await tx.execute(text("INSERT INTO t_probe VALUES (1)"))
    with pytest.raises(RuntimeError):
        async with database.transaction() as tx:
            await tx.execute(text("INSERT INTO t_probe VALUES (2)"))
            raise RuntimeError("boom")
    async with database.session() as s:
        assert (await s.execute(text("SELECT v FROM t_probe"))).scalars().all() == [1]


async def test_sqlite_write_transactions_take_the_write_lock_up_front(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'lock.db'}")
    other = open_database(f"sqlite:///{tmp_path / 'lock.db'}")
    try:
        async with db.transaction() as tx:
            await tx.execute(text("SELECT 1"))  # a read only, yet the lock is held (IMMEDIATE)
            raw = await other.engine.raw_connection()
            try:
                driver = raw.driver_connection
                assert driver is not None
                await driver.execute("PRAGMA busy_timeout=0")
                with pytest.raises(Exception, match="locked"):
                    await driver.execute("BEGIN IMMEDIATE")
            finally:
                raw.close()
    finally:
        await other.close()
        await db.close()


async def test_many_engines_opening_a_new_sqlite_file_at_once(tmp_path: Path) -> None:
    """The first connections to a fresh file race to switch it to WAL; none may fail."""
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    databases = [open_database(url) for _ in range(8)]

    async def first_write(db: Database, n: int) -> str:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            mode = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
        return str(mode)

    try:
        modes = await asyncio.gather(*(first_write(db, n) for n, db in enumerate(databases)))
        assert modes == ["wal"] * 8
        async with databases[0].session() as session:
            count = (await session.execute(text("SELECT count(*) FROM t"))).scalar_one()
        assert count == 8
    finally:
        for db in databases:
            await db.close()
