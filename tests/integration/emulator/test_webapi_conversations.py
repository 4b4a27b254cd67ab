"""conversations.* and users.conversations against the in-process emulator."""

from __future__ import annotations

import httpx

from slackbridge.emulator import ops
from slackbridge.emulator.state import EmulatorState, Signal
from slackbridge.emulator.testing import TestInstall, install_app_for_tests
from tests.integration.emulator.helpers import (
    ACME,
    ALICE,
    BOB,
    CAROL,
    DM_ALICE_BOB,
    GENERAL,
    STAFF,
    SUPPORT,
    call,
)


async def _collect(
    client: httpx.AsyncClient, method: str, token: str, key: str, **args: object
) -> list[dict[str, object]]:
    """Every item of a paginated method, following next_cursor to the end."""
    items: list[dict[str, object]] = []
    cursor = ""
    for _ in range(50):
        body = await call(client, method, token, cursor=cursor or None, **args)
        assert body["ok"] is True, body
        items.extend(body[key])
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("pagination did not end")


async def test_list_paginates_and_respects_visibility(
    client: httpx.AsyncClient, bot: TestInstall
) -> None:
    public = await _collect(client, "conversations.list", bot.bot_token, "channels", limit=1)
    assert [c["id"] for c in public] == [GENERAL, SUPPORT]
    general = public[0]
    assert general["is_member"] is True and general["is_channel"] is True
    assert public[1]["is_member"] is False
    private = await _collect(
        client, "conversations.list", bot.bot_token, "channels", types="private_channel"
    )
    assert private == []  # #staff exists but the bot is not in it


async def test_list_types_need_their_scope(client: httpx.AsyncClient, state: EmulatorState) -> None:
    inst = install_app_for_tests(state, ACME, ["channels:read"])
    body = await call(client, "conversations.list", inst.bot_token, types="private_channel,im")
    assert body["error"] == "missing_scope"
    assert body["needed"] == "groups:read"
    bad = await call(client, "conversations.list", inst.bot_token, types="nonsense")
    assert bad["error"] == "invalid_types"


async def test_invalid_cursor(client: httpx.AsyncClient, bot: TestInstall) -> None:
    body = await call(client, "conversations.list", bot.bot_token, cursor="!!not-a-cursor")
    assert body["error"] == "invalid_cursor"


async def test_user_token_sees_own_private_channels_and_dms(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    inst = install_app_for_tests(
        state, ACME, ["chat:write"], app=bot.app, user_scopes=["groups:read", "im:read"]
    )
    assert inst.user_token is not None
    body = await call(
        client, "conversations.list", inst.user_token, types="private_channel,im", limit=100
    )
    ids = {c["id"]: c for c in body["channels"]}
    assert STAFF in ids and DM_ALICE_BOB in ids
    assert ids[DM_ALICE_BOB]["is_im"] is True and ids[DM_ALICE_BOB]["user"] == BOB


async def test_info_and_members(client: httpx.AsyncClient, bot: TestInstall) -> None:
    info = await call(
        client, "conversations.info", bot.bot_token, channel=GENERAL, include_num_members="true"
    )
    assert info["channel"]["name"] == "general"
    assert info["channel"]["is_general"] is True
    assert info["channel"]["num_members"] == 5  # four people and the bot
    hidden = await call(client, "conversations.info", bot.bot_token, channel=STAFF)
    assert hidden["error"] == "channel_not_found"
    members = await _collect(
        client, "conversations.members", bot.bot_token, "members", channel=GENERAL, limit=2
    )
    assert members == [*[ALICE, BOB, CAROL, "U0ACME0004"], bot.bot_user_id]


async def _post_m0_to_m4(client: httpx.AsyncClient, bot: TestInstall) -> list[str]:
    """The bot posts "m0" … "m4" in #general; their ts, oldest first."""
    posted = []
    for i in range(5):
        body = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text=f"m{i}")
        posted.append(str(body["ts"]))
    return posted


