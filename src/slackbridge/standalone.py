"""A gateway's resources outside ``slackbridge serve``: for the CLI and for Bolt apps.

:func:`open_gateway` builds the runtime as the server does (:func:`slackbridge.compose.
build_runtime`: the store opened, its schema upgraded, the keys loaded) and syncs the
configured apps, exactly as the server's start-up does, but runs no HTTP server and no worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from slackbridge.compose import build_runtime
from slackbridge.runtime import Gateway
from slackbridge.settings import Settings
from slackbridge.slack.workspaces.apps import sync_configured_apps

__all__ = ["open_gateway"]


@contextlib.asynccontextmanager
async def open_gateway(
    settings: Settings, *, pool_size: int = 2, create_key: bool = True
) -> AsyncIterator[Gateway]:
    """A :class:`~slackbridge.runtime.Gateway` over the configured store and keys.

    ``create_key=False`` refuses to generate the key file (a command on an existing store)."""
    async with build_runtime(settings, pool_size=pool_size, create_key=create_key) as gateway:
        await sync_configured_apps(gateway)
        yield gateway
