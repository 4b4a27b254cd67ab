"""Slack takes no bot token for conversations.unarchive: reopening a noisy conversation uses the
installing person's user token when they granted channels:write, the bot's otherwise."""

from __future__ import annotations

import httpx

from slackbridge.store.store import Store
from tests.integration.gateway.api.conftest import ACME, ALICE, API_KEY, ApiStack, ProductServer
from tests.integration.gateway.bridge.conftest import wait_conversation
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.stack import browser, install_via_browser


async def test_reopen_unarchives_as_the_installer(
    gateway_factory: GatewayFactory, product: ProductServer
) -> None:
    gw = await gateway_factory(
        api_keys=API_KEY,
        webhook_url=product.url,
        webhook_secret=product.secret,
        outbox_retry_scale=0.02,
    )
    await gw.provision(user_scopes=["chat:write", "channels:write"])
    async with browser() as b:
        assert (await install_via_browser(b, gw, ACME, ALICE)).status_code == 200
    api = httpx.AsyncClient(
        base_url=gw.url + "/api/v1", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    )
    async with api:
        stack = ApiStack(gateway=gw, emulator=gw.emulator, product=product, api=api)
        body = {"workspace": ACME, "mode": "noisy"}
        assert (await api.put("/conversations/u-1", json=body)).status_code == 201
        opened = await wait_conversation(stack, "u-1")
        await api.post("/conversations/u-1/close", json={})
        reopened = await api.post("/conversations/u-1/reopen", json={})
        assert reopened.json()["state"] == "open"
        store = Store(gw.gateway.db, gw.gateway.keyring)
        rows = await store.outbox.list(team_id=ACME, limit=500)
        (unarchive,) = [r for r in rows if r.method == "conversations.unarchive"]
        assert unarchive.as_user == ALICE
        done = await stack.wait_status(unarchive.message_id)
        assert done["status"] == "sent", done
        channel = gw.emulator.state.workspaces[ACME].channels[opened["channel"]]
        assert not channel.is_archived
