"""chat.* methods against the in-process emulator."""

from __future__ import annotations

import httpx

from slackbridge.emulator.state import EmulatorState, Signal
from slackbridge.emulator.testing import TestInstall, install_app_for_tests
from tests.integration.emulator.helpers import (
    ACME,
    ALICE,
    BOB,
    DM_ALICE_BOB,
    GENERAL,
    STAFF,
    SUPPORT,
    call,
)


async def test_post_message_as_bot(client: httpx.AsyncClient, bot: TestInstall) -> None:
    body = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="hello")
    assert body["ok"] is True
    assert body["channel"] == GENERAL
    msg = body["message"]
    assert msg["ts"] == body["ts"]
    assert msg["text"] == "hello"
    assert msg["user"] == bot.bot_user_id
    assert msg["bot_id"] == bot.bot_id
    assert msg["app_id"] == bot.app.id
    assert msg["team"] == ACME
    assert msg["bot_profile"]["app_id"] == bot.app.id
    assert "subtype" not in msg


async def test_post_by_channel_name(client: httpx.AsyncClient, bot: TestInstall) -> None:
    body = await call(client, "chat.postMessage", bot.bot_token, channel="#general", text="x")
    assert body["channel"] == GENERAL


async def test_thread_reply_bookkeeping(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    root = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="root")
    reply = await call(
        client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="r1", thread_ts=root["ts"]
    )
    assert reply["message"]["thread_ts"] == root["ts"]
    assert reply["message"]["parent_user_id"] == bot.bot_user_id
    # A reply's ts threads under the same root.
    second = await call(
        client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="r2", thread_ts=reply["ts"]
    )
    assert second["message"]["thread_ts"] == root["ts"]
    root_msg = state.channel(ACME, GENERAL).by_ts[root["ts"]]  # type: ignore[union-attr]
    assert root_msg.replies == [reply["ts"], second["ts"]]
    assert root_msg.latest_reply == second["ts"]
    assert root_msg.reply_users == [bot.bot_user_id]


async def test_reply_broadcast_is_thread_broadcast(
    client: httpx.AsyncClient, bot: TestInstall
) -> None:
    root = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="root")
    body = await call(
        client,
        "chat.postMessage",
        bot.bot_token,
        channel=GENERAL,
        text="also in channel",
        thread_ts=root["ts"],
        reply_broadcast="true",
    )
    assert body["message"]["subtype"] == "thread_broadcast"
    assert body["message"]["root"]["ts"] == root["ts"]


async def test_thread_errors(client: httpx.AsyncClient, bot: TestInstall) -> None:
    bad = await call(
        client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x", thread_ts="0"
    )
    assert bad["error"] == "invalid_thread_ts"
    missing = await call(
        client,
        "chat.postMessage",
        bot.bot_token,
        channel=GENERAL,
        text="x",
        thread_ts="1500000000.000001",
    )
    assert missing["error"] == "thread_not_found"


async def test_post_errors(client: httpx.AsyncClient, bot: TestInstall) -> None:
    token = bot.bot_token
    assert (await call(client, "chat.postMessage", token, channel=GENERAL))["error"] == "no_text"
    quiet = await call(client, "chat.postEphemeral", token, channel=GENERAL, user=ALICE)
    assert quiet["error"] == "no_text"
    too_long = await call(client, "chat.postMessage", token, channel=GENERAL, text="a" * 40_001)
    assert too_long["error"] == "msg_too_long"
    unknown = await call(client, "chat.postMessage", token, channel="C0NOPE0000", text="x")
    assert unknown["error"] == "channel_not_found"
    # A private channel the bot is not in does not exist for it.
    private = await call(client, "chat.postMessage", token, channel=STAFF, text="x")
    assert private["error"] == "channel_not_found"
    blocks = await call(client, "chat.postMessage", token, channel=GENERAL, blocks="[{}]")
    assert blocks["error"] == "invalid_blocks"
    bad_json = await call(client, "chat.postMessage", token, channel=GENERAL, blocks="[{")
    assert bad_json["error"] == "invalid_blocks_format"


