"""Token rotation: refreshed before expiry, single-flight, across gateways sharing a store."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from slackbridge.slack.workspaces.lifecycle import audit_repo, installations_repo
from slackbridge.slack.workspaces.tokens import (
    WorkspaceUnavailable,
    bot_token,
    refresh_expiring,
    report_token_error,
    user_token,
)
from slackbridge.store.crypto import generate_key
from slackbridge.store.models import InstallationRow, UserTokenRow, table_of
from slackbridge.store.models_base import utcnow
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.stack import GatewayServer, browser, install_via_browser

ACME, ALICE = "T0ACME0001", "U0ACME0001"
_I = table_of(InstallationRow)
_U = table_of(UserTokenRow)


def _refreshes(gateway: GatewayServer) -> int:
    return len(gateway.emulator.calls_to("oauth.v2.access", grant_type="refresh_token"))


async def _install_rotating(gateway: GatewayServer, **config: Any) -> Any:
    app = await gateway.provision("rotating", token_rotation=True, **config)
    async with browser() as b:
        page = await install_via_browser(b, gateway, ACME, ALICE)
    assert page.status_code == 200, page.text
    return app


async def _expire_soon(gateway: GatewayServer, *, minutes: float = 1) -> None:
    async with gateway.gateway.db.transaction() as tx:
        await tx.execute(
            update(_I).values(bot_token_expires_at=utcnow() + timedelta(minutes=minutes))
        )


async def test_rotating_install_keeps_refresh_token_and_expiry(gateway: GatewayServer) -> None:
    await _install_rotating(gateway)
    (inst,) = await installations_repo(gateway.gateway).list()
    assert inst.bot_token is not None and inst.bot_token.startswith("xoxe.xoxb-")
    assert inst.bot_refresh_token is not None and inst.bot_refresh_token.startswith("xoxe-1-")
    assert inst.bot_token_expires_at is not None
    left = inst.bot_token_expires_at - utcnow()
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12)
    # Far from expiry: handed out as it is, no refresh.
    assert (await bot_token(gateway.gateway, ACME)).token == inst.bot_token
    assert _refreshes(gateway) == 0


async def test_token_near_expiry_is_refreshed_first(gateway: GatewayServer) -> None:
    await _install_rotating(gateway)
    (before,) = await installations_repo(gateway.gateway).list()
    await _expire_soon(gateway, minutes=4)
    creds = await bot_token(gateway.gateway, ACME)
    assert _refreshes(gateway) == 1
    assert creds.token != before.bot_token
    assert creds.token.startswith("xoxe.xoxb-")
    assert creds.expires_at is not None and creds.expires_at - utcnow() > timedelta(hours=11)
    (after,) = await installations_repo(gateway.gateway).list()
    assert after.bot_token == creds.token
    assert after.bot_refresh_token not in (None, before.bot_refresh_token)
    # The new token works at Slack; the refresh token used is gone.
    emulated = gateway.emulator.state.tokens[creds.token]
    assert not emulated.revoked and emulated.kind == "bot"
    assert before.bot_refresh_token not in gateway.emulator.state.refresh_tokens


async def test_concurrent_refreshes_make_one_call(gateway: GatewayServer) -> None:
    await _install_rotating(gateway)
    await _expire_soon(gateway)
    results = await asyncio.gather(*(bot_token(gateway.gateway, ACME) for _ in range(5)))
    assert _refreshes(gateway) == 1
    assert len({r.token for r in results}) == 1


async def test_two_gateways_on_one_sqlite_store_refresh_once(
    gateway_factory: GatewayFactory, tmp_path: Any
) -> None:
    shared = tmp_path / "shared"
    first = await gateway_factory(data_dir=shared)
    second = await gateway_factory(data_dir=shared)
    assert first.gateway.db is not second.gateway.db
    await _install_rotating(first)
    await _expire_soon(first)
    one, two = await asyncio.gather(bot_token(first.gateway, ACME), bot_token(second.gateway, ACME))
    assert _refreshes(first) == 1
    assert one.token == two.token


@pytest.mark.postgres
async def test_two_gateways_on_postgres_refresh_once(
    gateway_factory: GatewayFactory, pg_schema: tuple[str, str]
) -> None:
    url, schema = pg_schema
    keys = generate_key()
    settings = {"database_url": url, "database_schema": schema, "secret_keys": keys}
    first = await gateway_factory(**settings)
    second = await gateway_factory(**settings)
    await _install_rotating(first)
    for _ in range(3):  # several rounds, so that the race is really run
        await _expire_soon(first)
        tokens = await asyncio.gather(
            *(bot_token(gw.gateway, ACME) for gw in (first, second, first, second))
        )
        assert len({t.token for t in tokens}) == 1
    assert _refreshes(first) == 3


async def test_background_refresh_keeps_idle_workspaces_fresh(gateway: GatewayServer) -> None:
    await _install_rotating(gateway)
    (before,) = await installations_repo(gateway.gateway).list()
    assert await refresh_expiring(gateway.gateway) == 0  # nothing due yet
    await _expire_soon(gateway, minutes=8)
    assert await refresh_expiring(gateway.gateway) == 1
    (after,) = await installations_repo(gateway.gateway).list()
    assert after.bot_token != before.bot_token
    assert _refreshes(gateway) == 1


async def test_dead_refresh_token_disconnects_the_workspace(gateway: GatewayServer) -> None:
    app = await _install_rotating(gateway)
    (inst,) = await installations_repo(gateway.gateway).list()
    # Someone used the refresh token behind the gateway's back: it is dead now.
    used = await gateway.gateway.slack_client().api_call(
        "oauth.v2.access",
        data={
            "grant_type": "refresh_token",
            "refresh_token": inst.bot_refresh_token,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )
    assert used["ok"]
    await _expire_soon(gateway)
    with pytest.raises(WorkspaceUnavailable) as failure:
        await bot_token(gateway.gateway, ACME)
    assert failure.value.status == "disconnected"
    (after,) = await installations_repo(gateway.gateway).list()
    assert after.status == "disconnected"
    assert after.last_error == "invalid_refresh_token"
    actions = [e.action for e in await audit_repo(gateway.gateway).list(team_id=ACME)]
    assert actions[0] == "workspace.disconnected"
    with pytest.raises(WorkspaceUnavailable):
        await bot_token(gateway.gateway, ACME)


async def test_user_tokens_rotate_too(gateway: GatewayServer) -> None:
    await _install_rotating(gateway, user_scopes=["search:read"])
    first = await user_token(gateway.gateway, ACME, ALICE)
    assert first is not None and first.token.startswith("xoxe.xoxp-")
    async with gateway.gateway.db.transaction() as tx:
        await tx.execute(update(_U).values(expires_at=utcnow() + timedelta(minutes=2)))
    fresh = await asyncio.gather(*(user_token(gateway.gateway, ACME, ALICE) for _ in range(3)))
    assert _refreshes(gateway) == 1
    assert {f.token for f in fresh if f} != {first.token}
    assert len({f.token for f in fresh if f}) == 1


async def test_token_expired_on_a_rotating_install_refreshes_instead_of_disconnecting(
    gateway: GatewayServer,
) -> None:
    app = await _install_rotating(gateway)
    # The token was refreshed meanwhile (it is far from expiry): nothing to do, not death.
    assert await report_token_error(gateway.gateway, ACME, app.app_id, "token_expired") is False
    assert _refreshes(gateway) == 0
    # The stored token is at its end: it is refreshed, and the workspace stays active.
    (before,) = await installations_repo(gateway.gateway).list()
    await _expire_soon(gateway, minutes=-1)
    assert await report_token_error(gateway.gateway, ACME, app.app_id, "token_expired") is False
    assert _refreshes(gateway) == 1
    (after,) = await installations_repo(gateway.gateway).list()
    assert after.status == "active" and after.bot_token != before.bot_token
    # Once the refresh token is dead too, it is token death.
    gateway.emulator.state.refresh_tokens.clear()
    await _expire_soon(gateway, minutes=-1)
    assert await report_token_error(gateway.gateway, ACME, app.app_id, "token_expired") is True
    (dead,) = await installations_repo(gateway.gateway).list()
    assert dead.status == "disconnected"


async def test_token_expired_without_rotation_is_death(gateway: GatewayServer) -> None:
    app = await gateway.provision("plain")
    async with browser() as b:
        assert (await install_via_browser(b, gateway, ACME, ALICE)).status_code == 200
    assert await report_token_error(gateway.gateway, ACME, app.app_id, "token_expired") is True
    (inst,) = await installations_repo(gateway.gateway).list()
    assert (inst.status, inst.last_error) == ("disconnected", "token_expired")
