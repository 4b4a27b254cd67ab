"""The world each malformed request is sent into: the default seed with one app installed that
has every kind of endpoint, messages to act on, an open modal, a shared file, a response URL and
an OAuth code. :func:`fresh_world` builds it and says what each placeholder of
``fuzzing.PLACEHOLDERS`` stands for."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

from slackbridge.emulator import ops
from slackbridge.emulator.oauth_pages import approve, parse_authorize
from slackbridge.emulator.outbound import Outbound
from slackbridge.emulator.seed import reset_state
from slackbridge.emulator.state import AppToken, EmulatorState
from slackbridge.emulator.testing import DEFAULT_TEST_SCOPES, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, BOB, GENERAL

__all__ = ["APP_URL", "fresh_world"]

APP_URL = "http://app.test"


def fresh_world(state: EmulatorState, outbound: Outbound) -> dict[str, str]:
    """Reset to the default seed and build a world every endpoint can find things in."""
    reset_state(state)
    state.rate_limits_enabled = False
    app = make_test_app(
        state,
        bot_scopes=(*DEFAULT_TEST_SCOPES, "incoming-webhook"),
        user_scopes=["chat:write", "users.profile:read", "users.profile:write"],
        event_request_url=f"{APP_URL}/events",
        bot_events=["message.channels", "app_mention", "reaction_added", "member_joined_channel"],
        interactivity_url=f"{APP_URL}/interactive",
        options_load_url=f"{APP_URL}/options",
        slash_commands=[("/ticket", f"{APP_URL}/commands")],
        redirect_urls=[f"{APP_URL}/oauth"],
    )
    app.manifest["features"] = {"shortcuts": [{"callback_id": "new", "type": "global"}]}
    inst = install_app_for_tests(
        state,
        ACME,
        app=app,
        scopes=app.bot_scopes,
        user_scopes=app.user_scopes,
        channels=["general"],
    )
    app_token = f"xapp-1-{app.id}-1-fuzz"
    state.app_tokens[app_token] = AppToken(app_token, app.id, ["connections:write"])
    app.app_tokens.append(app_token)
    ws = state.workspaces[ACME]
    general = ws.channels[GENERAL]
    bot = ws.users[inst.bot_user_id]
    select = {
        "type": "static_select",
        "action_id": "pick",
        "options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}],
    }
    blocks = [
        {
            "type": "actions",
            "block_id": "b",
            "elements": [
                {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}},
                select,
                {"type": "datetimepicker", "action_id": "when"},
                {"type": "external_select", "action_id": "ext"},
            ],
        }
    ]
    bot_msg = ops.post_message(state, general, bot, text="Pick", blocks=blocks)
    human = ops.post_message(state, general, ws.users[ALICE], text="hello", thread_ts=None)
    ops.post_message(state, general, ws.users[BOB], text="reply", thread_ts=human.ts)
    trigger = ops.new_trigger(state, ACME, ALICE, app.id)
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "notify_on_close": True,
        "blocks": [
            {
                "type": "input",
                "block_id": "in",
                "element": {"type": "plain_text_input", "action_id": "t"},
            },
            {"type": "input", "block_id": "sel", "element": select},
            {
                "type": "input",
                "block_id": "dt",
                "element": {"type": "datetimepicker", "action_id": "d"},
            },
        ],
    }
    view = ops.open_view(state, app.id, ACME, ALICE, modal)
    file = ops.create_file(state, ACME, ALICE, name="a.txt", content=b"hi")
    ops.share_files(state, [file], general, ws.users[ALICE])
    response = outbound.responses.create(app.id, ACME, GENERAL, ALICE, message_ts=bot_msg.ts)
    consent = parse_authorize(state, {"client_id": app.client_id, "scope": "chat:write"}, 2)
    code = parse_qs(urlsplit(approve(state, consent, ACME, ALICE)).query)["code"][0]
    user_token = inst.user_token or ""
    return {
        "$TEAM": ACME,
        "$CHANNEL": GENERAL,
        "$PRIVATE": "G0ACME0STF",
        "$DM": "D0ACME0001",
        "$USER": ALICE,
        "$BOT_USER": inst.bot_user_id,
        "$BOT_ID": inst.bot_id,
        "$TS": bot_msg.ts,
        "$HUMAN_TS": human.ts,
        "$VIEW": view.id,
        "$APP": app.id,
        "$BOT_TOKEN": inst.bot_token,
        "$USER_TOKEN": user_token,
        "$APP_TOKEN": app_token,
        "$CONFIG_TOKEN": state.configuration_token,
        "$CLIENT_ID": app.client_id,
        "$CLIENT_SECRET": app.client_secret,
        "$BASIC": _basic(app.client_id, app.client_secret),
        "$TRIGGER": trigger.trigger_id,
        "$FILE": file.id,
        "$RESPONSE": response.split("/_emulator/response/", 1)[1],
        "$AUTHORIZE_URL": f"http://emu.test/oauth/v2/authorize?client_id={app.client_id}",
        "$CODE": code,
    }


def _basic(client_id: str, secret: str) -> str:
    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()