async def test_public_channel_needs_membership_or_chat_write_public(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    plain = install_app_for_tests(state, ACME, ["chat:write"])
    body = await call(client, "chat.postMessage", plain.bot_token, channel=SUPPORT, text="x")
    assert body["error"] == "not_in_channel"
    public = install_app_for_tests(state, ACME, ["chat:write", "chat:write.public"])
    body = await call(client, "chat.postMessage", public.bot_token, channel=SUPPORT, text="x")
    assert body["ok"] is True


async def test_archived_channel(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    state.channel(ACME, GENERAL).is_archived = True  # type: ignore[union-attr]
    body = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x")
    assert body["error"] == "is_archived"


async def test_persona_needs_customize_scope(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    scopes = ["chat:write", "chat:write.customize"]
    custom = install_app_for_tests(state, ACME, scopes, channels=[GENERAL])
    plain = install_app_for_tests(state, ACME, ["chat:write"], channels=[GENERAL])
    args = {"channel": GENERAL, "text": "x", "username": "Agent Smith", "icon_emoji": ":robot:"}
    with_scope = await call(client, "chat.postMessage", custom.bot_token, **args)
    assert with_scope["message"]["username"] == "Agent Smith"
    assert with_scope["message"]["icons"] == {"emoji": ":robot:"}
    assert with_scope["message"]["subtype"] == "bot_message"
    # Without chat:write.customize Slack ignores the persona.
    without = await call(client, "chat.postMessage", plain.bot_token, **args)
    assert "username" not in without["message"]
    assert "subtype" not in without["message"]


async def test_post_to_user_id_opens_dm(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    body = await call(client, "chat.postMessage", bot.bot_token, channel=ALICE, text="psst")
    channel = state.channel(ACME, body["channel"])
    assert channel is not None and channel.kind == "im"
    assert sorted(channel.members) == sorted([ALICE, bot.bot_user_id])


async def test_user_token_posts_as_the_user(client: httpx.AsyncClient, bot: TestInstall) -> None:
    body = await call(client, "chat.postMessage", bot.user_token, channel=DM_ALICE_BOB, text="hi")
    assert body["message"]["user"] == ALICE
    assert "bot_id" not in body["message"]


async def test_update_and_delete(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    posted = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="v1")
    updated = await call(
        client, "chat.update", bot.bot_token, channel=GENERAL, ts=posted["ts"], text="v2"
    )
    assert updated["ok"] is True
    assert updated["text"] == "v2"
    assert updated["message"]["edited"]["user"] == bot.bot_id
    changed = next(s for s in seen if s.kind == "message_changed")
    assert changed.data["previous_message"]["text"] == "v1"
    assert changed.data["message"]["text"] == "v2"

    deleted = await call(client, "chat.delete", bot.bot_token, channel=GENERAL, ts=posted["ts"])
    assert deleted == {"ok": True, "channel": GENERAL, "ts": posted["ts"]}
    again = await call(client, "chat.delete", bot.bot_token, channel=GENERAL, ts=posted["ts"])
    assert again["error"] == "message_not_found"
    assert any(s.kind == "message_deleted" and s.data["deleted_ts"] == posted["ts"] for s in seen)


async def test_cannot_update_or_delete_others_messages(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    other = install_app_for_tests(state, ACME, channels=["general"])
    posted = await call(client, "chat.postMessage", other.bot_token, channel=GENERAL, text="x")
    upd = await call(
        client, "chat.update", bot.bot_token, channel=GENERAL, ts=posted["ts"], text="hijack"
    )
    assert upd["error"] == "cant_update_message"
    dele = await call(client, "chat.delete", bot.bot_token, channel=GENERAL, ts=posted["ts"])
    assert dele["error"] == "cant_delete_message"
    # A workspace admin's user token may delete anyone's message.
    admin = await call(client, "chat.delete", bot.user_token, channel=GENERAL, ts=posted["ts"])
    assert admin["ok"] is True


async def test_post_ephemeral(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    body = await call(
        client, "chat.postEphemeral", bot.bot_token, channel=GENERAL, user=BOB, text="only you"
    )
    assert body["ok"] is True
    assert state.ephemerals[-1]["visible_to"] == BOB == state.ephemerals[-1]["user_id"]
    assert state.ephemerals[-1]["text"] == "only you"
    assert state.ephemerals[-1]["ts"] == body["message_ts"]
    # Ephemeral messages never enter history.
    assert all(m.ts != body["message_ts"] for m in state.channel(ACME, GENERAL).messages)  # type: ignore[union-attr]
    nobody = await call(
        client, "chat.postEphemeral", bot.bot_token, channel=GENERAL, user="U0GLBX0001", text="x"
    )
    assert nobody["error"] == "user_not_in_channel"


async def test_get_permalink(client: httpx.AsyncClient, bot: TestInstall) -> None:
    posted = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x")
    body = await call(
        client, "chat.getPermalink", bot.bot_token, channel=GENERAL, message_ts=posted["ts"]
    )
    digits = posted["ts"].replace(".", "")
    assert body["permalink"] == f"http://emulator.test/archives/{GENERAL}/p{digits}"
    missing = await call(
        client, "chat.getPermalink", bot.bot_token, channel=GENERAL, message_ts="1.000001"
    )
    assert missing["error"] == "message_not_found"
