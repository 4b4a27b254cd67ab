"""Socket Mode over a real websocket: hello, envelopes, acks, redelivery, disconnects, limits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from slackbridge.emulator import create_app
from slackbridge.emulator.socket_mode import MAX_CONNECTIONS
from slackbridge.emulator.state import AppToken, EmulatorState
from slackbridge.emulator.testing import TestInstall, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL, call
from tests.support.servers import RunningServer, serve_asgi

_TIMEOUT = 5.0


@pytest.fixture
def inst(state: EmulatorState) -> TestInstall:
    app = make_test_app(
        state,
        socket_mode=True,
        bot_events=["message.channels"],
        slash_commands=[("/ticket", "")],
    )
    return install_app_for_tests(state, ACME, app=app, channels=["general"])


@pytest.fixture
def app_token(state: EmulatorState, inst: TestInstall) -> str:
    token = f"xapp-1-{inst.app.id}-1-test"
    state.app_tokens[token] = AppToken(token, inst.app.id, ["connections:write"])
    return token


@pytest.fixture
async def server(state: EmulatorState, inst: TestInstall) -> AsyncIterator[RunningServer]:
    state.speed = 20.0  # retries come after 0 / 3 / 15 s
    state.ack_timeout = 10.0  # acks are awaited long: a loaded machine never misses one
    async with serve_asgi(create_app(state), shutdown_timeout=2) as running:
        yield running


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        yield client


async def _open(http: httpx.AsyncClient, app_token: str) -> ClientConnection:
    body = await call(http, "apps.connections.open", app_token)
    assert body["ok"] is True, body
    return await connect(body["url"], open_timeout=_TIMEOUT)


async def _recv(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), _TIMEOUT))
    return message


async def _say(http: httpx.AsyncClient, text: str) -> None:
    response = await http.post(
        "/_emulator/messages",
        json={"team_id": ACME, "channel_id": GENERAL, "user_id": ALICE, "text": text},
    )
    assert response.status_code == 200, response.text


@contextlib.asynccontextmanager
async def _connected(http: httpx.AsyncClient, app_token: str) -> AsyncIterator[ClientConnection]:
    ws = await _open(http, app_token)
    try:
        hello = await _recv(ws)
        assert hello["type"] == "hello"
        yield ws
    finally:
        await ws.close()


async def test_hello_event_and_ack(
    http: httpx.AsyncClient, app_token: str, inst: TestInstall
) -> None:
    ws = await _open(http, app_token)
    try:
        hello = await _recv(ws)
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": inst.app.id}
        assert set(hello["debug_info"]) == {"host", "build_number", "approximate_connection_time"}
        await _say(http, "over the socket")
        envelope = await _recv(ws)
        assert envelope["type"] == "events_api"
        assert envelope["accepts_response_payload"] is False
        assert envelope["retry_attempt"] == 0 and envelope["retry_reason"] == ""
        assert envelope["payload"]["type"] == "event_callback"
        assert envelope["payload"]["event"]["text"] == "over the socket"
        await ws.send(orjson.dumps({"envelope_id": envelope["envelope_id"]}).decode())
        listed = await http.get("/_emulator/deliveries", params={"app_id": inst.app.id})
        deadline = asyncio.get_running_loop().time() + _TIMEOUT
        while listed.json()["deliveries"][0]["status"] != "delivered":
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
            listed = await http.get("/_emulator/deliveries", params={"app_id": inst.app.id})
        assert listed.json()["deliveries"][0]["url"] == "socket"
    finally:
        await ws.close()


async def test_tickets_are_single_use(http: httpx.AsyncClient, app_token: str) -> None:
    body = await call(http, "apps.connections.open", app_token)
    ws = await connect(body["url"], open_timeout=_TIMEOUT)
    await ws.close()
    with pytest.raises(InvalidStatus) as refused:
        await connect(body["url"], open_timeout=_TIMEOUT)
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        await connect(body["url"].split("?")[0] + "?ticket=forged", open_timeout=_TIMEOUT)


async def test_unacked_envelope_is_redelivered_to_another_connection(
    http: httpx.AsyncClient, app_token: str, state: EmulatorState
) -> None:
    state.ack_timeout = 1.0  # the silent connection never acks: redelivered after a second
    async with _connected(http, app_token) as first, _connected(http, app_token) as second:
        await _say(http, "ack me")
        silent, envelope = await _first_message([first, second])
        other = second if silent is first else first
        retry = await _recv(other)
        assert retry["payload"]["event_id"] == envelope["payload"]["event_id"]
        assert retry["retry_attempt"] == 1 and retry["retry_reason"] == "timeout"
        assert retry["envelope_id"] != envelope["envelope_id"]
        await other.send(orjson.dumps({"envelope_id": retry["envelope_id"]}).decode())


async def _first_message(
    sockets: list[ClientConnection],
) -> tuple[ClientConnection, dict[str, Any]]:
    """The first message to arrive on any of ``sockets`` (cancelling a recv loses nothing)."""
    tasks = {asyncio.ensure_future(_recv(ws)): ws for ws in sockets}
    done, pending = await asyncio.wait(tasks, timeout=_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    assert done, "no envelope arrived"
    first = next(iter(done))
    return tasks[first], first.result()


async def test_envelopes_are_spread_round_robin(http: httpx.AsyncClient, app_token: str) -> None:
    async with _connected(http, app_token) as a, _connected(http, app_token) as b:
        counts = {id(a): 0, id(b): 0}
        for i in range(4):
            await _say(http, f"m{i}")
            ws, envelope = await _first_message([a, b])
            counts[id(ws)] += 1
            await ws.send(orjson.dumps({"envelope_id": envelope["envelope_id"]}).decode())
        assert counts == {id(a): 2, id(b): 2}


async def test_disconnect_reasons(
    http: httpx.AsyncClient, app_token: str, inst: TestInstall
) -> None:
    async with _connected(http, app_token) as ws:
        listed = (await http.get("/_emulator/socket/connections")).json()["connections"]
        assert len(listed) == 1 and listed[0]["app_id"] == inst.app.id
        warned = await http.post(
            "/_emulator/socket/disconnect", json={"app_id": inst.app.id, "reason": "warning"}
        )
        assert warned.json() == {"ok": True, "disconnected": 1}
        message = await _recv(ws)
        assert message["type"] == "disconnect" and message["reason"] == "warning"
        await http.post(
            "/_emulator/socket/disconnect",
            json={"app_id": inst.app.id, "reason": "refresh_requested"},
        )
        message = await _recv(ws)
        assert message["reason"] == "refresh_requested"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), _TIMEOUT)
    bad = await http.post(
        "/_emulator/socket/disconnect", json={"app_id": inst.app.id, "reason": "bored"}
    )
    assert bad.status_code == 400


async def test_eleventh_connection_is_turned_away(http: httpx.AsyncClient, app_token: str) -> None:
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            await stack.enter_async_context(_connected(http, app_token))
        extra = await _open(http, app_token)
        message = await _recv(extra)
        assert message == {
            "type": "disconnect",
            "reason": "too_many_websockets",
            "debug_info": message["debug_info"],
        }
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(extra.recv(), _TIMEOUT)
        listed = (await http.get("/_emulator/socket/connections")).json()["connections"]
        assert len(listed) == MAX_CONNECTIONS


async def test_slash_command_over_socket_mode(
    http: httpx.AsyncClient, app_token: str, state: EmulatorState
) -> None:
    async with _connected(http, app_token) as ws:
        run = asyncio.ensure_future(
            http.post(
                "/_emulator/commands",
                json={
                    "team_id": ACME,
                    "channel_id": GENERAL,
                    "user_id": ALICE,
                    "command": "/ticket",
                    "text": "printer",
                },
            )
        )
        envelope = await _recv(ws)
        assert envelope["type"] == "slash_commands"
        assert envelope["accepts_response_payload"] is True
        assert "retry_attempt" not in envelope
        assert envelope["payload"]["command"] == "/ticket"
        assert envelope["payload"]["text"] == "printer"
        answer = {"response_type": "in_channel", "text": "Ticket #1 opened"}
        await ws.send(
            orjson.dumps({"envelope_id": envelope["envelope_id"], "payload": answer}).decode()
        )
        result = (await asyncio.wait_for(run, _TIMEOUT)).json()
    assert result["ok"] is True and result["response"] == answer
    posted_ts = result["posted"]["ts"]
    channel = state.channel(ACME, GENERAL)
    assert channel is not None and channel.by_ts[posted_ts].text == "Ticket #1 opened"


async def test_command_without_connection_fails(http: httpx.AsyncClient) -> None:
    result = await http.post(
        "/_emulator/commands",
        json={
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": ALICE,
            "command": "/ticket",
            "text": "",
        },
    )
    assert result.status_code == 200
    assert result.json()["ok"] is False and result.json()["error"] == "dispatch_failed"


async def test_turning_socket_mode_off_disables_the_link(
    http: httpx.AsyncClient, app_token: str, inst: TestInstall, state: EmulatorState
) -> None:
    inst.app.manifest = {
        "display_information": {"name": "Test App"},
        "features": {"bot_user": {"display_name": "test"}},
        "settings": {"socket_mode_enabled": True},
    }
    async with _connected(http, app_token) as ws:
        manifest = {**inst.app.manifest, "settings": {"socket_mode_enabled": False}}
        body = await call(
            http,
            "apps.manifest.update",
            state.configuration_token,
            app_id=inst.app.id,
            manifest=orjson.dumps(manifest).decode(),
        )
        assert body["ok"] is True, body
        message = await _recv(ws)
        assert message["type"] == "disconnect" and message["reason"] == "link_disabled"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), _TIMEOUT)
    refused = await call(http, "apps.connections.open", app_token)
    assert refused["error"] == "socket_mode_not_enabled"


async def test_reset_closes_connections(http: httpx.AsyncClient, app_token: str) -> None:
    async with _connected(http, app_token) as ws:
        assert (await http.post("/_emulator/reset")).status_code == 200
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), _TIMEOUT)
    assert (await http.get("/_emulator/socket/connections")).json()["connections"] == []