async def test_history_newest_first_with_pages_and_threads(
    client: httpx.AsyncClient, bot: TestInstall
) -> None:
    posted = await _post_m0_to_m4(client, bot)
    await call(
        client,
        "chat.postMessage",
        bot.bot_token,
        channel=GENERAL,
        text="hidden reply",
        thread_ts=posted[0],
    )
    first = await call(client, "conversations.history", bot.bot_token, channel=GENERAL, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    rest = await call(
        client,
        "conversations.history",
        bot.bot_token,
        channel=GENERAL,
        limit=10,
        cursor=first["response_metadata"]["next_cursor"],
    )
    texts = [m["text"] for m in rest["messages"]]
    assert texts[:3] == ["m2", "m1", "m0"]
    assert "hidden reply" not in texts  # replies live in the thread only
    assert rest["has_more"] is False and rest["response_metadata"]["next_cursor"] == ""
    root = next(m for m in rest["messages"] if m["ts"] == posted[0])
    assert root["reply_count"] == 1
    window = await call(
        client,
        "conversations.history",
        bot.bot_token,
        channel=GENERAL,
        oldest=posted[1],
        latest=posted[3],
        inclusive="true",
    )
    assert [m["text"] for m in window["messages"]] == ["m3", "m2", "m1"]


async def test_history_errors(client: httpx.AsyncClient, bot: TestInstall) -> None:
    out = await call(client, "conversations.history", bot.bot_token, channel=SUPPORT)
    assert out["error"] == "not_in_channel"
    bad = await call(client, "conversations.history", bot.bot_token, channel=GENERAL, latest="x")
    assert bad["error"] == "invalid_ts_latest"
    bad = await call(client, "conversations.history", bot.bot_token, channel=GENERAL, oldest="x")
    assert bad["error"] == "invalid_ts_oldest"


async def test_replies(client: httpx.AsyncClient, bot: TestInstall) -> None:
    root = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="root")
    replies = []
    for i in range(3):
        body = await call(
            client,
            "chat.postMessage",
            bot.bot_token,
            channel=GENERAL,
            text=f"r{i}",
            thread_ts=root["ts"],
        )
        replies.append(body["ts"])
    body = await call(
        client, "conversations.replies", bot.bot_token, channel=GENERAL, ts=root["ts"]
    )
    assert [m["text"] for m in body["messages"]] == ["root", "r0", "r1", "r2"]
    # Asking with a reply's ts gives the same thread.
    same = await call(
        client, "conversations.replies", bot.bot_token, channel=GENERAL, ts=replies[1]
    )
    assert [m["ts"] for m in same["messages"]] == [root["ts"], *replies]
    paged = await call(
        client, "conversations.replies", bot.bot_token, channel=GENERAL, ts=root["ts"], limit=2
    )
    assert [m["text"] for m in paged["messages"]] == ["root", "r0", "r1"]
    assert paged["has_more"] is True
    missing = await call(
        client, "conversations.replies", bot.bot_token, channel=GENERAL, ts="1400000000.000001"
    )
    assert missing["error"] == "thread_not_found"


