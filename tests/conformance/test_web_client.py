"""slack_sdk's WebClient (sync, in a thread) and AsyncWebClient against the emulator, unchanged
except for ``base_url``: calls, Slack's errors as SlackApiError, cursor pagination through the
SDK's own iterator, file uploads (files_upload_v2) and HTTP 429 with Retry-After."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.emulator.testing import TestInstall, install_app_for_tests
from tests.conformance.conftest import ACME, ALICE, BOB, GENERAL, STAFF, SUPPORT, Emulator

Call = Callable[..., Awaitable[Any]]


class Slack:
    """One way of calling the Web API: the sync client in a thread, or the async client."""

    def __init__(self, flavor: str, api_url: str, token: str | None) -> None:
        self.flavor = flavor
        if flavor == "sync":
            self._sync = WebClient(token=token, base_url=api_url, timeout=10)
        else:
            self._async = AsyncWebClient(token=token, base_url=api_url, timeout=10)

    async def __call__(self, method: str, **kwargs: Any) -> Any:
        if self.flavor == "sync":
            return await asyncio.to_thread(getattr(self._sync, method), **kwargs)
        return await getattr(self._async, method)(**kwargs)

    async def pages(self, method: str, **kwargs: Any) -> list[Any]:
        """Every page of a paginated method, following next_cursor the SDK's own way."""
        first = await self(method, **kwargs)
        if self.flavor == "sync":
            return await asyncio.to_thread(lambda: [page.data for page in first])
        return [page.data async for page in first]


@pytest.fixture(params=["sync", "async"])
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def bot(emulator: Emulator) -> TestInstall:
    return install_app_for_tests(
        emulator.state, ACME, channels=["general", "staff"], user_scopes=["chat:write"]
    )


@pytest.fixture
def slack(flavor: str, emulator: Emulator, bot: TestInstall) -> Slack:
    return Slack(flavor, emulator.api_url, bot.bot_token)


async def test_auth_test_identifies_the_bot(slack: Slack, bot: TestInstall) -> None:
    me = await slack("auth_test")
    assert me["ok"] is True
    assert (me["team_id"], me["user_id"], me["bot_id"]) == (ACME, bot.bot_user_id, bot.bot_id)
    assert me["url"].startswith("https://acme.slack.com")


async def test_post_thread_update_react_and_delete(slack: Slack, bot: TestInstall) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*New ticket*"}}]
    root = await slack("chat_postMessage", channel=GENERAL, text="New ticket", blocks=blocks)
    assert root["channel"] == GENERAL and root["message"]["bot_id"] == bot.bot_id
    assert root["message"]["blocks"] == blocks
    reply = await slack(
        "chat_postMessage", channel=GENERAL, text="first reply", thread_ts=root["ts"]
    )
    assert reply["message"]["thread_ts"] == root["ts"]

    history = await slack("conversations_history", channel=GENERAL, limit=10)
    top = [m for m in history["messages"] if m["ts"] == root["ts"]]
    assert top and top[0]["reply_count"] == 1 and top[0]["app_id"] == bot.app.id
    thread = await slack("conversations_replies", channel=GENERAL, ts=root["ts"])
    assert [m["text"] for m in thread["messages"]] == ["New ticket", "first reply"]

    updated = await slack("chat_update", channel=GENERAL, ts=root["ts"], text="Ticket #1")
    assert updated["text"] == "Ticket #1"
    link = await slack("chat_getPermalink", channel=GENERAL, message_ts=reply["ts"])
    assert f"/archives/{GENERAL}/p" in link["permalink"]

    await slack("reactions_add", channel=GENERAL, timestamp=root["ts"], name="eyes")
    got = await slack("reactions_get", channel=GENERAL, timestamp=root["ts"])
    assert got["message"]["reactions"] == [{"name": "eyes", "users": [bot.bot_user_id], "count": 1}]

    deleted = await slack("chat_delete", channel=GENERAL, ts=reply["ts"])
    assert deleted["ts"] == reply["ts"]
    thread = await slack("conversations_replies", channel=GENERAL, ts=root["ts"])
    assert [m["ts"] for m in thread["messages"]] == [root["ts"]]


async def test_dm_by_user_id_and_conversations_open(slack: Slack, bot: TestInstall) -> None:
    opened = await slack("conversations_open", users=BOB)
    dm = opened["channel"]["id"]
    assert dm.startswith("D")
    posted = await slack("chat_postMessage", channel=BOB, text="psst")
    assert posted["channel"] == dm
    info = await slack("conversations_info", channel=dm)
    assert info["channel"]["is_im"] is True and info["channel"]["user"] == BOB


async def test_users_and_team(slack: Slack) -> None:
    user = await slack("users_info", user=ALICE)
    assert user["user"]["name"] == "alice" and user["user"]["profile"]["email"] == "alice@acme.test"
    found = await slack("users_lookupByEmail", email="bob@acme.test")
    assert found["user"]["id"] == BOB
    profile = await slack("users_profile_get", user=ALICE)
    assert profile["profile"]["real_name"] == "Alice Archer"
    team = await slack("team_info")
    assert team["team"]["id"] == ACME and team["team"]["domain"] == "acme"


