"""Declared commands through the emulator: slash commands, mentions and DMs become
command.matched; near misses get the gateway's ephemeral help; bots and edits don't run them."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from slackbridge.client import CommandMatched, InvalidRequestError, Slackbridge, WebhookEvent
from slackbridge.commands.answer import send_help
from slackbridge.commands.route import HelpReply
from slackbridge.emulator.ops_channels import open_mpim
from slackbridge.emulator.state import User
from slackbridge.settings import CommandConfig, WebhookEndpointConfig
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import (
    ACME,
    ALICE,
    BOB,
    GENERAL,
    SECRET,
    STAFF,
    Bridge,
    start_bridge,
)
from tests.support.product import Hook, Product
from tests.support.stack import EmulatorServer

API_KEY = "sbk_test_" + "c" * 32
COMMANDS = [
    CommandConfig(
        name="add",
        pattern="add {title:text} [due {due:date}]",
        description="Add a task",
        examples=['add "Write release notes" due friday'],
        slash="/bridge",
        via=["slash", "mention", "dm"],
    ),
    CommandConfig(name="done", pattern="done {id:number}", examples=["done 3"]),
]


async def _bridge(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product, **settings: Any
) -> Bridge:
    return await start_bridge(
        gateway_factory, emulator, product, commands=COMMANDS, api_keys=API_KEY, **settings
    )


@pytest.fixture
async def commands_bridge(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> Bridge:
    return await _bridge(gateway_factory, emulator, product)


def _matched(ts: str | None = None, **fields: Any) -> Any:
    def match(hook: Hook) -> bool:
        if hook.type != "command.matched" or (ts is not None and hook.data["ts"] != ts):
            return False
        return all(hook.data.get(k) == v for k, v in fields.items())

    return match


async def _ephemeral(
    bridge: Bridge, user_id: str, contains: str, within: float = 15.0
) -> dict[str, Any]:
    """The ephemeral message to ``user_id`` whose text holds ``contains`` (waiting for it)."""
    deadline = time.monotonic() + within
    while True:
        for record in bridge.emulator.state.ephemerals:
            if record["user_id"] == user_id and contains in record["text"]:
                found: dict[str, Any] = record
                return found
        assert time.monotonic() < deadline, [e["text"] for e in bridge.emulator.state.ephemerals]
        await asyncio.sleep(0.05)


async def _dm_channel(bridge: Bridge) -> str:
    opened = await bridge.bot("conversations.open", users=ALICE)
    return str(opened["channel"]["id"])


async def test_slash_commands_mentions_and_dms_become_command_matched(
    commands_bridge: Bridge,
) -> None:
    bridge, product = commands_bridge, commands_bridge.product
    ran = await bridge.act(
        "commands",
        team_id=ACME,
        user_id=ALICE,
        channel_id=GENERAL,
        command="/bridge",
        text="add “Write release notes” due 2026-12-24",
    )
    assert ran["ok"] is True
    slash = await product.wait_for(_matched(source="slash"))
    event = WebhookEvent.model_validate(slash.json)
    matched = CommandMatched.from_event(event)
    assert matched is not None
    assert matched.command == "add"
    assert matched.arguments == {"title": "Write release notes", "due": "2026-12-24"}
    assert matched.slash_command == "/bridge"
    assert matched.response_url == ran["response_url"]
    assert matched.trigger_id
    assert (matched.team_id, matched.channel_id, matched.channel_kind) == (ACME, GENERAL, "public")
    assert matched.user_id == ALICE and matched.user_email == "alice@acme.test"

    mention = await bridge.act(
        "messages", channel_id=GENERAL, user_id=ALICE, text=f"<@{bridge.bot_user_id}> done #3"
    )
    in_channel = await product.wait_for(_matched(mention["ts"]))
    assert in_channel.data["source"] == "mention"
    assert in_channel.data["command"] == "done"
    assert in_channel.data["arguments"] == {"id": 3}
    assert in_channel.data["text"] == "done #3"

    await bridge.invite_bot(STAFF)
    private = await bridge.act(
        "messages",
        channel_id=STAFF,
        user_id=BOB,
        text=f"<@{bridge.bot_user_id}> add 'staff offsite' due tomorrow",
        thread_ts=None,
    )
    in_private = await product.wait_for(_matched(private["ts"]))
    assert in_private.data["channel"]["kind"] == "private"
    assert in_private.data["arguments"]["title"] == "staff offsite"
    assert in_private.data["user"]["id"] == BOB

    group, _new = open_mpim(bridge.emulator.state, ACME, [ALICE, BOB, bridge.bot_user_id])
    in_group = await bridge.act(
        "messages", channel_id=group.id, user_id=ALICE, text=f"<@{bridge.bot_user_id}> done 4"
    )
    in_mpim = await product.wait_for(_matched(in_group["ts"]))
    # Slack's app_mention carries no channel_type: a group DM's G… id reads as private.
    assert in_mpim.data["channel"]["id"] == group.id
    assert in_mpim.data["arguments"] == {"id": 4}

    dm_id = await _dm_channel(bridge)
    direct = await bridge.act("messages", channel_id=dm_id, user_id=ALICE, text="add milk")
    in_dm = await product.wait_for(_matched(direct["ts"]))
    assert in_dm.data["source"] == "dm"
    assert in_dm.data["channel"] == {"id": dm_id, "kind": "im"}
    assert in_dm.data["arguments"] == {"title": "milk", "due": None}

    await bridge.settled()
    routed = {slash.data["ts"], mention["ts"], private["ts"], in_group["ts"], direct["ts"]}
    # Replaced, not sent twice: no command.invoked, app.mentioned, or DM message.posted.
    assert not product.of_type("command.invoked")
    assert not [h for h in product.of_type("app.mentioned") if h.data["ts"] in routed]
    assert not [h for h in product.of_type("message.posted") if h.data["ts"] == direct["ts"]]
    assert len(product.of_type("command.matched")) == 5


async def test_near_misses_get_ephemeral_help_and_no_webhook(commands_bridge: Bridge) -> None:
    bridge, product = commands_bridge, commands_bridge.product
    typo = await bridge.act(
        "messages", channel_id=GENERAL, user_id=ALICE, text=f"<@{bridge.bot_user_id}> ad milk"
    )
    help_ = await _ephemeral(bridge, ALICE, "Did you mean")
    assert help_["channel_id"] == GENERAL
    assert f"<@{bridge.bot_user_id}> `add`" in help_["text"]
    assert "e.g. <@" in help_["text"] and '`add "Write release notes" due friday`' in help_["text"]

    await bridge.act(
        "commands", team_id=ACME, user_id=BOB, channel_id=GENERAL, command="/bridge", text="dnoe"
    )
    slash_help = await _ephemeral(bridge, BOB, "Here is what I can do")
    assert "`/bridge add {title} [due {due}]` — Add a task" in slash_help["text"]
    assert "done" not in slash_help["text"]  # a mention/DM command isn't offered on /bridge

    dm_id = await _dm_channel(bridge)
    await bridge.act("messages", channel_id=dm_id, user_id=ALICE, text="done soon")
    malformed = await _ephemeral(bridge, ALICE, "That doesn't fit `done`")
    assert "id should be a number, not “soon”" in malformed["text"]
    assert malformed["channel_id"] == dm_id

    await bridge.act("messages", channel_id=dm_id, user_id=ALICE, text="help")
    await _ephemeral(bridge, ALICE, "*Commands*")

    await bridge.settled()
    assert not product.of_type("command.matched")
    assert not product.of_type("command.invoked")
    assert not [h for h in product.of_type("app.mentioned") if h.data["ts"] == typo["ts"]]
    assert not [h for h in product.of_type("message.posted") if h.data["channel"]["id"] == dm_id]


async def test_bot_messages_and_edits_do_not_run_commands(commands_bridge: Bridge) -> None:
    bridge, product = commands_bridge, commands_bridge.product
    dm_id = await _dm_channel(bridge)
    own = await bridge.bot("chat.postMessage", channel=dm_id, text="add from the bot")
    posted = await bridge.act("messages", channel_id=dm_id, user_id=ALICE, text="add milk")
    await product.wait_for(_matched(posted["ts"]))
    await bridge.act("messages/edit", channel_id=dm_id, ts=posted["ts"], text="add eggs")
    edited = await product.wait_for(lambda h: h.type == "message.edited")
    assert edited.data["ts"] == posted["ts"] and edited.data["text"] == "add eggs"

    # Another app's bot mentions ours: passed on as a mention, not run, not answered.
    workspace = bridge.emulator.state.workspace(ACME)
    robot = User(
        id="U0ROBOT001",
        team_id=ACME,
        name="deploybot",
        real_name="Deploy Bot",
        is_bot=True,
        bot_id="B0ROBOT001",
        app_id="A0ROBOT001",
    )
    workspace.users[robot.id] = robot
    workspace.channels[GENERAL].members.append(robot.id)
    foreign = await bridge.act(
        "messages", channel_id=GENERAL, user_id=robot.id, text=f"<@{bridge.bot_user_id}> add x"
    )
    mentioned = await product.wait_for(
        lambda h: h.type == "app.mentioned" and h.data["ts"] == foreign["ts"]
    )
    assert mentioned.data["user"]["id"] == robot.id

    await bridge.settled()
    assert len(product.of_type("command.matched")) == 1
    assert not [h for h in product.accepted() if h.data.get("ts") == own["ts"]]
    assert not bridge.emulator.state.ephemerals  # the bot's message got no help either


async def test_an_edit_runs_again_when_configured(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> None:
    bridge = await _bridge(gateway_factory, emulator, product, commands_rerun_on_edit=True)
    dm_id = await _dm_channel(bridge)
    posted = await bridge.act("messages", channel_id=dm_id, user_id=ALICE, text="add milk")
    first = await product.wait_for(_matched(posted["ts"]))
    await bridge.act("messages/edit", channel_id=dm_id, ts=posted["ts"], text="add eggs")
    again = await product.wait_for(_matched(posted["ts"], edited=True))
    assert first.data["arguments"]["title"] == "milk"
    assert again.data["arguments"]["title"] == "eggs"
    assert again.webhook_id != first.webhook_id


async def test_commands_are_declared_through_the_api(commands_bridge: Bridge) -> None:
    bridge, product = commands_bridge, commands_bridge.product
    async with Slackbridge(bridge.gw.url, API_KEY) as sb:
        listed = await sb.commands.list()
        assert [(c.name, c.source) for c in listed] == [("add", "config"), ("done", "config")]
        assert listed[0].via == ["slash", "mention", "dm"] and listed[0].slash == "/bridge"

        with pytest.raises(InvalidRequestError) as bad:
            await sb.commands.replace(
                [{"name": "snooze", "pattern": "snooze {id:number} {for:dur}"}]
            )
        assert bad.value.code == "invalid_command"
        (detail,) = bad.value.details or []
        assert detail["field"] == "commands[0].pattern"
        assert detail["column"] == len("snooze {id:number} {for:") + 1
        assert "unknown argument type 'dur'" in detail["message"]

        with pytest.raises(InvalidRequestError) as taken:
            await sb.commands.replace([{"name": "done", "pattern": "finish {id:number}"}])
        assert "declared in the configuration file" in str(taken.value)

        replaced = await sb.commands.replace(
            [{"name": "snooze", "pattern": "snooze {id:number} [until {until:date}]"}]
        )
        assert [(c.name, c.source) for c in replaced] == [
            ("add", "config"),
            ("done", "config"),
            ("snooze", "api"),
        ]
    mention = await bridge.act(
        "messages",
        channel_id=GENERAL,
        user_id=ALICE,
        text=f"<@{bridge.bot_user_id}> snooze 4 until 2027-01-02",
    )
    snoozed = await product.wait_for(_matched(mention["ts"]))
    assert snoozed.data["arguments"] == {"id": 4, "until": "2027-01-02"}


async def test_a_synchronous_endpoint_answers_a_matched_slash_command_inline(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> None:
    endpoints = [
        WebhookEndpointConfig(url=product.hook_url, secret=SECRET),
        WebhookEndpointConfig(
            url=product.sync_url, secret=SECRET, synchronous=True, event_types=["command.matched"]
        ),
    ]
    bridge = await _bridge(gateway_factory, emulator, product, webhook_url=None, webhooks=endpoints)
    product.answers = {"command.matched": {"response_type": "ephemeral", "text": "Added task 7"}}
    ran = await bridge.act(
        "commands", team_id=ACME, user_id=ALICE, channel_id=GENERAL, command="/bridge", text="add x"
    )
    assert ran["response"] == {"response_type": "ephemeral", "text": "Added task 7"}
    (called,) = [h for h in product.accepted("/sync") if h.type == "command.matched"]
    assert called.data["arguments"] == {"title": "x", "due": None}
    await bridge.settled()
    (normal,) = product.of_type("command.matched")
    assert normal.webhook_id != called.webhook_id  # each endpoint has its own ids
    assert normal.json == called.json
    assert len([h for h in product.accepted("/sync") if h.type == "command.matched"]) == 1


async def test_a_payload_processed_twice_is_answered_once(commands_bridge: Bridge) -> None:
    reply = HelpReply(
        team_id=ACME,
        app_id=commands_bridge.app.app_id,
        channel_id=GENERAL,
        user_id=ALICE,
        thread_ts=None,
        response_url=None,
        text="help",
        key="Ev0SAME",
    )
    gateway = commands_bridge.gw.gateway
    assert await send_help(gateway, [reply]) == 1
    assert await send_help(gateway, [reply]) == 0  # a redelivery or a crashed worker's retry
    await _ephemeral(commands_bridge, ALICE, "help")
    await commands_bridge.settled()
    assert len([e for e in commands_bridge.emulator.state.ephemerals if e["text"] == "help"]) == 1


async def test_dates_are_read_in_each_persons_time_zone(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> None:
    # 25 hours apart: at any moment these two people are on different days.
    zones = {ALICE: "Pacific/Kiritimati", BOB: "Pacific/Pago_Pago"}
    for user_id, tz in zones.items():
        emulator.state.workspace(ACME).users[user_id].tz = tz
    bridge = await _bridge(gateway_factory, emulator, product, user_cache_ttl=0)
    dues: dict[str, str] = {}
    for user_id, tz in zones.items():
        posted = await bridge.act(
            "messages",
            channel_id=GENERAL,
            user_id=user_id,
            text=f"<@{bridge.bot_user_id}> add standup due today",
        )
        matched = await product.wait_for(_matched(posted["ts"]))
        sent_on = datetime.fromtimestamp(float(posted["ts"]), ZoneInfo(tz)).date()
        assert matched.data["arguments"]["due"] == sent_on.isoformat()
        dues[user_id] = matched.data["arguments"]["due"]
    assert dues[ALICE] != dues[BOB]
