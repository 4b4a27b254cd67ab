"""Socket Mode: the same events over a websocket, surviving disconnects and dead connections."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.server import ServerConnection, serve

from slackbridge.settings import SlackAppConfig, WebhookEndpointConfig
from slackbridge.slack.workspaces.tokens import bot_token
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import (
    ACME,
    ALICE,
    GENERAL,
    SECRET,
    Bridge,
)
from tests.support.product import Product
from tests.support.servers import serve_asgi
from tests.support.stack import EmulatorServer, browser, install_via_browser


async def _socket_bridge(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product, **settings: Any
) -> Bridge:
    values: dict[str, Any] = {
        "webhook_url": product.hook_url,
        "webhook_secret": SECRET,
        "socket_ping_interval": 1.0,
        **settings,
    }
    gw = await gateway_factory(**values)
    app = await gw.provision(socket_mode=True)
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{emulator.url}/_emulator/apps/{app.app_id}/app_tokens")
    app = await gw.provision(socket_mode=True, app_token=answer.json()["token"])
    gw.gateway.wakeups.signal("socket_mode")
    async with browser() as client:
        page = await install_via_browser(client, gw, ACME, ALICE)
    assert page.status_code == 200, page.text
    creds = await bot_token(gw.gateway, ACME)
    bridge = Bridge(gw, app, product, emulator, creds.bot_user_id or "", creds.token)
    await _connections(bridge, 1)
    await bridge.invite_bot(GENERAL)
    return bridge


@pytest.fixture
async def socket_bridge(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> Bridge:
    return await _socket_bridge(gateway_factory, emulator, product)


async def _connections(bridge: Bridge, count: int, within: float = 15.0) -> list[dict[str, Any]]:
    """Wait until the app has exactly ``count`` open connections at the emulator."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while True:
            answer = await client.get(
                f"{bridge.emulator.url}/_emulator/socket/connections",
                params={"app_id": bridge.app.app_id},
            )
            found: list[dict[str, Any]] = answer.json()["connections"]
            if len(found) == count:
                return found
            assert time.monotonic() < deadline, f"{len(found)} connections, wanted {count}"
            await asyncio.sleep(0.05)


async def _ready(bridge: Bridge) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(bridge.gw.url + "/readyz")
    check: dict[str, Any] = answer.json()["checks"][f"socket_mode:{bridge.app.name}"]
    return check


async def _roundtrip(bridge: Bridge, text: str) -> None:
    posted = await bridge.act("messages", channel_id=GENERAL, user_id=ALICE, text=text)
    hook = await bridge.product.wait_for(
        lambda h: h.type == "message.posted" and h.data["ts"] == posted["ts"]
    )
    assert hook.data["text"] == text


async def test_events_and_commands_arrive_over_the_socket(socket_bridge: Bridge) -> None:
    bridge = socket_bridge
    assert (await _ready(bridge))["ok"] is True
    await _roundtrip(bridge, "over the socket")
    ran = await bridge.act(
        "commands", team_id=ACME, user_id=ALICE, channel_id=GENERAL, command="/bridge", text="hi"
    )
    assert ran["ok"] is True
    command = await bridge.product.wait_for(lambda h: h.type == "command.invoked")
    assert command.data["text"] == "hi"
    assert command.data["user"]["email"] == "alice@acme.test"
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{bridge.emulator.url}/_emulator/deliveries", params={"app_id": bridge.app.app_id}
        )
    transports = {d["transport"] for d in answer.json()["deliveries"]}
    assert transports == {"socket"}
    await bridge.settled()
    assert len(bridge.product.of_type("message.posted")) == 1
    # Slack's verification token rides along in Socket Mode payloads too: never stored.
    emulated = bridge.emulator.state.apps[bridge.app.app_id]
    token = emulated.verification_token.encode()
    files = sorted(Path(bridge.gw.settings.data_dir).glob("slackbridge.db*"))  # noqa: ASYNC240
    assert files
    for path in files:
        assert token not in path.read_bytes(), path.name


