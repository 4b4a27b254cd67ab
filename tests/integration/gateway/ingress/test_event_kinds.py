"""Every kind of thing Slack sends reaches the product once, as a signed webhook."""

from __future__ import annotations

from collections import Counter
from typing import Any

from slackbridge.product.signing import verify_webhook
from slackbridge.settings import WebhookEndpointConfig
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


def _assert_once_and_signed(hooks: list[Hook]) -> None:
    ids = Counter(h.webhook_id for h in hooks)
    assert [i for i, n in ids.items() if n > 1] == []
    for hook in hooks:
        verify_webhook(SECRET, hook.headers, hook.body)  # raises if not signed right
        assert hook.headers["content-type"] == "application/json"


def _at(ts: str, type_: str) -> Any:
    return lambda h: h.type == type_ and h.data.get("ts") == ts


async def test_messages_edits_deletes_reactions_and_mentions(bridge: Bridge) -> None:
    product = bridge.product
    root = await bridge.act("messages", channel_id=GENERAL, user_id=ALICE, text="need help")
    posted = await product.wait_for(_at(root["ts"], "message.posted"))
    assert posted.data["text"] == "need help"
    assert posted.data["channel"] == {"id": GENERAL, "kind": "public"}
    assert posted.data["workspace"]["team_id"] == ACME
    assert posted.data["workspace"]["app_id"] == bridge.app.app_id
    # The user was looked up (users.info) and the app may read emails.
    assert posted.data["user"]["id"] == ALICE
    assert posted.data["user"]["name"] == "alice"
    assert posted.data["user"]["real_name"] == "Alice Archer"
    assert posted.data["user"]["email"] == "alice@acme.test"
    assert posted.data["raw"]["event"]["ts"] == root["ts"]
    assert "token" not in posted.data["raw"]

    reply = await bridge.act(
        "messages", channel_id=GENERAL, user_id=BOB, text="on it", thread_ts=root["ts"]
    )
    threaded = await product.wait_for(_at(reply["ts"], "message.posted"))
    assert threaded.data["thread_ts"] == root["ts"]
    assert threaded.data["user"]["name"] == "bob"

    await bridge.act("messages/edit", channel_id=GENERAL, ts=root["ts"], text="need help now")
    edited = await product.wait_for(_at(root["ts"], "message.edited"))
    assert edited.data["text"] == "need help now"
    assert edited.data["previous_text"] == "need help"

    await bridge.act("reactions", channel_id=GENERAL, user_id=BOB, ts=root["ts"], name="eyes")
    added = await product.wait_for(_at(root["ts"], "reaction.added"))
    assert added.data["reaction"] == "eyes"
    assert added.data["user"]["id"] == BOB
    await bridge.act(
        "reactions", channel_id=GENERAL, user_id=BOB, ts=root["ts"], name="eyes", remove=True
    )
    removed = await product.wait_for(_at(root["ts"], "reaction.removed"))
    assert removed.data["reaction"] == "eyes"

    await bridge.act("messages/delete", channel_id=GENERAL, ts=reply["ts"], user_id=BOB)
    deleted = await product.wait_for(_at(reply["ts"], "message.deleted"))
    assert deleted.data["thread_ts"] == root["ts"]

    mention = await bridge.act(
        "messages", channel_id=GENERAL, user_id=ALICE, text=f"<@{bridge.bot_user_id}> status?"
    )
    mentioned = await product.wait_for(_at(mention["ts"], "app.mentioned"))
    assert mentioned.data["text"].endswith("status?")

    # A private channel and a DM with the bot carry their kind.
    await bridge.invite_bot(STAFF)
    private = await bridge.act("messages", channel_id=STAFF, user_id=ALICE, text="staff only")
    in_private = await product.wait_for(_at(private["ts"], "message.posted"))
    assert in_private.data["channel"]["kind"] == "private"
    dm = await bridge.bot("conversations.open", users=ALICE)
    dm_id = dm["channel"]["id"]
    direct = await bridge.act("messages", channel_id=dm_id, user_id=ALICE, text="psst")
    in_dm = await product.wait_for(_at(direct["ts"], "message.posted"))
    assert in_dm.data["channel"] == {"id": dm_id, "kind": "im"}

    shared = await bridge.act(
        "files",
        channel_id=GENERAL,
        user_id=BOB,
        filename="invoice.txt",
        content="total: 42",
        initial_comment="the invoice",
    )
    with_file = await product.wait_for(_at(shared["ts"], "message.posted"))
    assert with_file.data["subtype"] == "file_share"
    (file,) = with_file.data["files"]
    assert file["id"] == shared["file"]["id"]
    assert file["name"] == "invoice.txt"
    assert file["url_private"]

    # The bot's own message is not sent back (loop guard); a later message proves it was seen.
    own = await bridge.bot("chat.postMessage", channel=GENERAL, text="from the product")
    after = await bridge.act("messages", channel_id=GENERAL, user_id=ALICE, text="thanks")
    await product.wait_for(_at(after["ts"], "message.posted"))
    assert not [h for h in product.accepted() if h.data.get("ts") == own["ts"]]

    hooks = product.accepted()
    _assert_once_and_signed(hooks)
    counted = Counter(h.type for h in hooks if h.type != "workspace.installed")
    assert counted == {
        "message.posted": 7,  # root, reply, mention, private, DM, file share, "thanks"
        "message.edited": 1,
        "message.deleted": 1,
        "reaction.added": 1,
        "reaction.removed": 1,
        "app.mentioned": 1,
    }


