"""Schema migrations (Alembic), run programmatically by ``slackbridge db upgrade`` and ``serve``.

The migration scripts live inside the package (``store/migrations``) so they ship in the wheel;
no ``alembic.ini`` is needed. Several instances starting at once migrate one after the other
instead of racing: on PostgreSQL an advisory lock serializes them, on SQLite the write lock
(the migration's transaction begins IMMEDIATE).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from slackbridge.store.db import Database, open_database

__all__ = ["MIGRATIONS_DIR", "UpgradeResult", "alembic_config", "current_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# An arbitrary constant: the key of the PostgreSQL advisory lock taken while migrating.
_ADVISORY_LOCK_KEY = 0x5B_B1_D6_E0


@dataclass(frozen=True)
class UpgradeResult:
    """What an upgrade did: the revision before (``None`` on an empty database) and after."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest revision the packaged scripts know."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(
    connection: Connection, target: str, schema: str | None
) -> tuple[str | None, str | None]:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
        if schema:
            quoted = connection.dialect.identifier_preparer.quote_schema(schema)
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
    before = _current(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)
    return before, _current(connection)


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (``None`` when it was never migrated)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade_database(db: Database, target: str = "head") -> UpgradeResult:
    """Migrate ``db`` to ``target`` (the newest revision by default) in one transaction.

    On PostgreSQL the database's schema (``SLACKBRIDGE_DATABASE_SCHEMA``) is created if missing.
    """
    async with db.begin_write() as conn:
        before, after = await conn.run_sync(_upgrade, target, db.schema)
    return UpgradeResult(before=before, after=after)


async def upgrade(db_url: str, *, schema: str | None = None) -> UpgradeResult:
    """Open ``db_url``, migrate it to the newest revision and close it again."""
    db = open_database(db_url, schema=schema, pool_size=1)
    try:
        return await upgrade_database(db)
    finally:
        await db.close()
