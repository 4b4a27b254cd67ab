"""Synchronous endpoints answer Slack inline; when late, the async delivery takes over."""

from __future__ import annotations

from typing import Any

import pytest

from slackbridge.settings import WebhookEndpointConfig
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import (
    ACME,
    ALICE,
    BOB,
    GENERAL,
    SECRET,
    Bridge,
    start_bridge,
)
from tests.integration.gateway.ingress.test_event_kinds import _blocks, _modal
from tests.support.product import Product
from tests.support.stack import EmulatorServer

SYNC_TYPES = ["interaction.block_suggestion", "interaction.view_submission", "command.invoked"]


@pytest.fixture
async def sync_bridge(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> Bridge:
    endpoints = [
        WebhookEndpointConfig(url=product.hook_url, secret=SECRET),
        WebhookEndpointConfig(
            url=product.sync_url, secret=SECRET, synchronous=True, event_types=SYNC_TYPES
        ),
    ]
    return await start_bridge(
        gateway_factory, emulator, product, webhook_url=None, webhooks=endpoints
    )


def _on(path: str, product: Product, type_: str) -> list[Any]:
    return [h for h in product.accepted(path) if h.type == type_]


async def test_options_modal_errors_and_command_reply_are_relayed(sync_bridge: Bridge) -> None:
    bridge, product = sync_bridge, sync_bridge.product
    carol = {"text": {"type": "plain_text", "text": "Carol"}, "value": "U0ACME0003"}
    product.answers = {
        "interaction.block_suggestion": {"options": [carol]},
        "interaction.view_submission": {
            "response_action": "errors",
            "errors": {"subject": "Say a bit more"},
        },
        "command.invoked": {"response_type": "in_channel", "text": "Ticket T-7 created"},
    }
    message = await bridge.bot("chat.postMessage", channel=GENERAL, text="T-42", blocks=_blocks())
    options = await bridge.act(
        "options",
        team_id=ACME,
        user_id=BOB,
        action_id="assignee",
        channel_id=GENERAL,
        message_ts=message["ts"],
        value="car",
    )
    assert options["options"] == [carol]
    (called,) = _on("/sync", product, "interaction.block_suggestion")
    assert called.headers["slackbridge-synchronous"] == "true"
    assert called.data["value"] == "car"

    ran = await bridge.act(
        "commands", team_id=ACME, user_id=ALICE, channel_id=GENERAL, command="/bridge", text="x"
    )
    assert ran["response"] == {"response_type": "in_channel", "text": "Ticket T-7 created"}
    (command,) = _on("/sync", product, "command.invoked")
    opened = await bridge.bot("views.open", trigger_id=command.data["trigger_id"], view=_modal())
    submitted = await bridge.act(
        "views/submit", view_id=opened["view"]["id"], values={"subject": {"value": "?"}}
    )
    assert submitted["response_action"] == "errors"
    assert submitted["errors"] == {"subject": "Say a bit more"}

    await bridge.settled()
    # The synchronous endpoint got each webhook once: the answered call counts as delivered.
    for type_ in SYNC_TYPES:
        assert len(_on("/sync", product, type_)) == 1
        # The other endpoint gets them the normal way, with the same body.
        (normal,) = _on("/hooks", product, type_)
        assert normal.json == _on("/sync", product, type_)[0].json


async def test_a_late_answer_falls_back_to_normal_delivery(sync_bridge: Bridge) -> None:
    bridge, product = sync_bridge, sync_bridge.product
    product.answers = {"command.invoked": {"text": "too late"}}
    product.sync_delay = 3.0  # past the 2.5 s deadline
    bridge.emulator.state.ack_timeout = 10.0  # however busy the machine, Slack hears the ack
    ran = await bridge.act(
        "commands", team_id=ACME, user_id=ALICE, channel_id=GENERAL, command="/bridge", text="y"
    )
    assert ran["ok"] is True and ran["status"] == 200
    assert ran["response"] is None  # Slack got the plain empty ack in time
    # The late call (answered after the deadline), then the normal delivery: same webhook-id.
    late, delivered = await product.wait_count(
        2, lambda h: h.type == "command.invoked", within=20, path="/sync"
    )
    assert late.webhook_id == delivered.webhook_id  # the product can dedupe
    assert late.headers["slackbridge-synchronous"] == "true"
    assert "slackbridge-synchronous" not in delivered.headers
    await product.wait_for(lambda h: h.type == "command.invoked")  # the other endpoint too
