"""The product hears about workspaces: installed, uninstalled (Slack's events), disconnected."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from slackbridge.slack.workspaces.lifecycle import installations_repo
from slackbridge.slack.workspaces.tokens import (
    WorkspaceUnavailable,
    bot_token,
    call_as_bot,
    report_token_error,
)
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import settled
from tests.support.product import Product, run_product
from tests.support.stack import GatewayServer, browser, install_via_browser

SECRET = "whsec_" + "aW5zdGFsbC10ZXN0cy13ZWJob29rLXNlY3JldA=="
ACME, ALICE, BOB = "T0ACME0001", "U0ACME0001", "U0ACME0002"


@pytest.fixture
async def product() -> AsyncIterator[Product]:
    async with run_product(SECRET) as running:
        yield running


@pytest.fixture
async def gw(gateway_factory: GatewayFactory, product: Product) -> GatewayServer:
    return await gateway_factory(
        webhook_url=product.hook_url, webhook_secret=SECRET, webhook_retry_scale=0.02
    )


async def _install(gw: GatewayServer, user: str, ref: str) -> None:
    async with browser() as b:
        page = await install_via_browser(b, gw, ACME, user, ref=ref)
    assert page.status_code == 200, page.text


async def _status_becomes(gw: GatewayServer, status: str, within: float = 15.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        (inst,) = await installations_repo(gw.gateway).list()
        if inst.status == status:
            return inst
        assert time.monotonic() < deadline, f"still {inst.status}, not {status}"
        await asyncio.sleep(0.05)


async def _quiet(gw: GatewayServer, within: float = 15.0) -> None:
    """Wait until the emulator delivered everything and the gateway processed it all."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=10.0) as client:
        while (
            await client.get(
                f"{gw.emulator.url}/_emulator/deliveries", params={"status": "pending"}
            )
        ).json()["deliveries"]:
            assert time.monotonic() < deadline, "the emulator is still delivering"
            await asyncio.sleep(0.05)
    await settled(gw.gateway, max(0.1, deadline - time.monotonic()))


async def test_install_and_reinstall_are_announced(gw: GatewayServer, product: Product) -> None:
    app = await gw.provision()
    await _install(gw, ALICE, "acct-1")
    hook = await product.wait_for(lambda h: h.type == "workspace.installed")
    workspace = hook.data["workspace"]
    assert (workspace["team_id"], workspace["team_name"]) == (ACME, "Acme")
    assert (workspace["app_id"], workspace["ref"]) == (app.app_id, "acct-1")
    assert workspace["status"] == "active"
    assert hook.data["installer"] == {"id": ALICE}
    assert hook.data["reinstall"] is False
    assert "chat:write" in hook.data["scopes"]

    await _install(gw, BOB, "acct-1")
    again = await product.wait_for(
        lambda h: h.type == "workspace.installed" and h.data["reinstall"] is True
    )
    assert again.data["installer"] == {"id": BOB}
    assert again.webhook_id != hook.webhook_id


async def test_uninstalling_the_app_in_slack_deletes_the_tokens(
    gw: GatewayServer, product: Product
) -> None:
    app = await gw.provision()
    await _install(gw, ALICE, "acct-1")
    creds = await bot_token(gw.gateway, ACME)
    # A workspace admin removes the app in Slack; Slack sends app_uninstalled/tokens_revoked.
    answer = await gw.gateway.slack_client(creds.token).api_call(
        "apps.uninstall", data={"client_id": app.client_id, "client_secret": app.client_secret}
    )
    assert answer["ok"]
    hook = await product.wait_for(lambda h: h.type == "workspace.uninstalled")
    assert hook.data["workspace"]["team_id"] == ACME
    inst = await _status_becomes(gw, "uninstalled")
    assert inst.bot_token is None
    calls = len(gw.emulator.calls)
    with pytest.raises(WorkspaceUnavailable) as failure:
        await call_as_bot(gw.gateway, ACME, "auth.test")
    assert failure.value.status == "uninstalled"
    assert len(gw.emulator.calls) == calls  # no call to Slack for a gone workspace
    # Told once, although Slack sent two events about it (tokens_revoked, app_uninstalled).
    await _quiet(gw)
    assert len(product.of_type("workspace.uninstalled")) == 1


async def test_a_revoked_bot_token_is_an_uninstall(gw: GatewayServer, product: Product) -> None:
    await gw.provision()
    await _install(gw, ALICE, "acct-1")
    creds = await bot_token(gw.gateway, ACME)
    await gw.gateway.slack_client(creds.token).auth_revoke()
    await product.wait_for(lambda h: h.type == "workspace.uninstalled")
    inst = await _status_becomes(gw, "uninstalled")
    assert inst.bot_token is None


async def test_token_death_is_announced(gw: GatewayServer, product: Product) -> None:
    app = await gw.provision()
    await _install(gw, ALICE, "acct-1")
    assert await report_token_error(gw.gateway, ACME, app.app_id, "account_inactive")
    hook = await product.wait_for(lambda h: h.type == "workspace.disconnected")
    assert hook.data["error"] == "account_inactive"
    assert hook.data["workspace"]["status"] == "disconnected"
    assert hook.data["workspace"]["ref"] == "acct-1"