def _blocks() -> list[dict[str, Any]]:
    return [
        {
            "type": "actions",
            "block_id": "ticket",
            "elements": [
                {
                    "type": "button",
                    "action_id": "close_ticket",
                    "text": {"type": "plain_text", "text": "Close"},
                    "value": "T-42",
                },
                {
                    "type": "external_select",
                    "action_id": "assignee",
                    "placeholder": {"type": "plain_text", "text": "Assign"},
                },
            ],
        }
    ]


def _modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "new_ticket",
        "notify_on_close": True,
        "private_metadata": "acct-7",
        "title": {"type": "plain_text", "text": "New ticket"},
        "submit": {"type": "plain_text", "text": "Create"},
        "blocks": [
            {
                "type": "input",
                "block_id": "subject",
                "label": {"type": "plain_text", "text": "Subject"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }


async def test_commands_actions_modals_shortcuts_and_options(bridge: Bridge) -> None:
    product = bridge.product
    ran = await bridge.act(
        "commands", team_id=ACME, user_id=ALICE, channel_id=GENERAL, command="/bridge", text="new"
    )
    assert ran["ok"] is True
    assert ran["status"] == 200
    command = await product.wait_for(lambda h: h.type == "command.invoked")
    assert command.data["command"] == "/bridge"
    assert command.data["text"] == "new"
    assert command.data["channel"]["id"] == GENERAL
    assert command.data["user"]["email"] == "alice@acme.test"
    assert command.data["response_url"] == ran["response_url"]

    opened = await bridge.bot("views.open", trigger_id=command.data["trigger_id"], view=_modal())
    view_id = opened["view"]["id"]
    submitted = await bridge.act(
        "views/submit", view_id=view_id, values={"subject": {"value": "Printer on fire"}}
    )
    assert submitted["ok"] is True
    submission = await product.wait_for(lambda h: h.type == "interaction.view_submission")
    assert submission.data["view"]["callback_id"] == "new_ticket"
    assert submission.data["view"]["private_metadata"] == "acct-7"
    values = submission.data["view"]["values"]
    assert values["subject"]["value"]["value"] == "Printer on fire"

    message = await bridge.bot("chat.postMessage", channel=GENERAL, text="T-42", blocks=_blocks())
    clicked = await bridge.act(
        "actions",
        team_id=ACME,
        user_id=BOB,
        action_id="close_ticket",
        channel_id=GENERAL,
        message_ts=message["ts"],
    )
    assert clicked["ok"] is True
    action = await product.wait_for(lambda h: h.type == "interaction.block_action")
    assert action.data["actions"][0]["action_id"] == "close_ticket"
    assert action.data["actions"][0]["value"] == "T-42"
    assert action.data["message_ts"] == message["ts"]
    assert action.data["user"]["id"] == BOB

    options = await bridge.act(
        "options",
        team_id=ACME,
        user_id=BOB,
        action_id="assignee",
        channel_id=GENERAL,
        message_ts=message["ts"],
        value="car",
    )
    assert options["ok"] is True  # acked (no synchronous endpoint: nothing to offer)
    suggestion = await product.wait_for(lambda h: h.type == "interaction.block_suggestion")
    assert suggestion.data["value"] == "car"

    app = bridge.emulator.state.apps[bridge.app.app_id]
    app.manifest.setdefault("features", {})["shortcuts"] = [
        {"name": "New ticket", "type": "global", "callback_id": "quick_ticket", "description": "x"}
    ]
    shortcut = await bridge.act(
        "shortcuts", team_id=ACME, user_id=ALICE, callback_id="quick_ticket", type="shortcut"
    )
    assert shortcut["ok"] is True
    short = await product.wait_for(lambda h: h.type == "interaction.shortcut")
    assert short.data["callback_id"] == "quick_ticket"
    # Slack's shortcut payload names no app: the app whose secret signed it is filled in.
    assert short.data["workspace"]["app_id"] == bridge.app.app_id

    second = await bridge.bot("views.open", trigger_id=short.data["trigger_id"], view=_modal())
    closed = await bridge.act("views/close", view_id=second["view"]["id"])
    assert closed["notified"] is True
    gone = await product.wait_for(lambda h: h.type == "interaction.view_closed")
    assert gone.data["view"]["id"] == second["view"]["id"]

    hooks = product.accepted()
    _assert_once_and_signed(hooks)
    counted = Counter(h.type for h in hooks if h.type.startswith(("command.", "interaction.")))
    assert counted == {
        "command.invoked": 1,
        "interaction.view_submission": 1,
        "interaction.block_action": 1,
        "interaction.block_suggestion": 1,
        "interaction.shortcut": 1,
        "interaction.view_closed": 1,
    }


async def test_workspace_installed_and_uninstalled_reach_the_product(bridge: Bridge) -> None:
    installed = await bridge.product.wait_for(lambda h: h.type == "workspace.installed")
    assert installed.data["workspace"]["team_id"] == ACME
    await bridge.act(f"apps/{bridge.app.app_id}/uninstall", team_id=ACME)
    gone = await bridge.product.wait_for(lambda h: h.type == "workspace.uninstalled")
    assert gone.data["workspace"]["team_id"] == ACME
    # Slack sends tokens_revoked (the bot token) and app_uninstalled: the first one uninstalls.
    assert gone.data["reason"] in ("tokens_revoked", "app_uninstalled")
    await bridge.settled()
    assert len(bridge.product.of_type("workspace.uninstalled")) == 1
    _assert_once_and_signed(bridge.product.accepted())


async def test_endpoints_get_only_the_types_they_ask_for(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> None:
    raw = WebhookEndpointConfig(
        url=product.url + "/sync", secret=SECRET, event_types=["slack.event"]
    )
    reactions = WebhookEndpointConfig(
        url=product.hook_url, secret=SECRET, event_types=["reaction.*"]
    )
    bridge = await start_bridge(
        gateway_factory, emulator, product, webhook_url=None, webhooks=[raw, reactions]
    )
    posted = await bridge.act("messages", channel_id=GENERAL, user_id=ALICE, text="hello")
    await bridge.act("reactions", channel_id=GENERAL, user_id=BOB, ts=posted["ts"], name="wave")
    await product.wait_for(lambda h: h.type == "reaction.added")
    # The bot joining #general is a member_joined_channel: only the opt-in endpoint hears it.
    joined = await product.wait_for(
        lambda h: h.data.get("event_type") == "member_joined_channel", path="/sync"
    )
    assert joined.data["raw"]["event"]["user"] == bridge.bot_user_id
    await bridge.settled()
    assert {h.type for h in product.accepted()} == {"reaction.added"}
    assert {h.type for h in product.accepted("/sync")} == {"slack.event"}
