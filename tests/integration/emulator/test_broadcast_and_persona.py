"""Thread broadcasts and persona posts as apps see them: the message events Slack sends and the
messages in channel history."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import TestInstall, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, BOB, GENERAL, call
from tests.integration.emulator.receiver import (
    RECEIVER_URL,
    Receiver,
    emulator_delivering_to,
    heard_events,
)

SCOPES = ["chat:write", "channels:history", "channels:read"]


def _listener(state: EmulatorState, scopes: list[str] = SCOPES) -> TestInstall:
    app = make_test_app(
        state,
        bot_scopes=scopes,
        event_request_url=f"{RECEIVER_URL}/events",
        bot_events=["message.channels"],
    )
    return install_app_for_tests(state, ACME, scopes, app=app, channels=[GENERAL])


async def test_a_persons_broadcast_reply_is_a_thread_broadcast_event_and_in_history(
    state: EmulatorState,
) -> None:
    receiver = Receiver()
    bot = _listener(state)
    async with emulator_delivering_to(state, receiver) as emu:
        root = await emu.post(
            "/_emulator/messages",
            json={"team_id": ACME, "channel_id": GENERAL, "user_id": BOB, "text": "question"},
        )
        root_ts = root.json()["ts"]
        reply = await emu.post(
            "/_emulator/messages",
            json={
                "team_id": ACME,
                "channel_id": GENERAL,
                "user_id": BOB,
                "text": "answer for all",
                "thread_ts": root_ts,
                "reply_broadcast": True,
            },
        )
        reply_ts = reply.json()["ts"]
        events = await heard_events(emu, receiver)
        broadcast = next(e for e in events if e.get("ts") == reply_ts)
        assert broadcast["type"] == "message"
        assert broadcast["subtype"] == "thread_broadcast"
        assert broadcast["thread_ts"] == root_ts
        assert broadcast["user"] == BOB
        assert broadcast["root"]["ts"] == root_ts
        assert broadcast["channel_type"] == "channel"
        assert broadcast["client_msg_id"]  # typed by a person

        history = await call(emu, "conversations.history", bot.bot_token, channel=GENERAL)
        top = [m["ts"] for m in history["messages"]]
        assert reply_ts in top and root_ts in top
        shown = next(m for m in history["messages"] if m["ts"] == reply_ts)
        assert shown["subtype"] == "thread_broadcast"
        replies = await call(
            emu, "conversations.replies", bot.bot_token, channel=GENERAL, ts=root_ts
        )
        assert [m["ts"] for m in replies["messages"]] == [root_ts, reply_ts]


async def test_an_apps_broadcast_reply_event(state: EmulatorState) -> None:
    receiver = Receiver()
    bot = _listener(state)
    async with emulator_delivering_to(state, receiver) as emu:
        root = await call(emu, "chat.postMessage", bot.bot_token, channel=GENERAL, text="card")
        reply = await call(
            emu,
            "chat.postMessage",
            bot.bot_token,
            channel=GENERAL,
            text="status changed",
            thread_ts=root["ts"],
            reply_broadcast="true",
        )
        events = await heard_events(emu, receiver)
        broadcast = next(e for e in events if e.get("ts") == reply["ts"])
        assert broadcast["subtype"] == "thread_broadcast"
        assert broadcast["bot_id"] == bot.bot_id
        assert broadcast["thread_ts"] == root["ts"]


async def test_persona_fields_in_history_and_events(state: EmulatorState) -> None:
    receiver = Receiver()
    custom = _listener(state, [*SCOPES, "chat:write.customize"])
    plain = install_app_for_tests(state, ACME, SCOPES, channels=[GENERAL])
    args: dict[str, Any] = {
        "channel": GENERAL,
        "text": "from the desk",
        "username": "Dana (Helpdesk)",
        "icon_url": "https://example.test/dana.png",
    }
    async with emulator_delivering_to(state, receiver) as emu:
        with_scope = await call(emu, "chat.postMessage", custom.bot_token, **args)
        without = await call(emu, "chat.postMessage", plain.bot_token, **args)
        assert with_scope["ok"] is True and without["ok"] is True  # never an error
        events = {e["ts"]: e for e in await heard_events(emu, receiver) if "ts" in e}
        history = await call(emu, "conversations.history", custom.bot_token, channel=GENERAL)
    shown = {m["ts"]: m for m in history["messages"]}
    for seen in (events[with_scope["ts"]], shown[with_scope["ts"]]):
        assert seen["subtype"] == "bot_message"
        assert seen["username"] == "Dana (Helpdesk)"
        url = "https://example.test/dana.png"
        assert seen["icons"] == {"image_36": url, "image_48": url, "image_72": url}
        assert seen["bot_id"] == custom.bot_id
        assert seen["bot_profile"]["app_id"] == custom.app.id
    for seen in (events[without["ts"]], shown[without["ts"]]):
        assert "subtype" not in seen and "username" not in seen and "icons" not in seen
        assert seen["bot_profile"]["name"] == plain.app.name
