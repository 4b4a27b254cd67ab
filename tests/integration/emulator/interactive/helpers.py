"""What the interactivity tests share: a message with buttons, a modal, and helpers to answer
as the app, run a command, and post or open those as the app."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.responses import Response

from slackbridge.emulator.ops import open_view, post_message
from slackbridge.emulator.state import EmulatorState, Message, View
from slackbridge.emulator.testing import TestInstall
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL
from tests.integration.emulator.receiver import Received

__all__ = ["BUTTONS", "MODAL", "answer", "bot_message", "command", "open_modal"]

BUTTONS: list[dict[str, Any]] = [
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
MODAL: dict[str, Any] = {
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


def answer(response: Response) -> Any:
    async def respond(_: Received) -> Response:
        return response

    return respond


async def command(emu: httpx.AsyncClient, text: str = "printer", **extra: Any) -> dict[str, Any]:
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


def bot_message(state: EmulatorState, inst: TestInstall, blocks: list[Any]) -> Message:
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    bot = state.workspaces[ACME].users[inst.bot_user_id]
    return post_message(state, channel, bot, text="Approve?", blocks=blocks)


def open_modal(state: EmulatorState, inst: TestInstall) -> View:
    return open_view(state, inst.app.id, ACME, ALICE, dict(MODAL))
