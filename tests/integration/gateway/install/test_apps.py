"""Configured apps are synced into the store; a setting left out keeps what is stored."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from slackbridge.settings import SlackAppConfig
from slackbridge.slack.workspaces.apps import (
    AppNotFound,
    app_by_api_app_id,
    app_by_name,
    list_apps,
    resolve_app,
    signing_secrets,
    sync_configured_apps,
)
from slackbridge.store.db import open_database
from slackbridge.store.repositories.apps import AppSpec, AppsRepository
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.stack import GatewayServer


async def test_settings_add_to_a_provisioned_app_without_losing_its_credentials(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    first = await gateway_factory(data_dir=shared)
    provisioned = await first.provision()
    configured = SlackAppConfig(
        name="default",
        app_token=SecretStr("xapp-1-A0-123-abc"),
        socket_mode=False,
        bot_scopes=["chat:write"],
    )
    second = await gateway_factory(data_dir=shared, apps=[configured])
    app = await app_by_name(second.gateway, "default")
    assert app is not None
    assert app.app_token == "xapp-1-A0-123-abc"  # added by the settings
    assert app.client_secret == provisioned.client_secret  # kept from provisioning
    assert app.signing_secret == provisioned.signing_secret
    assert app.app_id == provisioned.app_id
    assert app.bot_scopes == ("chat:write",)  # the settings win where given


async def test_lookups(gateway: GatewayServer) -> None:
    alpha = await gateway.provision("alpha")
    beta = await gateway.provision("beta")
    secrets = await signing_secrets(gateway.gateway)
    assert secrets == [
        (alpha.id, alpha.app_id, alpha.signing_secret),
        (beta.id, beta.app_id, beta.signing_secret),
    ]
    found = await app_by_api_app_id(gateway.gateway, beta.app_id)
    assert found is not None and found.name == "beta"
    assert await app_by_api_app_id(gateway.gateway, "A_NOPE") is None
    assert (await resolve_app(gateway.gateway)).name == "alpha"
    assert (await resolve_app(gateway.gateway, beta.app_id)).name == "beta"
    with pytest.raises(AppNotFound, match="alpha, beta"):
        await resolve_app(gateway.gateway, "gamma")
    assert [a.name for a in await list_apps(gateway.gateway)] == ["alpha", "beta"]


async def test_an_app_stored_by_another_process_is_seen_at_once(
    gateway: GatewayServer,
) -> None:
    assert await signing_secrets(gateway.gateway) == []  # now cached as empty
    other = open_database(gateway.settings.effective_database_url)  # like another process
    try:
        await AppsRepository(other, gateway.gateway.keyring).upsert(
            AppSpec(name="late", app_id="A0LATE", signing_secret="s3cret")
        )
    finally:
        await other.close()
    found = await app_by_api_app_id(gateway.gateway, "A0LATE")
    assert found is not None and found.name == "late"
    deadline = time.monotonic() + 10  # seen within 0.25 s; the margin is for a busy machine
    while not await signing_secrets(gateway.gateway):
        assert time.monotonic() < deadline, "the new app's signing secret was not seen"
        await asyncio.sleep(0.05)
    ((_, app_id, secret),) = await signing_secrets(gateway.gateway)
    assert (app_id, secret) == ("A0LATE", "s3cret")


async def test_two_configured_apps_with_one_name_are_refused(gateway: GatewayServer) -> None:
    gateway.gateway.settings.apps = [SlackAppConfig(name="x"), SlackAppConfig(name="x")]
    with pytest.raises(ValueError, match="different name"):
        await sync_configured_apps(gateway.gateway)


async def test_no_app_at_all(gateway: GatewayServer) -> None:
    with pytest.raises(AppNotFound, match="apps provision"):
        await resolve_app(gateway.gateway)
    assert await signing_secrets(gateway.gateway) == []


async def test_readyz_names_the_apps_awaiting_provisioning(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    """docs/operations.md: an app with no client id yet is ok in /readyz's ``slack_apps``, whose
    detail says it awaits ``slackbridge apps provision``."""
    shared = tmp_path / "shared"
    first = await gateway_factory(data_dir=shared)
    await first.provision("ready")
    waiting = SlackAppConfig(name="waiting", bot_scopes=["chat:write"])
    second = await gateway_factory(data_dir=shared, apps=[waiting])
    async with httpx.AsyncClient(base_url=second.url) as client:
        answer = await client.get("/readyz")
    check = answer.json()["checks"]["slack_apps"]
    assert check["ok"] is True
    assert check["detail"] == "ready, waiting; awaiting `slackbridge apps provision`: waiting"
