"""Fixtures for gateway integration tests: the emulator and the gateway on loopback ports.

``emulator``: the emulator (default seed) serving real HTTP, recording Web API calls.
``gateway``: the gateway (every part in server.PARTS) against that emulator, SQLite in a tmp
data dir, no app yet. ``gateway_app``: the default app provisioned through
apps.manifest.create. ``gateway_factory``: start more gateways, or one with other settings
(``await gateway_factory(apps=[...], webhook_url=...)``). See tests/support/stack.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import EmulatorServer, GatewayServer, run_emulator, run_gateway

GatewayFactory = Callable[..., Awaitable[GatewayServer]]


# Tests provision several apps in a row; Slack's Tier 1 limits on apps.manifest.* (a burst of
# three, then one a minute) would make them wait a minute. Provisioning's handling of those
# limits is tested on its own (install/test_provision.py).
MANIFEST_LIMITS = {
    "apps.manifest.create": {"per_minute": 600, "burst": 50},
    "apps.manifest.update": {"per_minute": 600, "burst": 50},
}


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    async with run_emulator(rate_limit_overrides=MANIFEST_LIMITS) as server:
        yield server


@pytest.fixture
async def gateway_factory(
    emulator: EmulatorServer, tmp_path: Path
) -> AsyncIterator[GatewayFactory]:
    """Start a gateway against ``emulator``; all are stopped after the test. Each gets its
    own data dir unless ``data_dir=`` is given (two gateways on one SQLite file: pass the same
    one)."""
    async with contextlib.AsyncExitStack() as stack:
        count = 0

        async def start(**settings: Any) -> GatewayServer:
            nonlocal count
            count += 1
            data_dir = settings.pop("data_dir", tmp_path / f"gateway{count}")
            return await stack.enter_async_context(run_gateway(emulator, data_dir, **settings))

        yield start


@pytest.fixture
async def gateway(gateway_factory: GatewayFactory) -> GatewayServer:
    return await gateway_factory()


@pytest.fixture
async def gateway_app(gateway: GatewayServer) -> Any:
    """The default app, provisioned at the emulator and stored in the gateway."""
    return await gateway.provision()
