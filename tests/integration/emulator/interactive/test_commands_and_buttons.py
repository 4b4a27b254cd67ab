"""Slash commands and message buttons over HTTP: payloads as Slack sends them, answers honoured."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.responses import JSONResponse, PlainTextResponse, Response

from slackbridge.emulator.ops import post_message
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import TestInstall
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL, STAFF
from tests.integration.emulator.interactive.helpers import (
    BUTTONS,
    answer,
    bot_message,
    command,
)
from tests.integration.emulator.receiver import Received, Receiver


async def test_slash_command_form_and_in_channel_answer(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    receiver.respond = answer(JSONResponse({"response_type": "in_channel", "text": "Opened #7"}))
    result = await command(emu)
    (got,) = receiver.on("/cmd")
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(inst.app.signing_secret).is_valid_request(got.body, got.headers)
    form = got.form()
    assert set(form) == {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert form["command"] == "/ticket" and "command=%2Fticket" in got.body.decode()
    assert form["team_domain"] == "acme" and form["channel_name"] == "general"
    assert form["user_name"] == "alice" and form["text"] == "printer"
    assert form["token"] == inst.app.verification_token and form["api_app_id"] == inst.app.id
    assert form["is_enterprise_install"] == "false"
    assert result["ok"] is True and result["status"] == 200
    assert result["trigger_id"] == form["trigger_id"]
    assert result["response_url"] == form["response_url"]
    posted = state.channel(ACME, GENERAL).by_ts[result["posted"]["ts"]]  # type: ignore[union-attr]
    assert posted.text == "Opened #7" and posted.bot_id == inst.bot_id


@pytest.mark.parametrize(
    ("response", "text"),
    [
        (JSONResponse({"text": "only you"}), "only you"),
        (PlainTextResponse("plain words"), "plain words"),
    ],
)
async def test_ephemeral_answers(
    emu: httpx.AsyncClient, receiver: Receiver, state: EmulatorState, response: Response, text: str
) -> None:
    receiver.respond = answer(response)
    result = await command(emu)
    assert result["posted"]["response_type"] == "ephemeral"
    record = state.ephemerals[-1]
    assert record["user_id"] == ALICE and record["channel_id"] == GENERAL
    assert record["message"]["text"] == text


async def test_empty_answer_posts_nothing(emu: httpx.AsyncClient, state: EmulatorState) -> None:
    before = len(state.channel(ACME, GENERAL).messages)  # type: ignore[union-attr]
    result = await command(emu)
    assert result["ok"] is True and result["response"] is None and "posted" not in result
    assert len(state.channel(ACME, GENERAL).messages) == before  # type: ignore[union-attr]


async def test_command_failures(
    emu: httpx.AsyncClient, receiver: Receiver, state: EmulatorState
) -> None:
    receiver.respond = answer(Response(status_code=500))
    assert (await command(emu))["error"] == "http_service_error"

    async def never(_: Received) -> Response:
        await asyncio.Event().wait()  # no answer at all: cancelled by the timeout
        return Response()

    state.ack_timeout = 0.2
    receiver.respond = never
    assert (await command(emu))["error"] == "operation_timeout"
    state.ack_timeout = 10.0
    unknown = await command(emu, command="/nope")
    assert unknown["_status"] == 404 and unknown["error"] == "command_not_found"
    private = await command(emu, channel_id=STAFF, user_id="U0ACME0004")
    assert private["_status"] == 403 and private["error"] == "not_in_channel"
    bad = await emu.post("/_emulator/commands", content=b"[1]")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_json"


async def test_button_click_sends_block_actions(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    msg = bot_message(state, inst, BUTTONS)
    response = await emu.post(
        "/_emulator/actions",
        json={
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": ALICE,
            "message_ts": msg.ts,
            "action_id": "approve",
        },
    )
    assert response.status_code == 200, response.text
    result = response.json()
    (got,) = receiver.on("/interact")
    assert SignatureVerifier(inst.app.signing_secret).is_valid_request(got.body, got.headers)
    payload = got.payload()
    assert payload["type"] == "block_actions"
    assert payload["user"] == {"id": ALICE, "username": "alice", "name": "alice", "team_id": ACME}
    assert payload["api_app_id"] == inst.app.id and payload["team"]["id"] == ACME
    assert payload["container"] == {
        "type": "message",
        "message_ts": msg.ts,
        "channel_id": GENERAL,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": GENERAL, "name": "general"}
    assert payload["message"]["ts"] == msg.ts and payload["message"]["bot_id"] == inst.bot_id
    (action,) = payload["actions"]
    assert action["action_id"] == "approve" and action["block_id"] == "decide"
    assert action["value"] == "ticket-7" and action["type"] == "button"
    assert payload["trigger_id"] == result["trigger_id"]
    assert payload["response_url"] == result["response_url"]
    # The response_url can replace the clicked message.
    replaced = await emu.post(
        result["response_url"], json={"replace_original": True, "text": "Approved by Alice"}
    )
    assert replaced.status_code == 200 and replaced.text == "ok"
    assert state.channel(ACME, GENERAL).by_ts[msg.ts].text == "Approved by Alice"  # type: ignore[union-attr]


async def test_action_errors(
    emu: httpx.AsyncClient, inst: TestInstall, state: EmulatorState
) -> None:
    msg = bot_message(state, inst, BUTTONS)
    base = {"team_id": ACME, "channel_id": GENERAL, "user_id": ALICE, "message_ts": msg.ts}
    missing = await emu.post("/_emulator/actions", json={**base, "action_id": "nope"})
    assert missing.status_code == 404 and missing.json()["error"] == "action_not_found"
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    human = post_message(state, channel, state.workspaces[ACME].users[ALICE], text="hi")
    not_app = await emu.post(
        "/_emulator/actions", json={**base, "message_ts": human.ts, "action_id": "approve"}
    )
    assert not_app.status_code == 400 and not_app.json()["error"] == "not_an_app_message"


async def test_malformed_blocks_in_a_command_answer_post_nothing(
    emu: httpx.AsyncClient, receiver: Receiver, state: EmulatorState
) -> None:
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    before = len(channel.messages)
    receiver.respond = answer(
        JSONResponse({"response_type": "in_channel", "text": "x", "blocks": [1, "a"]})
    )
    result = await command(emu)
    assert result["ok"] is True
    assert result["posted"] == {"response_type": "in_channel", "error": "invalid_blocks"}
    receiver.respond = answer(JSONResponse({"text": "x", "attachments": "nope"}))
    result = await command(emu)
    assert result["posted"] == {"response_type": "ephemeral", "error": "invalid_attachments"}
    assert len(channel.messages) == before
