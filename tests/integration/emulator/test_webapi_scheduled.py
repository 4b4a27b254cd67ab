"""chat.scheduleMessage, chat.scheduledMessages.list and chat.deleteScheduledMessage, and the
scheduler posting the messages when their time comes (the emulator's clock sped up)."""

from __future__ import annotations

import asyncio
import time

import httpx

from slackbridge.emulator.scheduler import post_due
from slackbridge.emulator.state import EmulatorState, ScheduledMessage
from slackbridge.emulator.testing import TestInstall
from tests.integration.emulator.helpers import ACME, GENERAL, SUPPORT, call

DEADLINE = 10.0


async def _posted(state: EmulatorState, text: str) -> bool:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        channel = state.channel(ACME, GENERAL)
        assert channel is not None
        if any(m.text == text for m in channel.messages):
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_scheduled_message_posts_at_its_time(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    state.speed = 1000.0  # two minutes pass in 0.12 s
    post_at = int(state.now()) + 120
    body = await call(
        client,
        "chat.scheduleMessage",
        bot.bot_token,
        channel=GENERAL,
        text="Standup!",
        post_at=post_at,
    )
    assert body["ok"] is True, body
    assert body["channel"] == GENERAL and body["post_at"] == post_at
    assert body["scheduled_message_id"].startswith("Q")
    preview = body["message"]
    assert preview["type"] == "delayed_message" and preview["text"] == "Standup!"
    assert preview["bot_id"] == bot.bot_id and preview["user"] == bot.bot_user_id
    assert await _posted(state, "Standup!"), "the scheduled message was never posted"
    listed = await call(client, "chat.scheduledMessages.list", bot.bot_token)
    assert listed["scheduled_messages"] == []


async def test_list_and_delete(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    now = int(state.now())
    ids = []
    for offset in (7200, 3600):
        body = await call(
            client,
            "chat.scheduleMessage",
            bot.bot_token,
            channel=GENERAL,
            text=f"in {offset}",
            post_at=now + offset,
        )
        ids.append(body["scheduled_message_id"])
    first = await call(client, "chat.scheduledMessages.list", bot.bot_token, limit=1)
    (soonest,) = first["scheduled_messages"]
    assert soonest == {
        "id": ids[1],
        "channel_id": GENERAL,
        "post_at": now + 3600,
        "date_created": soonest["date_created"],
        "text": "in 3600",
    }
    rest = await call(
        client,
        "chat.scheduledMessages.list",
        bot.bot_token,
        cursor=first["response_metadata"]["next_cursor"],
    )
    assert [m["id"] for m in rest["scheduled_messages"]] == [ids[0]]
    assert rest["response_metadata"]["next_cursor"] == ""
    in_support = await call(client, "chat.scheduledMessages.list", bot.bot_token, channel=SUPPORT)
    assert in_support["scheduled_messages"] == []
    deleted = await call(
        client,
        "chat.deleteScheduledMessage",
        bot.bot_token,
        channel=GENERAL,
        scheduled_message_id=ids[0],
    )
    assert deleted == {"ok": True}
    again = await call(
        client,
        "chat.deleteScheduledMessage",
        bot.bot_token,
        channel=GENERAL,
        scheduled_message_id=ids[0],
    )
    assert again["error"] == "invalid_scheduled_message_id"
    assert list(state.scheduled_messages) == [ids[1]]


async def test_schedule_errors(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    now = int(state.now())
    token = bot.bot_token
    past = await call(
        client, "chat.scheduleMessage", token, channel=GENERAL, text="x", post_at=now - 5
    )
    assert past["error"] == "time_in_past"
    far = await call(
        client, "chat.scheduleMessage", token, channel=GENERAL, text="x", post_at=now + 121 * 86400
    )
    assert far["error"] == "time_too_far"
    bad = await call(
        client, "chat.scheduleMessage", token, channel=GENERAL, text="x", post_at="soon"
    )
    assert bad["error"] == "invalid_time"
    empty = await call(client, "chat.scheduleMessage", token, channel=GENERAL, post_at=now + 60)
    assert empty["error"] == "no_text"
    for bound in ("latest", "oldest"):
        listed = await call(client, "chat.scheduledMessages.list", token, **{bound: "soon"})
        assert listed["error"] == "invalid_arguments"
    outside = await call(
        client, "chat.scheduleMessage", token, channel=SUPPORT, text="x", post_at=now + 60
    )
    assert outside["ok"] is True  # chat:write.public lets the bot post in public channels
    thread = await call(
        client,
        "chat.scheduleMessage",
        token,
        channel=GENERAL,
        text="x",
        post_at=now + 60,
        thread_ts="1400000000.000001",
    )
    assert thread["error"] == "thread_not_found"
    for i in range(29):
        ok = await call(
            client, "chat.scheduleMessage", token, channel=GENERAL, text=f"{i}", post_at=now + 600
        )
        assert ok["ok"] is True
    too_many = await call(
        client, "chat.scheduleMessage", token, channel=GENERAL, text="y", post_at=now + 650
    )
    assert too_many["ok"] is True  # 30th in the window
    over = await call(
        client, "chat.scheduleMessage", token, channel=GENERAL, text="z", post_at=now + 700
    )
    assert over["error"] == "restricted_too_many"
    soon = await call(
        client, "chat.scheduleMessage", token, channel=SUPPORT, text="soon", post_at=now + 30
    )
    late = await call(
        client,
        "chat.deleteScheduledMessage",
        token,
        channel=SUPPORT,
        scheduled_message_id=soon["scheduled_message_id"],
    )
    assert late["error"] == "invalid_scheduled_message_id"  # posting within 60 s


def test_a_scheduled_message_whose_channel_was_archived_is_dropped(
    state: EmulatorState, bot: TestInstall
) -> None:
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    before = len(channel.messages)
    item = ScheduledMessage(
        id="Q0TEST0001",
        team_id=ACME,
        channel_id=GENERAL,
        author_id=bot.bot_user_id,
        post_at=0,
        date_created=0,
        due=0.0,
        text="never",
    )
    state.scheduled_messages[item.id] = item
    channel.is_archived = True
    assert post_due(state) == [item]
    assert state.scheduled_messages == {} and len(channel.messages) == before
