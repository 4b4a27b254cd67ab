"""Slash commands and interactivity over HTTP: payloads as Slack sends them, answers honoured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.responses import JSONResponse, PlainTextResponse, Response

from slackbridge.emulator import create_app
from slackbridge.emulator.ops import open_view, post_message
from slackbridge.emulator.state import EmulatorState, Message, View
from slackbridge.emulator.testing import TestInstall, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL, STAFF
from tests.integration.emulator.receiver import RECEIVER_URL, Received, Receiver

_BUTTONS = [
    {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Approve?"}},
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "ticket-7",
            },
            {"type": "external_select", "action_id": "assignee", "min_query_length": 1},
        ],
    },
]
_MODAL = {
    "type": "modal",
    "callback_id": "new_ticket",
    "title": {"type": "plain_text", "text": "New ticket"},
    "submit": {"type": "plain_text", "text": "Create"},
    "notify_on_close": True,
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def inst(state: EmulatorState) -> TestInstall:
    app = make_test_app(
        state,
        interactivity_url=f"{RECEIVER_URL}/interact",
        slash_commands=[("/ticket", f"{RECEIVER_URL}/cmd")],
        options_load_url=f"{RECEIVER_URL}/options",
    )
    app.manifest["features"] = {
        "shortcuts": [
            {"type": "global", "callback_id": "new_ticket", "name": "New", "description": "d"},
            {"type": "message", "callback_id": "file_it", "name": "File", "description": "d"},
        ]
    }
    return install_app_for_tests(state, ACME, app=app, channels=["general"])


@pytest.fixture
async def emu(
    state: EmulatorState, receiver: Receiver, inst: TestInstall
) -> AsyncIterator[httpx.AsyncClient]:
    state.speed = 100.0
    state.ack_timeout = 10.0  # answers may take their time on a loaded machine
    emulator = create_app(state, delivery_transport=receiver.transport)
    async with emulator.router.lifespan_context(emulator):
        transport = httpx.ASGITransport(app=emulator)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu.test") as client:
            yield client


def _answer(response: Response) -> Any:
    async def respond(_: Received) -> Response:
        return response

    return respond


async def _command(emu: httpx.AsyncClient, text: str = "printer", **extra: Any) -> dict[str, Any]:
    body = {
        "team_id": ACME,
        "channel_id": GENERAL,
        "user_id": ALICE,
        "command": "/ticket",
        "text": text,
        **extra,
    }
    response = await emu.post("/_emulator/commands", json=body)
    result: dict[str, Any] = response.json()
    result["_status"] = response.status_code
    return result


def _bot_message(state: EmulatorState, inst: TestInstall, blocks: list[Any]) -> Message:
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    bot = state.workspaces[ACME].users[inst.bot_user_id]
    return post_message(state, channel, bot, text="Approve?", blocks=blocks)


def _modal(state: EmulatorState, inst: TestInstall) -> View:
    return open_view(state, inst.app.id, ACME, ALICE, dict(_MODAL))


async def test_slash_command_form_and_in_channel_answer(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    receiver.respond = _answer(JSONResponse({"response_type": "in_channel", "text": "Opened #7"}))
    result = await _command(emu)
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
    receiver.respond = _answer(response)
    result = await _command(emu)
    assert result["posted"]["response_type"] == "ephemeral"
    record = state.ephemerals[-1]
    assert record["user_id"] == ALICE and record["channel_id"] == GENERAL
    assert record["message"]["text"] == text


async def test_empty_answer_posts_nothing(emu: httpx.AsyncClient, state: EmulatorState) -> None:
    before = len(state.channel(ACME, GENERAL).messages)  # type: ignore[union-attr]
    result = await _command(emu)
    assert result["ok"] is True and result["response"] is None and "posted" not in result
    assert len(state.channel(ACME, GENERAL).messages) == before  # type: ignore[union-attr]


async def test_command_failures(
    emu: httpx.AsyncClient, receiver: Receiver, state: EmulatorState
) -> None:
    receiver.respond = _answer(Response(status_code=500))
    assert (await _command(emu))["error"] == "http_service_error"

    async def never(_: Received) -> Response:
        await asyncio.Event().wait()  # no answer at all: cancelled by the timeout
        return Response()

    state.ack_timeout = 0.2
    receiver.respond = never
    assert (await _command(emu))["error"] == "operation_timeout"
    state.ack_timeout = 10.0
    unknown = await _command(emu, command="/nope")
    assert unknown["_status"] == 404 and unknown["error"] == "command_not_found"
    private = await _command(emu, channel_id=STAFF, user_id="U0ACME0004")
    assert private["_status"] == 403 and private["error"] == "not_in_channel"
    bad = await emu.post("/_emulator/commands", content=b"[1]")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_json"


async def test_button_click_sends_block_actions(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    msg = _bot_message(state, inst, _BUTTONS)
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
    msg = _bot_message(state, inst, _BUTTONS)
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


async def test_view_submission_values_and_close(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    view = _modal(state, inst)
    response = await emu.post(
        "/_emulator/views/submit",
        json={"view_id": view.id, "values": {"title": {"value": "Printer on fire"}}},
    )
    result = response.json()
    payload = receiver.on("/interact")[0].payload()
    assert payload["type"] == "view_submission"
    assert payload["view"]["id"] == view.id and payload["view"]["callback_id"] == "new_ticket"
    assert payload["view"]["state"]["values"] == {
        "title": {"value": {"type": "plain_text_input", "value": "Printer on fire"}}
    }
    assert payload["user"]["id"] == ALICE and payload["trigger_id"]
    assert result["ok"] is True and result["response_action"] is None
    assert result["view_id"] is None and state.views[view.id].open is False


async def test_view_submission_response_actions(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    view = _modal(state, inst)
    submit = {"view_id": view.id, "values": {"title": {"value": ""}}}
    receiver.respond = _answer(
        JSONResponse({"response_action": "errors", "errors": {"title": "Required"}})
    )
    errors = (await emu.post("/_emulator/views/submit", json=submit)).json()
    assert errors["response_action"] == "errors" and errors["errors"] == {"title": "Required"}
    assert state.views[view.id].open is True

    updated_view = {**_MODAL, "title": {"type": "plain_text", "text": "Step 2"}}
    receiver.respond = _answer(JSONResponse({"response_action": "update", "view": updated_view}))
    updated = (await emu.post("/_emulator/views/submit", json=submit)).json()
    assert updated["view_id"] == view.id
    assert state.views[view.id].view["title"]["text"] == "Step 2"

    receiver.respond = _answer(JSONResponse({"response_action": "push", "view": _MODAL}))
    pushed = (await emu.post("/_emulator/views/submit", json=submit)).json()
    top = state.views[pushed["view_id"]]
    assert top.previous_view_id == view.id and top.root_view_id == view.id

    receiver.respond = _answer(JSONResponse({"response_action": "clear"}))
    cleared = (await emu.post("/_emulator/views/submit", json={"view_id": top.id})).json()
    assert cleared["view_id"] is None
    assert not state.views[view.id].open and not top.open

    gone = await emu.post("/_emulator/views/submit", json=submit)
    assert gone.status_code == 404 and gone.json()["error"] == "view_not_found"


async def test_invalid_values_are_refused(
    emu: httpx.AsyncClient, inst: TestInstall, state: EmulatorState
) -> None:
    view = _modal(state, inst)
    response = await emu.post(
        "/_emulator/views/submit", json={"view_id": view.id, "values": {"nope": {"x": "1"}}}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_values"


async def test_closing_a_modal_notifies_the_app(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    view = _modal(state, inst)
    result = (await emu.post("/_emulator/views/close", json={"view_id": view.id})).json()
    assert result == {"ok": True, "closed": [view.id], "notified": True, "status": 200}
    payload = receiver.on("/interact")[0].payload()
    assert payload["type"] == "view_closed" and payload["view"]["id"] == view.id
    assert payload["is_cleared"] is False


async def test_shortcuts(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    global_result = (
        await emu.post(
            "/_emulator/shortcuts",
            json={"team_id": ACME, "user_id": ALICE, "callback_id": "new_ticket"},
        )
    ).json()
    assert global_result["ok"] is True
    payload = receiver.on("/interact")[0].payload()
    assert payload["type"] == "shortcut" and payload["callback_id"] == "new_ticket"
    assert payload["trigger_id"] == global_result["trigger_id"]
    assert payload["user"]["id"] == ALICE and "response_url" not in payload

    msg = _bot_message(state, inst, _BUTTONS)
    await emu.post(
        "/_emulator/shortcuts",
        json={
            "team_id": ACME,
            "user_id": ALICE,
            "callback_id": "file_it",
            "channel_id": GENERAL,
            "message_ts": msg.ts,
        },
    )
    payload = receiver.on("/interact")[1].payload()
    assert payload["type"] == "message_action" and payload["message_ts"] == msg.ts
    assert payload["channel"]["id"] == GENERAL and payload["response_url"]
    missing = await emu.post(
        "/_emulator/shortcuts", json={"team_id": ACME, "user_id": ALICE, "callback_id": "zzz"}
    )
    assert missing.status_code == 404


async def test_block_suggestion_returns_the_apps_options(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    options = [{"text": {"type": "plain_text", "text": "Bob"}, "value": "U0ACME0002"}]
    receiver.respond = _answer(JSONResponse({"options": options}))
    msg = _bot_message(state, inst, _BUTTONS)
    result = (
        await emu.post(
            "/_emulator/options",
            json={
                "team_id": ACME,
                "user_id": ALICE,
                "channel_id": GENERAL,
                "message_ts": msg.ts,
                "action_id": "assignee",
                "value": "bo",
            },
        )
    ).json()
    assert result["ok"] is True and result["options"] == options
    (got,) = receiver.on("/options")
    payload = got.payload()
    assert payload["type"] == "block_suggestion" and payload["value"] == "bo"
    assert payload["action_id"] == "assignee" and payload["block_id"] == "decide"


async def test_clicking_a_button_in_a_modal(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    modal = {**_MODAL, "blocks": [*_MODAL["blocks"], *_BUTTONS]}
    view = open_view(state, inst.app.id, ACME, ALICE, modal)
    response = await emu.post(
        "/_emulator/actions",
        json={"team_id": ACME, "user_id": ALICE, "view_id": view.id, "action_id": "approve"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["response_url"] is None
    payload = receiver.on("/interact")[0].payload()
    assert payload["container"] == {"type": "view", "view_id": view.id}
    assert payload["view"]["id"] == view.id and "response_url" not in payload
    assert payload["actions"][0]["value"] == "ticket-7"


async def test_picks_that_an_element_cannot_take_are_refused(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    select = {
        "type": "static_select",
        "action_id": "priority",
        "options": [{"text": {"type": "plain_text", "text": "High"}, "value": "high"}],
    }
    when = {"type": "datetimepicker", "action_id": "when"}
    msg = _bot_message(state, inst, [{"type": "actions", "elements": [select, when]}])
    base = {"team_id": ACME, "channel_id": GENERAL, "user_id": ALICE, "message_ts": msg.ts}
    for action_id, value in [("priority", "low"), ("priority", {"x": 1}), ("when", ["soon"])]:
        refused = await emu.post(
            "/_emulator/actions", json={**base, "action_id": action_id, "value": value}
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_value"
    assert receiver.on("/interact") == []
    picked = await emu.post(
        "/_emulator/actions", json={**base, "action_id": "when", "value": "1700000000"}
    )
    assert picked.status_code == 200
    (action,) = receiver.on("/interact")[0].payload()["actions"]
    assert action["selected_date_time"] == 1700000000
    view = open_view(
        state,
        inst.app.id,
        ACME,
        ALICE,
        {**_MODAL, "blocks": [{"type": "input", "block_id": "w", "element": when}]},
    )
    bad_time = await emu.post(
        "/_emulator/views/submit", json={"view_id": view.id, "values": {"w": {"when": ["x"]}}}
    )
    assert bad_time.status_code == 400 and bad_time.json()["error"] == "invalid_values"


async def test_malformed_blocks_in_a_command_answer_post_nothing(
    emu: httpx.AsyncClient, receiver: Receiver, state: EmulatorState
) -> None:
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    before = len(channel.messages)
    receiver.respond = _answer(
        JSONResponse({"response_type": "in_channel", "text": "x", "blocks": [1, "a"]})
    )
    result = await _command(emu)
    assert result["ok"] is True
    assert result["posted"] == {"response_type": "in_channel", "error": "invalid_blocks"}
    receiver.respond = _answer(JSONResponse({"text": "x", "attachments": "nope"}))
    result = await _command(emu)
    assert result["posted"] == {"response_type": "ephemeral", "error": "invalid_attachments"}
    assert len(channel.messages) == before
