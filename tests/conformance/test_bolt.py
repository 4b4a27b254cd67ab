"""A real Bolt for Python app (AsyncApp behind uvicorn on a loopback port) against the emulator.

The app is provisioned from a manifest with the configuration token, subscribes to events once
Bolt answers the url_verification handshake (apps.manifest.update), installs itself through
Bolt's own OAuth flow (install path → the emulator's /oauth/v2/authorize → consent approved via
POST /_emulator/oauth/approve → Bolt's redirect path exchanges the code with oauth.v2.access),
and then handles an event, a slash command, a button action and a modal submission. Nothing in
Bolt or slack_sdk is changed except base URLs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
from tests.support.servers import bind_loopback, serve_asgi

pytestmark = pytest.mark.filterwarnings(SDK_BASIC_AUTH_WARNING)

BOT_SCOPES = ["app_mentions:read", "channels:history", "chat:write", "commands"]
BOT_EVENTS = ["message.channels", "app_mention"]

TICKET_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "ticket_modal",
    "title": {"type": "plain_text", "text": "New ticket"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title_input"},
        },
        {
            "type": "input",
            "block_id": "priority",
            "label": {"type": "plain_text", "text": "Priority"},
            "element": {
                "type": "static_select",
                "action_id": "priority_select",
                "options": [
                    {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                    {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                ],
            },
        },
    ],
}

APPROVE_BLOCKS: list[dict[str, Any]] = [
    {
        "type": "section",
        "block_id": "request",
        "text": {"type": "mrkdwn", "text": "Refund request for order 1234"},
        "accessory": {
            "type": "button",
            "action_id": "approve",
            "text": {"type": "plain_text", "text": "Approve"},
            "style": "primary",
            "value": "order-1234",
        },
    }
]


@dataclass
class BoltApp:
    """The Bolt app under test, its Slack app id and what its listeners saw."""

    url: str
    app_id: str
    client_id: str
    store: FileInstallationStore
    events: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    actions: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    submissions: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


def _manifest(url: str, *, with_events: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "interactivity": {"is_enabled": True, "request_url": f"{url}/slack/events"},
    }
    if with_events:
        settings["event_subscriptions"] = {
            "request_url": f"{url}/slack/events",
            "bot_events": BOT_EVENTS,
        }
    return {
        "display_information": {"name": "Helpdesk"},
        "features": {
            "bot_user": {"display_name": "helpdesk"},
            "slash_commands": [
                {"command": "/ticket", "url": f"{url}/slack/events", "description": "Tickets"}
            ],
        },
        "oauth_config": {
            "redirect_urls": [f"{url}/slack/oauth_redirect"],
            "scopes": {"bot": BOT_SCOPES},
        },
        "settings": settings,
    }


def _listeners(app: AsyncApp, bolt: BoltApp) -> None:
    @app.event("message")
    async def on_message(event: dict[str, Any]) -> None:
        await bolt.events.put(event)

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Any) -> None:
        await bolt.events.put(event)
        await say(text=f"Hi <@{event['user']}>, how can I help?", thread_ts=event["ts"])

    @app.command("/ticket")
    async def on_ticket(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        if command["text"].strip() == "new":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=TICKET_MODAL)
            return
        await ack(response_type="in_channel", text=f"Looking up ticket {command['text']}")

    @app.action("approve")
    async def on_approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")
        await bolt.actions.put(body)

    @app.view("ticket_modal")
    async def on_submit(ack: Any, view: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        values = view["state"]["values"]
        title = values["title"]["title_input"]["value"]
        if len(title) < 5:
            await ack(response_action="errors", errors={"title": "Use at least 5 characters"})
            return
        await ack()
        priority = values["priority"]["priority_select"]["selected_option"]["value"]
        await client.chat_postMessage(channel=GENERAL, text=f"Created {title} ({priority})")
        await bolt.submissions.put(body)


@pytest.fixture
async def bolt(emulator: Emulator, tmp_path: Path) -> AsyncIterator[BoltApp]:
    sock = bind_loopback()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = AsyncWebClient(token=emulator.state.configuration_token, base_url=emulator.api_url)
    created = await config.apps_manifest_create(manifest=_manifest(url, with_events=False))
    creds = created["credentials"]
    store = FileInstallationStore(base_dir=str(tmp_path / "installations"))
    app = AsyncApp(
        signing_secret=creds["signing_secret"],
        client=AsyncWebClient(base_url=emulator.api_url),
        oauth_settings=AsyncOAuthSettings(
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            scopes=BOT_SCOPES,
            redirect_uri=f"{url}/slack/oauth_redirect",
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
            install_page_rendering_enabled=False,
            authorization_url=f"{emulator.url}/oauth/v2/authorize",
            installation_store=store,
            state_store=FileOAuthStateStore(
                expiration_seconds=600, base_dir=str(tmp_path / "states")
            ),
        ),
    )
    harness = BoltApp(url=url, app_id=created["app_id"], client_id=creds["client_id"], store=store)
    _listeners(app, harness)
    handler = AsyncSlackRequestHandler(app)

    async def endpoint(request: Request) -> Response:
        response: Response = await handler.handle(request)
        return response

    web = Starlette(
        routes=[
            Route("/slack/events", endpoint, methods=["POST"]),
            Route("/slack/install", endpoint, methods=["GET"]),
            Route("/slack/oauth_redirect", endpoint, methods=["GET"]),
        ]
    )
    async with serve_asgi(web, sock=sock, lifespan="off", shutdown_timeout=3):
        # Now that Bolt answers url_verification, subscribe to events (Slack verifies the URL).
        updated = await config.apps_manifest_update(
            app_id=created["app_id"], manifest=_manifest(url, with_events=True)
        )
        assert updated["ok"] is True
        yield harness


async def install_through_bolt(emulator: Emulator, bolt: BoltApp) -> httpx.Response:
    """Bolt's install path, the consent approved as Alice in Acme, then Bolt's redirect path."""
    async with httpx.AsyncClient(base_url=bolt.url, timeout=10) as browser:
        start = await browser.get("/slack/install")
        assert start.status_code == 302, start.text
        authorize_url = start.headers["location"]
        assert authorize_url.startswith(f"{emulator.url}/oauth/v2/authorize?")
        # Bolt marks its state cookie Secure; a browser on this loopback origin sends it back.
        state_cookie = start.headers["set-cookie"].split(";", 1)[0]
        approved = await emulator.control_post(
            "oauth/approve",
            {"authorize_url": authorize_url, "team_id": ACME, "user_id": ALICE},
        )
        assert approved["redirect_url"].startswith(f"{bolt.url}/slack/oauth_redirect?code=")
        return await browser.get(approved["redirect_url"], headers={"Cookie": state_cookie})


@pytest.fixture
async def installed(emulator: Emulator, bolt: BoltApp) -> BoltApp:
    callback = await install_through_bolt(emulator, bolt)
    assert callback.status_code == 200, callback.text
    inst = emulator.state.installation(bolt.app_id, ACME)
    assert inst is not None
    await emulator.control_post(
        "conversations/invite",
        {"channel_id": GENERAL, "user_id": ALICE, "users": [inst.bot_user_id]},
    )
    return bolt


async def _messages(emulator: Emulator) -> list[dict[str, Any]]:
    answer = await emulator.control.get(f"/_emulator/conversations/{ACME}/{GENERAL}/messages")
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


async def test_install_through_bolts_oauth_flow(emulator: Emulator, bolt: BoltApp) -> None:
    callback = await install_through_bolt(emulator, bolt)
    assert callback.status_code == 200, callback.text
    assert "Thank you" in callback.text
    inst = emulator.state.installation(bolt.app_id, ACME)
    assert inst is not None and inst.status == "active" and inst.installer_user_id == ALICE
    saved = await bolt.store.async_find_installation(enterprise_id=None, team_id=ACME)
    assert saved is not None
    assert saved.bot_token == inst.bot_token and saved.bot_user_id == inst.bot_user_id
    assert saved.app_id == bolt.app_id and saved.user_id == ALICE
    assert sorted(saved.bot_scopes) == sorted(BOT_SCOPES)


async def test_install_cancelled_fails_in_bolt(emulator: Emulator, bolt: BoltApp) -> None:
    async with httpx.AsyncClient(base_url=bolt.url, timeout=10) as browser:
        start = await browser.get("/slack/install")
        cookie = start.headers["set-cookie"].split(";", 1)[0]
        denied = await emulator.control_post(
            "oauth/approve",
            {
                "authorize_url": start.headers["location"],
                "team_id": ACME,
                "user_id": ALICE,
                "deny": True,
            },
        )
        assert "error=access_denied" in denied["redirect_url"]
        callback = await browser.get(denied["redirect_url"], headers={"Cookie": cookie})
    assert callback.status_code == 200 and "access_denied" in callback.text
    assert emulator.state.installation(bolt.app_id, ACME) is None


async def test_event_reaches_bolt_listener(emulator: Emulator, installed: BoltApp) -> None:
    posted = await emulator.control_post(
        "messages",
        {"team_id": ACME, "channel_id": GENERAL, "user_id": BOB, "text": "anyone around?"},
    )
    event = await next_item(installed.events, "the message event in Bolt")
    assert (event["type"], event["user"], event["text"]) == ("message", BOB, "anyone around?")
    assert event["ts"] == posted["ts"] and event["channel"] == GENERAL


async def test_app_mention_and_say_in_thread(emulator: Emulator, installed: BoltApp) -> None:
    inst = emulator.state.installation(installed.app_id, ACME)
    assert inst is not None
    posted = await emulator.control_post(
        "messages",
        {
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": BOB,
            "text": f"<@{inst.bot_user_id}> I need help",
        },
    )
    seen = {(await next_item(installed.events, "mention events"))["type"] for _ in range(2)}
    assert seen == {"message", "app_mention"}

    async def reply() -> list[dict[str, Any]]:
        roots = [m for m in await _messages(emulator) if m["ts"] == posted["ts"]]
        return roots[0].get("replies", []) if roots else []

    (answer,) = await eventually(reply, "Bolt's say() reply in the thread")
    assert answer["text"] == f"Hi <@{BOB}>, how can I help?"
    assert answer["bot_id"] == inst.bot_id


async def test_slash_command_ack_with_response(emulator: Emulator, installed: BoltApp) -> None:
    answer = await emulator.control_post(
        "commands",
        {
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": BOB,
            "command": "/ticket",
            "text": "42",
        },
    )
    assert answer["ok"] is True and answer["status"] == 200
    assert answer["response"]["text"] == "Looking up ticket 42"
    assert answer["posted"]["response_type"] == "in_channel"
    texts = [m["text"] for m in await _messages(emulator)]
    assert "Looking up ticket 42" in texts


async def test_button_action_and_respond(emulator: Emulator, installed: BoltApp) -> None:
    inst = emulator.state.installation(installed.app_id, ACME)
    assert inst is not None and inst.bot_token is not None
    bot = AsyncWebClient(token=inst.bot_token, base_url=emulator.api_url)
    posted = await bot.chat_postMessage(channel=GENERAL, text="Refund?", blocks=APPROVE_BLOCKS)
    clicked = await emulator.control_post(
        "actions",
        {
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": BOB,
            "message_ts": posted["ts"],
            "action_id": "approve",
        },
    )
    assert clicked["ok"] is True and clicked["status"] == 200
    body = await next_item(installed.actions, "the action in Bolt")
    assert body["actions"][0]["value"] == "order-1234"
    assert body["message"]["ts"] == posted["ts"]

    async def replaced() -> dict[str, Any] | None:
        found = [m for m in await _messages(emulator) if m["ts"] == posted["ts"]]
        return found[0] if found and found[0]["text"].startswith("Approved") else None

    message = await eventually(replaced, "respond(replace_original=True) to replace the message")
    assert message["text"] == f"Approved by <@{BOB}>"


async def test_modal_from_command_with_validation_errors(
    emulator: Emulator, installed: BoltApp
) -> None:
    opened = await emulator.control_post(
        "commands",
        {
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": BOB,
            "command": "/ticket",
            "text": "new",
        },
    )
    assert opened["ok"] is True

    def modal() -> Any:
        views = [v for v in emulator.state.views.values() if v.open and v.user_id == BOB]
        return views[0] if views else None

    view = await eventually(modal, "views.open from the command's trigger_id")
    assert view.view["callback_id"] == "ticket_modal"

    rejected = await emulator.control_post(
        "views/submit",
        {
            "view_id": view.id,
            "user_id": BOB,
            "values": {"title": {"title_input": "Bug"}, "priority": {"priority_select": "high"}},
        },
    )
    assert rejected["response_action"] == "errors"
    assert rejected["errors"] == {"title": "Use at least 5 characters"}
    assert emulator.state.views[view.id].open

    accepted = await emulator.control_post(
        "views/submit",
        {
            "view_id": view.id,
            "user_id": BOB,
            "values": {
                "title": {"title_input": "Login is broken"},
                "priority": {"priority_select": "high"},
            },
        },
    )
    assert accepted["ok"] is True and accepted["view_id"] is None
    assert not emulator.state.views[view.id].open
    body = await next_item(installed.submissions, "the view submission in Bolt")
    assert body["view"]["id"] == view.id and body["user"]["id"] == BOB

    async def created() -> bool:
        return "Created Login is broken (high)" in [m["text"] for m in await _messages(emulator)]

    await eventually(created, "the message posted after the submission")
