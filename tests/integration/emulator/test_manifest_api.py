"""apps.manifest.* with the configuration token, the url_verification handshake, app tokens."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.responses import JSONResponse, PlainTextResponse, Response

from slackbridge.emulator import create_app
from slackbridge.emulator.state import EmulatorState
from tests.integration.emulator.helpers import call
from tests.integration.emulator.receiver import RECEIVER_URL, Received, Receiver

EVENTS = f"{RECEIVER_URL}/slack/events"


def _manifest(**settings: Any) -> dict[str, Any]:
    return {
        "display_information": {"name": "Tracker"},
        "features": {
            "bot_user": {"display_name": "tracker"},
            "slash_commands": [
                {"command": "/track", "url": f"{RECEIVER_URL}/cmd", "description": "Track"}
            ],
        },
        "oauth_config": {
            "redirect_urls": ["https://product.test/slack/oauth/callback"],
            "scopes": {
                "bot": ["chat:write", "channels:history", "commands"],
                "user": ["search:read"],
            },
        },
        "settings": {
            "event_subscriptions": {"request_url": EVENTS, "bot_events": ["message.channels"]},
            "interactivity": {"is_enabled": True, "request_url": f"{RECEIVER_URL}/interact"},
            **settings,
        },
    }


async def _echo(got: Received) -> Response:
    return PlainTextResponse(got.json()["challenge"])


@pytest.fixture
def receiver() -> Receiver:
    r = Receiver()
    r.respond = _echo
    return r


@pytest.fixture
async def emu(state: EmulatorState, receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    emulator = create_app(state, delivery_transport=receiver.transport)
    async with emulator.router.lifespan_context(emulator):
        transport = httpx.ASGITransport(app=emulator)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu.test") as client:
            yield client


async def _create(client: httpx.AsyncClient, state: EmulatorState, manifest: Any) -> dict[str, Any]:
    return await call(
        client, "apps.manifest.create", state.configuration_token, manifest=json.dumps(manifest)
    )


async def test_create_runs_the_handshake_and_returns_credentials(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    body = await _create(emu, state, _manifest())
    assert body["ok"] is True, body
    app = state.apps[body["app_id"]]
    creds = body["credentials"]
    assert creds == {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "verification_token": app.verification_token,
        "signing_secret": app.signing_secret,
    }
    authorize = urlsplit(body["oauth_authorize_url"])
    assert authorize.path == "/oauth/v2/authorize"
    assert parse_qs(authorize.query)["scope"] == ["chat:write,channels:history,commands"]
    assert app.slash_commands[0].command == "/track"
    (handshake,) = receiver.received
    payload = handshake.json()
    assert payload["type"] == "url_verification" and payload["token"] == app.verification_token
    assert SignatureVerifier(app.signing_secret).is_valid_request(handshake.body, handshake.headers)
    exported = await call(emu, "apps.manifest.export", state.configuration_token, app_id=app.id)
    assert exported["manifest"]["display_information"]["name"] == "Tracker"


async def test_json_challenge_answers_also_verify(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    async def as_json(got: Received) -> Response:
        return JSONResponse({"challenge": got.json()["challenge"]})

    receiver.respond = as_json
    assert (await _create(emu, state, _manifest()))["ok"] is True


@pytest.mark.parametrize(
    "answer", [PlainTextResponse("wrong"), Response(status_code=500), PlainTextResponse("")]
)
async def test_failed_handshake_is_an_invalid_manifest(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver, answer: Response
) -> None:
    async def respond(_: Received) -> Response:
        return answer

    receiver.respond = respond
    body = await _create(emu, state, _manifest())
    assert body["ok"] is False and body["error"] == "invalid_manifest"
    (error,) = body["errors"]
    assert error["pointer"] == "/settings/event_subscriptions/request_url"
    assert "challenge" in error["message"]
    assert state.apps == {}


async def test_socket_mode_apps_skip_the_handshake(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    manifest = _manifest(socket_mode_enabled=True)
    del manifest["settings"]["event_subscriptions"]["request_url"]
    body = await _create(emu, state, manifest)
    assert body["ok"] is True and receiver.received == []
    assert state.apps[body["app_id"]].socket_mode is True


async def test_wrong_configuration_token(emu: httpx.AsyncClient, state: EmulatorState) -> None:
    body = await call(emu, "apps.manifest.create", "xoxe.xoxp-1-nope", manifest="{}")
    assert body["error"] == "invalid_auth"
    assert (await call(emu, "apps.manifest.create", None, manifest="{}"))["error"] == "not_authed"


async def test_invalid_manifest_lists_errors(emu: httpx.AsyncClient, state: EmulatorState) -> None:
    bad = _manifest()
    del bad["settings"]["interactivity"]["request_url"]
    body = await _create(emu, state, bad)
    assert body["error"] == "invalid_manifest"
    assert body["errors"] == [
        {"message": "Interactivity requires a Request URL", "pointer": "/settings/interactivity"}
    ]
    validated = await call(
        emu, "apps.manifest.validate", state.configuration_token, manifest=json.dumps(bad)
    )
    assert validated["error"] == "invalid_manifest"
    fine = await call(
        emu, "apps.manifest.validate", state.configuration_token, manifest=json.dumps(_manifest())
    )
    assert fine == {"ok": True}


async def test_features_need_their_scope_and_interactivity(
    emu: httpx.AsyncClient, state: EmulatorState
) -> None:
    token = state.configuration_token
    no_scope = _manifest()
    no_scope["oauth_config"]["scopes"]["bot"].remove("commands")
    shortcut = {
        "name": "New ticket",
        "type": "global",
        "callback_id": "new_ticket",
        "description": "Open a ticket",
    }
    no_interactivity = _manifest()
    no_interactivity["features"]["shortcuts"] = [shortcut]
    no_interactivity["settings"]["interactivity"] = {"is_enabled": False}
    for method in ("apps.manifest.validate", "apps.manifest.create"):
        body = await call(emu, method, token, manifest=json.dumps(no_scope))
        assert body["error"] == "invalid_manifest"
        assert [e["pointer"] for e in body["errors"]] == ["/oauth_config/scopes/bot"]
        assert "commands" in body["errors"][0]["message"]
        body = await call(emu, method, token, manifest=json.dumps(no_interactivity))
        assert body["error"] == "invalid_manifest"
        assert [e["pointer"] for e in body["errors"]] == ["/settings/interactivity"]
    options_off = _manifest()
    options_off["settings"]["interactivity"] = {
        "is_enabled": False,
        "message_menu_options_url": f"{RECEIVER_URL}/options",
    }
    body = await call(emu, "apps.manifest.validate", token, manifest=json.dumps(options_off))
    assert [e["pointer"] for e in body["errors"]] == ["/settings/interactivity"]
    created = await _create(emu, state, _manifest())
    updated = await call(
        emu,
        "apps.manifest.update",
        token,
        app_id=created["app_id"],
        manifest=json.dumps(no_interactivity),
    )
    assert updated["error"] == "invalid_manifest"
    with_shortcut = _manifest()
    with_shortcut["features"]["shortcuts"] = [shortcut]
    fine = await call(emu, "apps.manifest.validate", token, manifest=json.dumps(with_shortcut))
    assert fine == {"ok": True}


async def test_update_and_delete(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    created = await _create(emu, state, _manifest())
    app_id = created["app_id"]
    changed = _manifest()
    changed["oauth_config"]["scopes"]["bot"].append("reactions:read")
    changed["settings"]["event_subscriptions"]["request_url"] = f"{RECEIVER_URL}/v2/events"
    token = state.configuration_token
    updated = await call(
        emu, "apps.manifest.update", token, app_id=app_id, manifest=json.dumps(changed)
    )
    assert updated == {"ok": True, "app_id": app_id, "permissions_updated": True}
    assert receiver.received[-1].path == "/v2/events"
    assert state.apps[app_id].event_request_url == f"{RECEIVER_URL}/v2/events"
    unknown = await call(emu, "apps.manifest.update", token, app_id="A0NOPE", manifest="{}")
    assert unknown["error"] == "invalid_app_id"
    assert (await call(emu, "apps.manifest.delete", token, app_id=app_id)) == {"ok": True}
    assert app_id not in state.apps


async def test_app_tokens_and_connections_open(
    emu: httpx.AsyncClient, state: EmulatorState
) -> None:
    manifest = _manifest(socket_mode_enabled=True)
    app_id = (await _create(emu, state, manifest))["app_id"]
    response = await emu.post(f"/_emulator/apps/{app_id}/app_tokens", json={})
    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith(f"xapp-1-{app_id}-") and response.json()["scopes"] == [
        "connections:write"
    ]
    assert token in state.apps[app_id].app_tokens
    opened = await call(emu, "apps.connections.open", token)
    url = urlsplit(opened["url"])
    assert url.scheme == "ws" and url.netloc == "emu.test" and url.path == "/link/"
    query = parse_qs(url.query)
    assert query["app_id"] == [app_id] and query["ticket"][0]
    # A bot token is not an app-level token.
    assert (await call(emu, "apps.connections.open", "xoxb-nope"))["error"] == "invalid_auth"
    # Slack takes the app-level token only in the Authorization header.
    as_param = await emu.post("/api/apps.connections.open", data={"token": token})
    assert as_param.json() == {"ok": False, "error": "not_authed"}
    missing = await emu.post("/_emulator/apps/A0NOPE/app_tokens", json={})
    assert missing.status_code == 404


async def test_connections_open_needs_socket_mode(
    emu: httpx.AsyncClient, state: EmulatorState
) -> None:
    app_id = (await _create(emu, state, _manifest()))["app_id"]
    token = (await emu.post(f"/_emulator/apps/{app_id}/app_tokens", json={})).json()["token"]
    body = await call(emu, "apps.connections.open", token)
    assert body["error"] == "socket_mode_not_enabled"