@pytest.mark.parametrize("reason", ["warning", "refresh_requested"])
async def test_moves_to_a_new_connection_on_disconnect(socket_bridge: Bridge, reason: str) -> None:
    bridge = socket_bridge
    (before,) = await _connections(bridge, 1)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{bridge.emulator.url}/_emulator/socket/disconnect",
            json={"app_id": bridge.app.app_id, "reason": reason},
        )
    assert answer.json()["disconnected"] == 1
    deadline = time.monotonic() + 15
    while True:  # the old connection is retired once the new one said hello
        (now,) = await _connections(bridge, 1)
        if now["id"] != before["id"]:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await _roundtrip(bridge, f"after {reason}")
    assert (await _ready(bridge))["ok"] is True


async def test_a_killed_connection_is_replaced(socket_bridge: Bridge) -> None:
    bridge = socket_bridge
    hub = bridge.emulator.server.server.config.app.app.state.outbound.hub
    (conn,) = hub.connections(bridge.app.app_id)
    await conn.websocket.close(code=1011)  # no disconnect message: the link just dies
    deadline = time.monotonic() + 15
    while True:
        found = hub.connections(bridge.app.app_id)
        if found and found[0].id != conn.id:
            break
        assert time.monotonic() < deadline, "no new connection"
        await asyncio.sleep(0.05)
    await _roundtrip(bridge, "after a crash")


@contextlib.asynccontextmanager
async def _silent_slack() -> AsyncIterator[tuple[str, list[float]]]:
    """A Slack whose websocket says hello and then never answers (no pongs either)."""
    opened: list[float] = []

    async def handler(websocket: ServerConnection) -> None:
        await websocket.send(orjson.dumps({"type": "hello", "num_connections": 1}).decode())
        websocket.transport.pause_reading()  # stop reading: pings go unanswered
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(websocket.wait_closed(), 2.0)
        websocket.transport.abort()  # the client gave up long ago; don't wait for a handshake

    async with serve(handler, "127.0.0.1", 0, ping_interval=None, close_timeout=0.1) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]

        async def connections_open(request: Request) -> JSONResponse:
            opened.append(time.monotonic())
            return JSONResponse({"ok": True, "url": f"ws://127.0.0.1:{port}/link/"})

        api = Starlette(
            routes=[Route("/api/apps.connections.open", connections_open, methods=["POST"])]
        )
        async with serve_asgi(api) as server:
            yield server.url + "/api/", opened


async def test_a_silent_connection_is_restarted(gateway_factory: GatewayFactory) -> None:
    async with _silent_slack() as (api_url, opened):
        gw = await gateway_factory(
            slack_api_url=api_url,
            socket_ping_interval=0.3,
            apps=[SlackAppConfig(name="quiet", socket_mode=True, app_token="xapp-1-A1-1-abc")],
        )
        deadline = time.monotonic() + 15
        while len(opened) < 3:  # each silent connection is given up and a new one opened
            assert time.monotonic() < deadline, f"only {len(opened)} connections opened"
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient() as client:
            ready = (await client.get(gw.url + "/readyz")).json()
        assert "socket_mode:quiet" in ready["checks"]


async def test_a_synchronous_answer_rides_on_the_ack(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> None:
    sync = WebhookEndpointConfig(
        url=product.sync_url, secret=SECRET, synchronous=True, event_types=["command.invoked"]
    )
    bridge = await _socket_bridge(
        gateway_factory, emulator, product, webhook_url=None, webhooks=[sync]
    )
    product.answers = {"command.invoked": {"response_type": "in_channel", "text": "on it"}}
    ran = await bridge.act(
        "commands", team_id=ACME, user_id=ALICE, channel_id=GENERAL, command="/bridge", text="x"
    )
    assert ran["response"] == {"response_type": "in_channel", "text": "on it"}
    await bridge.settled()
    assert len(product.of_type("command.invoked", path="/sync")) == 1
