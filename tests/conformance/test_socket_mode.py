"""slack_sdk's SocketModeClient (aiohttp) against the emulator: an app provisioned from a manifest
and installed through OAuth connects with its xapp- token via apps.connections.open, receives
events_api, slash_commands and interactive envelopes, acks them (with a response payload where
Slack accepts one) and moves to a new connection when the emulator sends ``disconnect``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.conformance.conftest import (
    ACME,
    ALICE,
    BOB,
    GENERAL,
    SDK_BASIC_AUTH_WARNING,
    Emulator,
    eventually,
    next_item,
)

pytestmark = pytest.mark.filterwarnings(SDK_BASIC_AUTH_WARNING)

REDIRECT = "https://tracker.example/slack/oauth/callback"
MANIFEST: dict[str, Any] = {
    "display_information": {"name": "Tracker"},
    "features": {
        "bot_user": {"display_name": "tracker"},
        "slash_commands": [{"command": "/track", "description": "Track something"}],
    },
    "oauth_config": {
        "redirect_urls": [REDIRECT],
        "scopes": {"bot": ["chat:write", "channels:history", "commands", "app_mentions:read"]},
    },
    "settings": {
        "event_subscriptions": {"bot_events": ["message.channels", "app_mention"]},
        "interactivity": {"is_enabled": True},
        "socket_mode_enabled": True,
    },
}


@dataclass
class SocketApp:
    app_id: str
    bot_token: str
    bot_user_id: str
    app_token: str


async def provision(emulator: Emulator) -> SocketApp:
    """Create the app from its manifest, install it through OAuth, get an app-level token."""
    config = AsyncWebClient(token=emulator.state.configuration_token, base_url=emulator.api_url)
    created = await config.apps_manifest_create(manifest=MANIFEST)
    creds = created["credentials"]
    approved = await emulator.control_post(
        "oauth/approve",
        {"authorize_url": created["oauth_authorize_url"], "team_id": ACME, "user_id": ALICE},
    )
    redirect = urlsplit(approved["redirect_url"])
    assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == REDIRECT
    code = parse_qs(redirect.query)["code"][0]
    oauth = AsyncWebClient(base_url=emulator.api_url)
    access = await oauth.oauth_v2_access(
        client_id=creds["client_id"], client_secret=creds["client_secret"], code=code
    )
    assert access["token_type"] == "bot" and access["team"]["id"] == ACME
    await emulator.control_post(
        "conversations/invite",
        {"channel_id": GENERAL, "user_id": ALICE, "users": [access["bot_user_id"]]},
    )
    token = await emulator.control_post(f"apps/{created['app_id']}/app_tokens", {})
    assert token["token"].startswith("xapp-")
    return SocketApp(
        app_id=created["app_id"],
        bot_token=access["access_token"],
        bot_user_id=access["bot_user_id"],
        app_token=token["token"],
    )


@pytest.fixture
async def socket_app(emulator: Emulator) -> SocketApp:
    return await provision(emulator)


@pytest.fixture
async def received(
    emulator: Emulator, socket_app: SocketApp
) -> AsyncIterator[asyncio.Queue[SocketModeRequest]]:
    """A connected SocketModeClient; every request it gets is acked and queued here."""
    queue: asyncio.Queue[SocketModeRequest] = asyncio.Queue()

    async def listener(client: SocketModeClient, req: SocketModeRequest) -> None:
        payload = None
        if req.type == "slash_commands":
            text = req.payload.get("text", "")
            payload = {"response_type": "in_channel", "text": f"Tracking {text}"}
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload=payload)
        )
        queue.put_nowait(req)

    client = SocketModeClient(
        app_token=socket_app.app_token,
        web_client=AsyncWebClient(base_url=emulator.api_url),
        ping_interval=1,
    )
    client.socket_mode_request_listeners.append(listener)
    await client.connect()
    try:
        await eventually(lambda: _connections(emulator, socket_app.app_id), "the connection")
        yield queue
    finally:
        await client.close()


async def _connections(emulator: Emulator, app_id: str) -> list[dict[str, Any]]:
    answer = await emulator.control.get("/_emulator/socket/connections", params={"app_id": app_id})
    connections: list[dict[str, Any]] = answer.json()["connections"]
    return connections


async def test_events_arrive_as_events_api_envelopes(
    emulator: Emulator, socket_app: SocketApp, received: asyncio.Queue[SocketModeRequest]
) -> None:
    posted = await emulator.control_post(
        "messages",
        {"team_id": ACME, "channel_id": GENERAL, "user_id": BOB, "text": "hello socket"},
    )
    req = await next_item(received, "the message event")
    assert req.type == "events_api"
    assert req.payload["type"] == "event_callback"
    assert req.payload["api_app_id"] == socket_app.app_id
    event = req.payload["event"]
    assert (event["type"], event["text"], event["user"]) == ("message", "hello socket", BOB)
    assert event["ts"] == posted["ts"] and event["channel"] == GENERAL
    assert req.retry_attempt in (None, 0)

    await emulator.control_post(
        "messages",
        {
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": BOB,
            "text": f"<@{socket_app.bot_user_id}> are you there?",
        },
    )
    types = {(await next_item(received, "mention events")).payload["event"]["type"]}
    types.add((await next_item(received, "mention events")).payload["event"]["type"])
    assert types == {"message", "app_mention"}


async def test_slash_command_ack_payload_is_the_response(
    emulator: Emulator, received: asyncio.Queue[SocketModeRequest]
) -> None:
    answer = await emulator.control_post(
        "commands",
        {
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": BOB,
            "command": "/track",
            "text": "bug 42",
        },
    )
    req = await next_item(received, "the slash command")
    assert req.type == "slash_commands"
    assert req.accepts_response_payload is True
    assert req.payload["command"] == "/track" and req.payload["text"] == "bug 42"
    assert req.payload["response_url"] and req.payload["trigger_id"]
    assert answer["ok"] is True
    assert answer["posted"]["response_type"] == "in_channel"
    history = await emulator.control.get(f"/_emulator/conversations/{ACME}/{GENERAL}/messages")
    texts = [m["text"] for m in history.json()["messages"]]
    assert "Tracking bug 42" in texts


async def test_button_click_arrives_as_interactive_envelope(
    emulator: Emulator, socket_app: SocketApp, received: asyncio.Queue[SocketModeRequest]
) -> None:
    bot = AsyncWebClient(token=socket_app.bot_token, base_url=emulator.api_url)
    blocks = [
        {
            "type": "actions",
            "block_id": "triage",
            "elements": [
                {
                    "type": "button",
                    "action_id": "claim",
                    "text": {"type": "plain_text", "text": "Claim"},
                    "value": "ticket-42",
                }
            ],
        }
    ]
    posted = await bot.chat_postMessage(channel=GENERAL, text="Ticket 42", blocks=blocks)
    clicked = await emulator.control_post(
        "actions",
        {
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": BOB,
            "message_ts": posted["ts"],
            "action_id": "claim",
        },
    )
    assert clicked["ok"] is True
    # The bot's own post also arrives, as a message event (Slack sends apps their own messages).
    seen = [await next_item(received, "the block action and the bot's own message")]
    seen.append(await next_item(received, "the block action and the bot's own message"))
    (own,) = [r for r in seen if r.type == "events_api"]
    assert own.payload["event"]["bot_id"]
    (req,) = [r for r in seen if r.type == "interactive"]
    assert req.payload["type"] == "block_actions"
    action = req.payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "claim",
        "triage",
        "ticket-42",
    )
    assert req.payload["user"]["id"] == BOB
    assert req.payload["container"]["message_ts"] == posted["ts"]


@pytest.mark.parametrize("reason", ["warning", "refresh_requested"])
async def test_client_moves_to_a_new_connection_on_disconnect(
    reason: str,
    emulator: Emulator,
    socket_app: SocketApp,
    received: asyncio.Queue[SocketModeRequest],
) -> None:
    (before,) = await _connections(emulator, socket_app.app_id)
    sent = await emulator.control_post(
        "socket/disconnect", {"app_id": socket_app.app_id, "reason": reason}
    )
    assert sent["disconnected"] == 1

    async def moved() -> list[dict[str, Any]] | None:
        now = await _connections(emulator, socket_app.app_id)
        # The SDK opens a new connection and closes the old one itself.
        return now if [c["id"] for c in now] not in ([], [before["id"]]) and len(now) == 1 else None

    (after,) = await eventually(moved, "the client to reconnect")
    assert after["id"] != before["id"]

    await emulator.control_post(
        "messages",
        {"team_id": ACME, "channel_id": GENERAL, "user_id": BOB, "text": "still there?"},
    )
    req = await next_item(received, "an event on the new connection")
    assert req.payload["event"]["text"] == "still there?"
