"""On PostgreSQL, concurrent creates of one key through two gateways make one Slack thread."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from slackbridge.store.crypto import generate_key
from tests.integration.gateway.api.conftest import (
    ACME,
    API_KEY,
    SUPPORT,
    ProductServer,
    start_stack,
)
from tests.integration.gateway.bridge.conftest import wait_conversation
from tests.integration.gateway.conftest import GatewayFactory

pytestmark = pytest.mark.postgres


async def test_concurrent_puts_on_two_gateways_make_one_thread(
    pg_schema: tuple[str, str], gateway_factory: GatewayFactory, product: ProductServer
) -> None:
    url, schema = pg_schema
    shared: dict[str, Any] = {
        "database_url": url,
        "database_schema": schema,
        "secret_keys": generate_key(),
    }
    first = await start_stack(gateway_factory, product, **shared)
    second = await gateway_factory(api_keys=API_KEY, webhook_url=product.url, **shared)
    assert second.gateway.db.is_postgres
    other = httpx.AsyncClient(
        base_url=second.url + "/api/v1",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=30.0,
    )
    body = {"workspace": ACME, "channel": SUPPORT, "card": {"text": "one card only"}}
    async with first.api, other:
        answers = await asyncio.gather(
            *(
                (first.api if i % 2 else other).put("/conversations/pg-1", json=body)
                for i in range(30)
            )
        )
        assert sorted(a.status_code for a in answers).count(201) == 1
        opened = await wait_conversation(first, "pg-1")
        assert opened["state"] == "open"
    channel = first.emulator.state.workspaces[ACME].channels[SUPPORT]
    assert [m.ts for m in channel.messages if m.text == "one card only"] == [opened["thread_ts"]]