async def test_create_join_invite_kick_leave_archive(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    created = await call(client, "conversations.create", bot.bot_token, name="incidents")
    channel = created["channel"]
    assert channel["name"] == "incidents" and channel["is_member"] is True
    assert any(s.kind == "channel_created" for s in seen)
    taken = await call(client, "conversations.create", bot.bot_token, name="incidents")
    assert taken["error"] == "name_taken"
    bad = await call(client, "conversations.create", bot.bot_token, name="Has Spaces")
    assert bad["error"] == "invalid_name_specials"
    private = await call(
        client, "conversations.create", bot.bot_token, name="secret", is_private="true"
    )
    assert private["channel"]["is_private"] is True

    invited = await call(
        client, "conversations.invite", bot.bot_token, channel=channel["id"], users=f"{ALICE},{BOB}"
    )
    assert invited["ok"] is True
    joined = [s.data["user"] for s in seen if s.kind == "member_joined_channel"]
    assert joined == [ALICE, BOB]
    again = await call(
        client, "conversations.invite", bot.bot_token, channel=channel["id"], users=ALICE
    )
    assert again["error"] == "already_in_channel"
    nobody = await call(
        client, "conversations.invite", bot.bot_token, channel=channel["id"], users="U0NOBODY00"
    )
    assert nobody["error"] == "user_not_found"

    kicked = await call(
        client, "conversations.kick", bot.bot_token, channel=channel["id"], user=BOB
    )
    assert kicked["ok"] is True
    assert BOB not in state.channel(ACME, channel["id"]).members  # type: ignore[union-attr]

    join_support = await call(client, "conversations.join", bot.bot_token, channel=SUPPORT)
    assert join_support["ok"] is True and join_support["channel"]["is_member"] is True
    join_again = await call(client, "conversations.join", bot.bot_token, channel=SUPPORT)
    assert join_again["warning"] == "already_in_channel"

    archived = await call(client, "conversations.archive", bot.bot_token, channel=channel["id"])
    assert archived == {"ok": True}
    twice = await call(client, "conversations.archive", bot.bot_token, channel=channel["id"])
    assert twice["error"] == "already_archived"
    general = await call(client, "conversations.archive", bot.bot_token, channel=GENERAL)
    assert general["error"] == "cant_archive_general"
    post = await call(client, "chat.postMessage", bot.bot_token, channel=channel["id"], text="x")
    assert post["error"] == "is_archived"

    left = await call(client, "conversations.leave", bot.bot_token, channel=SUPPORT)
    assert left == {"ok": True}
    not_in = await call(client, "conversations.leave", bot.bot_token, channel=SUPPORT)
    assert not_in == {"ok": True, "not_in_channel": True}


async def test_open_dm_and_group_dm(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    first = await call(client, "conversations.open", bot.bot_token, users=ALICE)
    dm = first["channel"]["id"]
    assert dm.startswith("D") and "no_op" not in first
    second = await call(client, "conversations.open", bot.bot_token, users=ALICE, return_im="1")
    assert second["channel"]["id"] == dm
    assert second["no_op"] is True and second["already_open"] is True
    assert second["channel"]["user"] == ALICE
    group = await call(client, "conversations.open", bot.bot_token, users=f"{ALICE},{BOB}")
    mpim = state.channel(ACME, group["channel"]["id"])
    assert mpim is not None and mpim.kind == "mpim"
    assert sorted(mpim.members) == sorted([bot.bot_user_id, ALICE, BOB])
    none = await call(client, "conversations.open", bot.bot_token)
    assert none["error"] == "users_list_not_supplied"
    unknown = await call(client, "conversations.open", bot.bot_token, users="U0NOBODY00")
    assert unknown["error"] == "user_not_found"


async def test_users_conversations(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    ops.join_channel(state, state.channel(ACME, SUPPORT), state.user(bot.bot_user_id))  # type: ignore[arg-type]
    body = await call(client, "users.conversations", bot.bot_token)
    assert [c["id"] for c in body["channels"]] == [GENERAL, SUPPORT]


async def test_history_with_only_oldest_pages_forward_in_time(
    client: httpx.AsyncClient, bot: TestInstall
) -> None:
    posted = await _post_m0_to_m4(client, bot)
    first = await call(
        client, "conversations.history", bot.bot_token, channel=GENERAL, oldest=posted[0], limit=2
    )
    # The messages nearest ``oldest`` (after it), newest first within the page.
    assert [m["text"] for m in first["messages"]] == ["m2", "m1"]
    assert first["has_more"] is True and "latest" not in first
    second = await call(
        client,
        "conversations.history",
        bot.bot_token,
        channel=GENERAL,
        oldest=posted[0],
        limit=2,
        cursor=first["response_metadata"]["next_cursor"],
    )
    assert [m["text"] for m in second["messages"]] == ["m4", "m3"]
    assert second["has_more"] is False and second["response_metadata"]["next_cursor"] == ""
    echoed = await call(
        client, "conversations.history", bot.bot_token, channel=GENERAL, latest=posted[2], limit=1
    )
    assert echoed["latest"] == posted[2]
    assert [m["text"] for m in echoed["messages"]] == ["m1"]
