"""users.*, team.info, bots.info and reactions.* against the in-process emulator."""

from __future__ import annotations

import httpx

from slackbridge.emulator.state import EmulatorState, Signal
from slackbridge.emulator.testing import TestInstall, install_app_for_tests
from tests.integration.emulator.helpers import ACME, ALICE, BOB, GENERAL, GLOBEX, call


async def test_users_info_email_needs_scope(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    body = await call(client, "users.info", bot.bot_token, user=ALICE)
    user = body["user"]
    assert user["name"] == "alice" and user["real_name"] == "Alice Archer"
    assert user["is_admin"] is True and user["is_bot"] is False
    assert user["profile"]["email"] == "alice@acme.test"
    plain = install_app_for_tests(state, ACME, ["users:read"])
    without = await call(client, "users.info", plain.bot_token, user=ALICE)
    assert "email" not in without["user"]["profile"]
    other_team = await call(client, "users.info", bot.bot_token, user="U0GLBX0001")
    assert other_team["error"] == "user_not_found"


async def test_bot_user_info(client: httpx.AsyncClient, bot: TestInstall) -> None:
    body = await call(client, "users.info", bot.bot_token, user=bot.bot_user_id)
    assert body["user"]["is_bot"] is True
    assert body["user"]["profile"]["bot_id"] == bot.bot_id
    assert body["user"]["profile"]["api_app_id"] == bot.app.id


async def test_users_list_pages(client: httpx.AsyncClient, bot: TestInstall) -> None:
    ids: list[str] = []
    cursor = ""
    while True:
        body = await call(client, "users.list", bot.bot_token, limit=2, cursor=cursor or None)
        ids += [m["id"] for m in body["members"]]
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert ids == ["USLACKBOT", ALICE, BOB, "U0ACME0003", "U0ACME0004", bot.bot_user_id]


async def test_lookup_by_email(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    body = await call(client, "users.lookupByEmail", bot.bot_token, email="BOB@acme.test")
    assert body["user"]["id"] == BOB
    missing = await call(client, "users.lookupByEmail", bot.bot_token, email="x@acme.test")
    assert missing["error"] == "users_not_found"
    plain = install_app_for_tests(state, ACME, ["users:read"])
    denied = await call(client, "users.lookupByEmail", plain.bot_token, email="bob@acme.test")
    assert denied["error"] == "missing_scope" and denied["needed"] == "users:read.email"


async def test_profile_get_and_set(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    got = await call(client, "users.profile.get", bot.bot_token, user=BOB)
    assert got["profile"]["real_name"] == "Bob Baker"
    user_inst = install_app_for_tests(
        state, ACME, ["chat:write"], app=bot.app, user_scopes=["users.profile:write"]
    )
    assert user_inst.user_token is not None
    as_bot = await call(client, "users.profile.set", bot.bot_token, profile='{"status_text": "x"}')
    assert as_bot["error"] in {"missing_scope", "not_allowed_token_type"}
    updated = await call(
        client,
        "users.profile.set",
        user_inst.user_token,
        profile='{"status_text": "On call", "status_emoji": ":pager:"}',
    )
    assert updated["profile"]["status_text"] == "On call"
    assert state.user(ALICE).status_emoji == ":pager:"  # type: ignore[union-attr]
    by_name = await call(
        client, "users.profile.set", user_inst.user_token, name="title", value="Chief"
    )
    assert by_name["profile"]["title"] == "Chief"
    bad = await call(client, "users.profile.set", user_inst.user_token, profile="{nope")
    assert bad["error"] == "invalid_profile"


async def test_team_and_bots_info(client: httpx.AsyncClient, bot: TestInstall) -> None:
    team = await call(client, "team.info", bot.bot_token)
    assert team["team"]["id"] == ACME
    assert team["team"]["name"] == "Acme" and team["team"]["domain"] == "acme"
    other = await call(client, "team.info", bot.bot_token, team=GLOBEX)
    assert other["error"] == "team_not_found"
    info = await call(client, "bots.info", bot.bot_token, bot=bot.bot_id)
    assert info["bot"]["app_id"] == bot.app.id
    assert info["bot"]["user_id"] == bot.bot_user_id
    assert info["bot"]["deleted"] is False
    missing = await call(client, "bots.info", bot.bot_token, bot="B0NOPE0000")
    assert missing["error"] == "bot_not_found"


async def test_reactions(client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState) -> None:
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    posted = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x")
    ts = posted["ts"]
    added = await call(
        client, "reactions.add", bot.bot_token, channel=GENERAL, timestamp=ts, name=":eyes:"
    )
    assert added == {"ok": True}
    again = await call(
        client, "reactions.add", bot.bot_token, channel=GENERAL, timestamp=ts, name="eyes"
    )
    assert again["error"] == "already_reacted"
    got = await call(client, "reactions.get", bot.bot_token, channel=GENERAL, timestamp=ts)
    assert got["type"] == "message"
    assert got["message"]["reactions"] == [{"name": "eyes", "users": [bot.bot_user_id], "count": 1}]
    assert got["message"]["permalink"].endswith(ts.replace(".", ""))
    event = next(s for s in seen if s.kind == "reaction_added")
    assert event.data["item"] == {"type": "message", "channel": GENERAL, "ts": ts}
    assert event.data["item_user"] == bot.bot_user_id
    removed = await call(
        client, "reactions.remove", bot.bot_token, channel=GENERAL, timestamp=ts, name="eyes"
    )
    assert removed == {"ok": True}
    assert any(s.kind == "reaction_removed" for s in seen)
    none = await call(
        client, "reactions.remove", bot.bot_token, channel=GENERAL, timestamp=ts, name="eyes"
    )
    assert none["error"] == "no_reaction"


async def test_reaction_errors(client: httpx.AsyncClient, bot: TestInstall) -> None:
    token = bot.bot_token
    no_item = await call(client, "reactions.add", token, name="eyes")
    assert no_item["error"] == "no_item_specified"
    bad_ts = await call(client, "reactions.add", token, channel=GENERAL, timestamp="x", name="a")
    assert bad_ts["error"] == "bad_timestamp"
    missing = await call(
        client, "reactions.add", token, channel=GENERAL, timestamp="1400000000.000001", name="a"
    )
    assert missing["error"] == "message_not_found"
    posted = await call(client, "chat.postMessage", token, channel=GENERAL, text="x")
    bad_name = await call(
        client, "reactions.add", token, channel=GENERAL, timestamp=posted["ts"], name="Not Valid"
    )
    assert bad_name["error"] == "invalid_name"
    for i in range(23):
        body = await call(
            client, "reactions.add", token, channel=GENERAL, timestamp=posted["ts"], name=f"e{i}"
        )
        assert body["ok"] is True
    over = await call(
        client, "reactions.add", token, channel=GENERAL, timestamp=posted["ts"], name="e99"
    )
    assert over["error"] == "too_many_reactions"


async def test_reactions_list(client: httpx.AsyncClient, bot: TestInstall) -> None:
    token = bot.bot_token
    stamps = []
    for text in ("first", "second", "third"):
        stamps.append(
            (await call(client, "chat.postMessage", token, channel=GENERAL, text=text))["ts"]
        )
    for ts in (stamps[0], stamps[2]):
        await call(client, "reactions.add", token, channel=GENERAL, timestamp=ts, name="eyes")
    first = await call(client, "reactions.list", token, limit=1)
    (item,) = first["items"]
    assert item["type"] == "message" and item["channel"] == GENERAL
    assert item["message"]["text"] == "third" and item["message"]["permalink"]
    rest = await call(
        client, "reactions.list", token, limit=5, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [i["message"]["text"] for i in rest["items"]] == ["first"]
    assert rest["response_metadata"]["next_cursor"] == ""
    nobody = await call(client, "reactions.list", token, user=ALICE)
    assert nobody["items"] == []
    unknown = await call(client, "reactions.list", token, user="U0NOBODY00")
    assert unknown["error"] == "user_not_found"


async def test_usergroups(client: httpx.AsyncClient, state: EmulatorState) -> None:
    inst = install_app_for_tests(
        state, ACME, ["usergroups:read"], user_scopes=["usergroups:write", "usergroups:read"]
    )
    assert inst.user_token is not None
    token = inst.user_token
    created = await call(
        client,
        "usergroups.create",
        token,
        name="On call",
        handle="oncall",
        description="Pager rota",
        channels=GENERAL,
    )
    group = created["usergroup"]
    assert group["id"].startswith("S") and group["handle"] == "oncall"
    assert group["is_usergroup"] is True and group["prefs"]["channels"] == [GENERAL]
    assert group["users"] == [] and group["user_count"] == 0 and group["date_delete"] == 0
    dupe = await call(client, "usergroups.create", token, name="On call", handle="other")
    assert dupe["error"] == "name_already_exists"
    taken = await call(client, "usergroups.create", token, name="Other", handle="oncall")
    assert taken["error"] == "handle_already_exists"
    members = await call(
        client, "usergroups.users.update", token, usergroup=group["id"], users=f"{ALICE},{BOB}"
    )
    assert members["usergroup"]["users"] == [ALICE, BOB]
    bad = await call(client, "usergroups.users.update", token, usergroup=group["id"], users="U0X")
    assert bad["error"] == "invalid_users"
    listed = await call(client, "usergroups.users.list", inst.bot_token, usergroup=group["id"])
    assert listed["users"] == [ALICE, BOB]
    updated = await call(
        client, "usergroups.update", token, usergroup=group["id"], description="Weekly rota"
    )
    assert updated["usergroup"]["description"] == "Weekly rota"
    disabled = await call(client, "usergroups.disable", token, usergroup=group["id"])
    assert disabled["usergroup"]["date_delete"] > 0
    assert (await call(client, "usergroups.list", inst.bot_token))["usergroups"] == []
    everything = await call(
        client, "usergroups.list", inst.bot_token, include_disabled="true", include_users="true"
    )
    assert [g["users"] for g in everything["usergroups"]] == [[ALICE, BOB]]
    enabled = await call(client, "usergroups.enable", token, usergroup=group["id"])
    assert enabled["usergroup"]["date_delete"] == 0
    again = await call(client, "usergroups.enable", token, usergroup=group["id"])
    assert again["error"] == "already_enabled"
    listed_again = await call(client, "usergroups.list", inst.bot_token, include_count="true")
    assert [g["user_count"] for g in listed_again["usergroups"]] == [2]
    missing = await call(client, "usergroups.update", token, usergroup="S0NOTHERE0", name="x")
    assert missing["error"] == "no_such_subteam"
    denied = await call(client, "usergroups.create", inst.bot_token, name="Bots")
    assert denied["error"] == "missing_scope" and denied["needed"] == "usergroups:write"
