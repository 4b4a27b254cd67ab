"""Fixtures for the ingress → product webhook tests: the emulator, the gateway, a product.

``bridge``: the default app provisioned and installed into Acme (by alice), its bot invited
to #general, and the gateway delivering webhooks to a recording ``product`` endpoint (retries
sped up). ``Bridge.act`` drives the emulator's control API; ``Bridge.bot`` calls the Web API as
the app's bot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.settings import SlackAppConfig
from slackbridge.slack.workspaces.tokens import bot_token
from slackbridge.store.repositories.deliveries import DeliveriesRepository
from slackbridge.store.repositories.inbox import InboxRepository
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.product import Product, run_product
from tests.support.stack import EmulatorServer, GatewayServer, browser, install_via_browser

SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXByb2R1Y3Qtd2ViaG9va3M="
ACME, ALICE, BOB = "T0ACME0001", "U0ACME0001", "U0ACME0002"
GENERAL, STAFF = "C0ACME0GEN", "G0ACME0STF"


@dataclass
class Bridge:
    """An installed app, its gateway, the emulator and the product."""

    gw: GatewayServer
    app: Any  # slackbridge.slack.workspaces.apps.SlackApp
    product: Product
    emulator: EmulatorServer
    bot_user_id: str
    bot_token: str

    async def act(self, path: str, **body: Any) -> dict[str, Any]:
        """POST to the emulator's control API (``/_emulator/<path>``); asserts success."""
        async with httpx.AsyncClient(timeout=20.0) as client:
            response = await client.post(f"{self.emulator.url}/_emulator/{path}", json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def bot(self, method: str, **args: Any) -> dict[str, Any]:
        """Call Web API ``method`` as the app's bot."""
        client = AsyncWebClient(token=self.bot_token, base_url=self.emulator.api_url)
        response = await client.api_call(method, json=args)
        return dict(response.data)  # type: ignore[arg-type]

    async def settled(self, within: float = 15.0) -> None:
        """Wait until the emulator has delivered everything and the gateway's inbox and
        deliveries have nothing left to do."""
        deadline = time.monotonic() + within
        await self.delivered(within)
        await settled(self.gw.gateway, max(0.1, deadline - time.monotonic()))

    async def delivered(self, within: float = 15.0) -> None:
        """Wait until the emulator has delivered every event (the gateway acked them all).

        The emulator, like Slack, sends events concurrently, so two events sent close together
        may reach the gateway in either order; a test about order waits for each one."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=10.0) as client:
            while True:
                answer = await client.get(
                    f"{self.emulator.url}/_emulator/deliveries", params={"status": "pending"}
                )
                if not answer.json()["deliveries"]:
                    break
                assert time.monotonic() < deadline, "the emulator is still delivering"
                await asyncio.sleep(0.05)

    async def invite_bot(self, channel_id: str) -> None:
        await self.act(
            "conversations/invite", channel_id=channel_id, user_id=ALICE, users=[self.bot_user_id]
        )


async def settled(gateway: Any, within: float = 15.0) -> None:
    """Wait until ``gateway``'s inbox and deliveries have nothing pending or in progress."""
    inbox = InboxRepository(gateway.db, gateway.keyring)
    deliveries = DeliveriesRepository(gateway.db, gateway.keyring)
    deadline = time.monotonic() + within
    while True:
        rows = await inbox.counts()
        sent = await deliveries.counts()
        if rows["pending"] + rows["processing"] + sent["pending"] + sent["delivering"] == 0:
            return
        assert time.monotonic() < deadline, f"still busy after {within}s: {rows} {sent}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def product() -> AsyncIterator[Product]:
    async with run_product(SECRET) as running:
        yield running


async def start_bridge(
    gateway_factory: GatewayFactory,
    emulator: EmulatorServer,
    product: Product,
    **settings: Any,
) -> Bridge:
    """A gateway delivering to ``product``, with the default app installed into Acme."""
    values: dict[str, Any] = {
        "webhook_url": product.hook_url,
        "webhook_secret": SECRET,
        "webhook_retry_scale": 0.02,
        **settings,
    }
    gw = await gateway_factory(**values)
    scopes = [*SlackAppConfig().bot_scopes, "im:write"]  # the tests open a DM with the bot
    app = await gw.provision(bot_scopes=scopes)
    async with browser() as client:
        page = await install_via_browser(client, gw, ACME, ALICE)
    assert page.status_code == 200, page.text
    creds = await bot_token(gw.gateway, ACME)
    bridge = Bridge(gw, app, product, emulator, creds.bot_user_id or "", creds.token)
    await bridge.invite_bot(GENERAL)
    return bridge


@pytest.fixture
async def bridge(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> Bridge:
    return await start_bridge(gateway_factory, emulator, product)
