"""The store behind slack_sdk's AsyncInstallationStore, used by a real Bolt app."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.emulator.testing import install_app_for_tests
from slackbridge.slack.inbound.verify import compute_signature
from slackbridge.slack.workspaces.installation_store import SlackbridgeInstallationStore
from slackbridge.slack.workspaces.lifecycle import installations_repo
from slackbridge.slack.workspaces.tokens import bot_token
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.install.test_lifecycle import INSTALL_PARTS
from tests.support.stack import GatewayServer, browser, install_via_browser

ACME, ALICE, BOB = "T0ACME0001", "U0ACME0001", "U0ACME0002"
GLOBEX, ERIN = "T0GLBX0001", "U0GLBX0001"


@pytest.fixture
async def gw(gateway_factory: GatewayFactory) -> GatewayServer:
    return await gateway_factory(parts=INSTALL_PARTS)


async def _installed(gw: GatewayServer) -> Any:
    app = await gw.provision("bolt", user_scopes=["search:read"])
    async with browser() as b:
        page = await install_via_browser(b, gw, ACME, ALICE, app="bolt")
    assert page.status_code == 200, page.text
    return app


async def test_find_bot_and_installation(gw: GatewayServer) -> None:
    app = await _installed(gw)
    store = SlackbridgeInstallationStore(gw.gateway, "bolt")
    emulated = gw.emulator.state.installations[(app.app_id, ACME)]

    bot = await store.async_find_bot(enterprise_id=None, team_id=ACME)
    assert bot is not None
    assert (bot.bot_token, bot.bot_user_id, bot.bot_id) == (
        emulated.bot_token,
        emulated.bot_user_id,
        emulated.bot_id,
    )
    assert bot.app_id == app.app_id and bot.team_name == "Acme"
    assert bot.bot_refresh_token is None  # slackbridge rotates, never Bolt

    latest = await store.async_find_installation(enterprise_id=None, team_id=ACME)
    assert latest is not None
    assert latest.user_id == ALICE
    assert latest.user_token == emulated.user_tokens[ALICE]
    assert latest.bot_token == emulated.bot_token
    alice = await store.async_find_installation(enterprise_id=None, team_id=ACME, user_id=ALICE)
    assert alice is not None and alice.user_token == emulated.user_tokens[ALICE]
    assert (
        await store.async_find_installation(enterprise_id=None, team_id=ACME, user_id=BOB) is None
    )
    assert await store.async_find_bot(enterprise_id=None, team_id=GLOBEX) is None


async def test_save_find_and_delete(gw: GatewayServer) -> None:
    app = await gw.provision("bolt")
    emulated_app = gw.emulator.state.apps[app.app_id]
    grant = install_app_for_tests(
        gw.emulator.state, GLOBEX, app=emulated_app, user_scopes=["search:read"]
    )
    store = SlackbridgeInstallationStore(gw.gateway, "bolt")
    await store.async_save(
        Installation(
            app_id=app.app_id,
            team_id=GLOBEX,
            team_name="Globex",
            bot_token=grant.bot_token,
            bot_id=grant.bot_id,
            bot_user_id=grant.bot_user_id,
            bot_scopes=["chat:write"],
            user_id=ERIN,
            user_token=grant.user_token,
            user_scopes=["search:read"],
        )
    )
    (inst,) = await installations_repo(gw.gateway).list()
    assert (inst.team_id, inst.installer_user_id, inst.status) == (GLOBEX, ERIN, "active")
    assert (await bot_token(gw.gateway, GLOBEX)).token == grant.bot_token
    found = await store.async_find_installation(enterprise_id=None, team_id=GLOBEX, user_id=ERIN)
    assert found is not None and found.user_token == grant.user_token

    await store.async_delete_installation(enterprise_id=None, team_id=GLOBEX, user_id=ERIN)
    assert (
        await store.async_find_installation(enterprise_id=None, team_id=GLOBEX, user_id=ERIN)
        is None
    )
    assert await store.async_find_bot(enterprise_id=None, team_id=GLOBEX) is not None

    await store.async_delete_all(enterprise_id=None, team_id=GLOBEX)
    assert await store.async_find_bot(enterprise_id=None, team_id=GLOBEX) is None
    (inst,) = await installations_repo(gw.gateway).list()
    assert inst.status == "uninstalled" and inst.bot_token is None


async def test_delete_bot_uninstalls(gw: GatewayServer) -> None:
    await _installed(gw)
    store = SlackbridgeInstallationStore(gw.gateway, "bolt")
    await store.async_delete_bot(enterprise_id=None, team_id=ACME)
    assert await store.async_find_bot(enterprise_id=None, team_id=ACME) is None
    assert await store.async_find_installation(enterprise_id=None, team_id=ACME) is None


async def test_a_bolt_app_authorizes_events_from_the_store(gw: GatewayServer) -> None:
    app = await _installed(gw)
    emulated = gw.emulator.state.installations[(app.app_id, ACME)]
    seen: list[dict[str, Any]] = []
    done = asyncio.Event()
    bolt = AsyncApp(
        signing_secret=app.signing_secret,
        installation_store=SlackbridgeInstallationStore(gw.gateway, "bolt"),
        client=AsyncWebClient(base_url=gw.emulator.api_url),
    )

    @bolt.event("app_mention")
    async def mentioned(context: Any) -> None:
        seen.append(
            {
                "bot_token": context.bot_token,
                "bot_user_id": context.bot_user_id,
                "bot_id": context.bot_id,
                "user_token": context.user_token,
                "team_id": context.team_id,
            }
        )
        done.set()

    body = orjson.dumps(
        {
            "token": app.verification_token,
            "team_id": ACME,
            "api_app_id": app.app_id,
            "type": "event_callback",
            "event_id": "Ev0BOLT00001",
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": ALICE,
                "text": f"<@{emulated.bot_user_id}> hello",
                "ts": f"{time.time():.6f}",
                "channel": "C0ACME0GEN",
                "event_ts": f"{time.time():.6f}",
            },
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": ACME,
                    "user_id": emulated.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
    ).decode()
    ts = str(int(time.time()))
    response = await bolt.async_dispatch(
        AsyncBoltRequest(
            body=body,
            headers={
                "content-type": ["application/json"],
                "x-slack-request-timestamp": [ts],
                "x-slack-signature": [compute_signature(app.signing_secret, ts, body.encode())],
            },
        )
    )
    assert response.status == 200, response.body
    await asyncio.wait_for(done.wait(), 10)
    assert seen == [
        {
            "bot_token": emulated.bot_token,
            "bot_user_id": emulated.bot_user_id,
            "bot_id": emulated.bot_id,
            "user_token": emulated.user_tokens[ALICE],
            "team_id": ACME,
        }
    ]
    # Bolt checked the tokens it was given against Slack.
    assert gw.emulator.calls_to("auth.test")
