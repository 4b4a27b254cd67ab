"""The outbox on PostgreSQL shared by two gateways: every message once, each lane in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from slackbridge.emulator.ops_channels import create_channel
from slackbridge.store.crypto import generate_key
from tests.integration.gateway.api.conftest import (
    ACME,
    ALICE,
    API_KEY,
    ProductServer,
    start_stack,
)
from tests.integration.gateway.conftest import GatewayFactory

pytestmark = pytest.mark.postgres


async def test_two_senders_share_the_outbox_in_order(
    pg_schema: tuple[str, str], gateway_factory: GatewayFactory, product: ProductServer
) -> None:
    url, schema = pg_schema
    shared: dict[str, Any] = {
        "database_url": url,
        "database_schema": schema,
        "secret_keys": generate_key(),
    }
    first = await start_stack(gateway_factory, product, **shared)
    second = await gateway_factory(
        api_keys=API_KEY,
        webhook_url=product.url,
        webhook_secret=product.secret,
        outbox_retry_scale=0.02,
        **shared,
    )
    assert second.gateway.db.is_postgres
    state = first.emulator.state
    channels = [create_channel(state, ACME, f"pg-{i}", ALICE).id for i in range(3)]
    texts = {ch: [f"{ch}-{n}" for n in range(6)] for ch in channels}
    async with first.api:

        async def lane(channel: str) -> list[str]:
            ids = []
            for text in texts[channel]:
                answer = await first.api.post(
                    "/messages", json={"workspace": ACME, "channel": channel, "text": text}
                )
                assert answer.status_code == 202, answer.text
                ids.append(answer.json()["id"])
            return ids

        lanes = await asyncio.gather(*(lane(ch) for ch in channels))
        for ids in lanes:
            for message_id in ids:
                assert (await first.wait_status(message_id, within=60))["status"] == "sent"
        # Replies by id and idempotent retries work across the shared store too.
        root = lanes[0][0]
        reply = await first.api.post(
            "/messages",
            json={"workspace": ACME, "channel": channels[0], "text": "reply", "reply_to": root},
            headers={"Idempotency-Key": "pg-reply"},
        )
        again = await first.api.post(
            "/messages",
            json={"workspace": ACME, "channel": channels[0], "text": "reply", "reply_to": root},
            headers={"Idempotency-Key": "pg-reply"},
        )
        assert again.json()["id"] == reply.json()["id"]
        sent_reply = await first.wait_status(reply.json()["id"])
        assert sent_reply["thread_ts"] == (await first.wait_status(root))["ts"]
    for channel in channels:
        posted = [
            m.text
            for m in state.workspaces[ACME].channels[channel].messages
            if m.subtype is None and m.bot_id and m.thread_ts in (None, m.ts)
        ]
        assert posted == texts[channel]
