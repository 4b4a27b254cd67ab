"""A gateway's resources outside ``slackbridge serve``: for the CLI and for Bolt apps.

:func:`open_gateway` opens the store (upgrading its schema), loads the keys and syncs the
configured apps, exactly as the server's start-up does, but runs no HTTP server and no worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from slackbridge.runtime import Gateway
from slackbridge.settings import Settings
from slackbridge.slack.workspaces.apps import sync_configured_apps
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import open_database
from slackbridge.store.migrate import upgrade_database

__all__ = ["open_gateway"]


@contextlib.asynccontextmanager
async def open_gateway(
    settings: Settings, *, pool_size: int = 2, create_key: bool = True
) -> AsyncIterator[Gateway]:
    """A :class:`~slackbridge.runtime.Gateway` over the configured store and keys.

    ``create_key=False`` refuses to generate the key file (a command on an existing store)."""
    keys = settings.secret_keys.get_secret_value() if settings.secret_keys else None
    keyring = Keyring.load(keys, settings.data_dir, create=create_key)
    db = open_database(
        settings.effective_database_url, schema=settings.database_schema, pool_size=pool_size
    )
    try:
        await upgrade_database(db)
        async with httpx.AsyncClient(timeout=10.0) as http:
            gateway = Gateway(settings=settings, db=db, keyring=keyring, http=http)
            await sync_configured_apps(gateway)
            yield gateway
    finally:
        await db.close()