async def test_cursor_pagination_through_the_sdk_iterator(slack: Slack) -> None:
    pages = await slack.pages("conversations_list", types="public_channel,private_channel", limit=1)
    assert len(pages) >= 3
    assert all(len(p["channels"]) <= 1 for p in pages)
    assert pages[-1]["response_metadata"]["next_cursor"] == ""
    ids = [c["id"] for p in pages for c in p["channels"]]
    assert len(ids) == len(set(ids))
    # The bot was invited to #staff, so it sees that private channel too.
    assert {GENERAL, SUPPORT, STAFF} <= set(ids)

    users = await slack.pages("users_list", limit=2)
    names = {u["name"] for p in users for u in p["members"]}
    assert {"alice", "bob", "carol", "dave"} <= names


async def test_slack_errors_raise_slack_api_error(
    flavor: str, slack: Slack, emulator: Emulator
) -> None:
    with pytest.raises(SlackApiError) as missing:
        await slack("chat_postMessage", channel="C0NOPE0000", text="hi")
    assert missing.value.response["error"] == "channel_not_found"
    assert missing.value.response.status_code == 200

    # The SDK itself warns about a message without text before sending it.
    with pytest.raises(SlackApiError) as empty, pytest.warns(UserWarning, match="text"):
        await slack("chat_postMessage", channel=GENERAL, text="")
    assert empty.value.response["error"] == "no_text"

    narrow = install_app_for_tests(emulator.state, ACME, ["chat:write"])
    limited = Slack(flavor, emulator.api_url, narrow.bot_token)
    with pytest.raises(SlackApiError) as scope:
        await limited("users_list")
    assert scope.value.response["error"] == "missing_scope"
    assert scope.value.response["needed"] == "users:read"
    assert scope.value.response["provided"] == "chat:write"

    stranger = Slack(flavor, emulator.api_url, "xoxb-0-not-a-token")
    with pytest.raises(SlackApiError) as bad:
        await stranger("auth_test")
    assert bad.value.response["error"] == "invalid_auth"


async def test_user_token_posts_as_the_person(
    flavor: str, emulator: Emulator, bot: TestInstall
) -> None:
    assert bot.user_token is not None
    as_alice = Slack(flavor, emulator.api_url, bot.user_token)
    posted = await as_alice("chat_postMessage", channel=GENERAL, text="from alice")
    assert posted["message"]["user"] == ALICE
    assert "bot_id" not in posted["message"]


async def test_files_upload_v2_and_private_download(
    slack: Slack, emulator: Emulator, bot: TestInstall
) -> None:
    done = await slack(
        "files_upload_v2",
        channel=GENERAL,
        content="line one\nline two\n",
        filename="notes.txt",
        title="Notes",
        initial_comment="see attached",
    )
    file_id = done["file"]["id"]
    info = await slack("files_info", file=file_id)
    assert info["file"]["name"] == "notes.txt" and info["file"]["title"] == "Notes"
    url = info["file"]["url_private"]
    async with httpx.AsyncClient(timeout=10) as http:
        anonymous = await http.get(url)
        authorized = await http.get(url, headers=bot.bot_headers)
    assert anonymous.status_code != 200
    assert authorized.status_code == 200 and authorized.content == b"line one\nline two\n"
    history = await slack("conversations_history", channel=GENERAL, limit=5)
    shared = [m for m in history["messages"] if file_id in [f["id"] for f in m.get("files", [])]]
    assert shared and shared[0]["text"] == "see attached"


async def test_rate_limit_answers_429_with_retry_after(slack: Slack, emulator: Emulator) -> None:
    emulator.state.rate_limits_enabled = True
    emulator.state.rate_limiter.configure({"post_channel": {"per_minute": 1, "burst": 2}})
    for i in range(2):
        await slack("chat_postMessage", channel=GENERAL, text=f"burst {i}")
    with pytest.raises(SlackApiError) as limited:
        await slack("chat_postMessage", channel=GENERAL, text="one too many")
    response = limited.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    assert int(response.headers["Retry-After"]) >= 1


async def test_json_bodies_and_form_bodies_agree(emulator: Emulator, bot: TestInstall) -> None:
    # The SDK sends JSON for some arguments (api_call with json=); Slack accepts either.
    client = AsyncWebClient(token=bot.bot_token, base_url=emulator.api_url)
    via_json = await client.api_call(
        "chat.postMessage", json={"channel": GENERAL, "text": "as json"}
    )
    via_form = await client.api_call(
        "chat.postMessage", params={"channel": GENERAL, "text": "as form"}
    )
    assert via_json["ok"] and via_form["ok"]
    assert json.loads(json.dumps(via_json.data))["message"]["text"] == "as json"


async def test_answers_carry_the_oauth_scope_headers(emulator: Emulator) -> None:
    inst = install_app_for_tests(emulator.state, ACME, ["chat:write", "channels:read"])
    client = AsyncWebClient(token=inst.bot_token, base_url=emulator.api_url)
    listed = await client.conversations_list()
    assert listed.headers["x-oauth-scopes"] == "chat:write,channels:read"
    assert "channels:read" in listed.headers["x-accepted-oauth-scopes"].split(",")
    with pytest.raises(SlackApiError) as denied:
        await client.users_list()
    assert denied.value.response["error"] == "missing_scope"
    assert denied.value.response.headers["x-accepted-oauth-scopes"] == "users:read"


async def test_history_pages_forward_from_oldest(slack: Slack) -> None:
    stamps = []
    for i in range(5):
        stamps.append((await slack("chat_postMessage", channel=GENERAL, text=f"n{i}"))["ts"])
    pages = await slack.pages("conversations_history", channel=GENERAL, oldest=stamps[0], limit=2)
    assert [[m["text"] for m in page["messages"]] for page in pages] == [
        ["n2", "n1"],
        ["n4", "n3"],
    ]
