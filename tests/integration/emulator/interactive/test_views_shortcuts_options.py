"""Modals, shortcuts and select-menu suggestions over HTTP: payloads as Slack sends them,
response_action honoured, and values checked against the view."""

from __future__ import annotations

import httpx
from starlette.responses import JSONResponse

from slackbridge.emulator.ops import open_view
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import TestInstall
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL
from tests.integration.emulator.interactive.helpers import (
    BUTTONS,
    MODAL,
    answer,
    bot_message,
    open_modal,
)
from tests.integration.emulator.receiver import Receiver


async def test_view_submission_values_and_close(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    view = open_modal(state, inst)
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
    view = open_modal(state, inst)
    submit = {"view_id": view.id, "values": {"title": {"value": ""}}}
    receiver.respond = answer(
        JSONResponse({"response_action": "errors", "errors": {"title": "Required"}})
    )
    errors = (await emu.post("/_emulator/views/submit", json=submit)).json()
    assert errors["response_action"] == "errors" and errors["errors"] == {"title": "Required"}
    assert state.views[view.id].open is True

    updated_view = {**MODAL, "title": {"type": "plain_text", "text": "Step 2"}}
    receiver.respond = answer(JSONResponse({"response_action": "update", "view": updated_view}))
    updated = (await emu.post("/_emulator/views/submit", json=submit)).json()
    assert updated["view_id"] == view.id
    assert state.views[view.id].view["title"]["text"] == "Step 2"

    receiver.respond = answer(JSONResponse({"response_action": "push", "view": MODAL}))
    pushed = (await emu.post("/_emulator/views/submit", json=submit)).json()
    top = state.views[pushed["view_id"]]
    assert top.previous_view_id == view.id and top.root_view_id == view.id

    receiver.respond = answer(JSONResponse({"response_action": "clear"}))
    cleared = (await emu.post("/_emulator/views/submit", json={"view_id": top.id})).json()
    assert cleared["view_id"] is None
    assert not state.views[view.id].open and not top.open

    gone = await emu.post("/_emulator/views/submit", json=submit)
    assert gone.status_code == 404 and gone.json()["error"] == "view_not_found"


async def test_invalid_values_are_refused(
    emu: httpx.AsyncClient, inst: TestInstall, state: EmulatorState
) -> None:
    view = open_modal(state, inst)
    response = await emu.post(
        "/_emulator/views/submit", json={"view_id": view.id, "values": {"nope": {"x": "1"}}}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_values"


async def test_closing_a_modal_notifies_the_app(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    view = open_modal(state, inst)
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

    msg = bot_message(state, inst, BUTTONS)
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
    receiver.respond = answer(JSONResponse({"options": options}))
    msg = bot_message(state, inst, BUTTONS)
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
    modal = {**MODAL, "blocks": [*MODAL["blocks"], *BUTTONS]}
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
    msg = bot_message(state, inst, [{"type": "actions", "elements": [select, when]}])
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
        {**MODAL, "blocks": [{"type": "input", "block_id": "w", "element": when}]},
    )
    bad_time = await emu.post(
        "/_emulator/views/submit", json={"view_id": view.id, "values": {"w": {"when": ["x"]}}}
    )
    assert bad_time.status_code == 400 and bad_time.json()["error"] == "invalid_values"


async def test_an_external_pick_echoes_the_option_the_app_offered(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    bob = {"text": {"type": "plain_text", "text": "Bob Builder"}, "value": "U0ACME0002"}
    receiver.respond = answer(
        JSONResponse(
            {
                "option_groups": [
                    {"label": {"type": "plain_text", "text": "People"}, "options": [bob]}
                ]
            }
        )
    )
    msg = bot_message(state, inst, BUTTONS)
    base = {"team_id": ACME, "user_id": ALICE, "channel_id": GENERAL, "message_ts": msg.ts}
    never = await emu.post(
        "/_emulator/actions", json={**base, "action_id": "assignee", "value": "U0ACME0002"}
    )
    assert never.status_code == 400 and never.json()["error"] == "invalid_value"
    loaded = await emu.post(
        "/_emulator/options", json={**base, "action_id": "assignee", "value": "bo"}
    )
    assert loaded.json()["ok"] is True
    receiver.respond = answer(JSONResponse({}))
    picked = await emu.post(
        "/_emulator/actions", json={**base, "action_id": "assignee", "value": "U0ACME0002"}
    )
    assert picked.status_code == 200, picked.text
    (action,) = receiver.on("/interact")[0].payload()["actions"]
    assert action["type"] == "external_select"
    assert action["selected_option"] == bob
