"""Alembic environment for slackbridge (async-aware).

Normally :mod:`slackbridge.store.migrate` passes an open connection in
``config.attributes["connection"]``. Run through the ``alembic`` command instead (for example to
autogenerate a new revision), it connects to ``SLACKBRIDGE_DATABASE_URL`` itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from slackbridge.store.models import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    from slackbridge.settings import get_settings
    from slackbridge.store.db import open_database

    settings = get_settings()
    db = open_database(settings.effective_database_url, schema=settings.database_schema)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await db.close()


if context.is_offline_mode():
    raise SystemExit("slackbridge migrations run online only: use `slackbridge db upgrade`")

_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    asyncio.run(_run_standalone())
