"""conversations.setTopic/setPurpose/rename/unarchive, pins.* and bookmarks.* against the
in-process emulator, with the events subscribed apps hear."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import DEFAULT_TEST_SCOPES, TestInstall, install_app_for_tests
from tests.integration.emulator.helpers import ACME, GENERAL, SUPPORT, call
from tests.integration.emulator.receiver import (
    RECEIVER_URL,
    Receiver,
    emulator_delivering_to,
    heard_events,
)

SCOPES = [*DEFAULT_TEST_SCOPES, "pins:read", "pins:write", "bookmarks:read", "bookmarks:write"]
EVENTS = ["message.channels", "pin_added", "pin_removed", "channel_rename", "channel_unarchive"]


@pytest.fixture
def admin(state: EmulatorState) -> TestInstall:
    inst = install_app_for_tests(state, ACME, SCOPES, channels=["general"])
    inst.app.event_request_url = f"{RECEIVER_URL}/events"
    inst.app.bot_events = list(EVENTS)
    return inst


@pytest.fixture
async def emu(
    state: EmulatorState, receiver: Receiver, admin: TestInstall
) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_delivering_to(state, receiver) as client:
        yield client


async def test_topic_purpose_and_rename(
    emu: httpx.AsyncClient, admin: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    token = admin.bot_token
    topic = await call(emu, "conversations.setTopic", token, channel=GENERAL, topic="Launch day")
    assert topic["ok"] is True and topic["channel"]["topic"]["value"] == "Launch day"
    purpose = await call(emu, "conversations.setPurpose", token, channel=GENERAL, purpose="News")
    assert purpose["channel"]["purpose"]["value"] == "News"
    too_long = await call(emu, "conversations.setTopic", token, channel=GENERAL, topic="x" * 251)
    assert too_long["error"] == "too_long"
    outside = await call(emu, "conversations.setTopic", token, channel=SUPPORT, topic="hi")
    assert outside["error"] == "not_in_channel"
    renamed = await call(emu, "conversations.rename", token, channel=GENERAL, name="all-hands")
    assert renamed["channel"]["name"] == "all-hands"
    taken = await call(emu, "conversations.rename", token, channel=GENERAL, name="support")
    assert taken["error"] == "name_taken"
    bad = await call(emu, "conversations.rename", token, channel=GENERAL, name="Bad Name")
    assert bad["error"] == "invalid_name_specials"
    history = await call(emu, "conversations.history", token, channel=GENERAL, limit=3)
    subtypes = [m.get("subtype") for m in history["messages"]]
    assert subtypes == ["channel_name", "channel_purpose", "channel_topic"]
    events = await heard_events(emu, receiver)
    rename = next(e for e in events if e["type"] == "channel_rename")
    assert rename["channel"]["id"] == GENERAL and rename["channel"]["name"] == "all-hands"
    assert {e.get("subtype") for e in events if e["type"] == "message"} >= {
        "channel_topic",
        "channel_purpose",
        "channel_name",
    }


async def test_unarchive(
    emu: httpx.AsyncClient, admin: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    token = admin.bot_token
    created = await call(emu, "conversations.create", token, name="old-project")
    channel_id = created["channel"]["id"]
    not_archived = await call(emu, "conversations.unarchive", token, channel=channel_id)
    assert not_archived["error"] == "not_archived"
    assert (await call(emu, "conversations.archive", token, channel=channel_id))["ok"] is True
    posting = await call(emu, "chat.postMessage", token, channel=channel_id, text="hi")
    assert posting["error"] == "is_archived"
    assert await call(emu, "conversations.unarchive", token, channel=channel_id) == {"ok": True}
    assert state.channel(ACME, channel_id) is not None
    assert (await call(emu, "chat.postMessage", token, channel=channel_id, text="hi"))["ok"]
    events = await heard_events(emu, receiver)
    assert any(e["type"] == "channel_unarchive" and e["channel"] == channel_id for e in events)


async def test_pins(emu: httpx.AsyncClient, admin: TestInstall, receiver: Receiver) -> None:
    token = admin.bot_token
    posted = await call(emu, "chat.postMessage", token, channel=GENERAL, text="Rules")
    ts = posted["ts"]
    assert await call(emu, "pins.add", token, channel=GENERAL, timestamp=ts) == {"ok": True}
    again = await call(emu, "pins.add", token, channel=GENERAL, timestamp=ts)
    assert again["error"] == "already_pinned"
    missing = await call(emu, "pins.add", token, channel=GENERAL, timestamp="1000000000.000001")
    assert missing["error"] == "message_not_found"
    assert (await call(emu, "pins.add", token, channel=GENERAL))["error"] == "no_item_specified"
    listed = await call(emu, "pins.list", token, channel=GENERAL)
    (item,) = listed["items"]
    assert item["type"] == "message" and item["channel"] == GENERAL
    assert item["created_by"] == admin.bot_user_id and item["message"]["ts"] == ts
    assert item["message"]["permalink"].endswith(f"/archives/{GENERAL}/p{ts.replace('.', '')}")
    history = await call(emu, "conversations.history", token, channel=GENERAL, limit=1)
    assert history["pin_count"] == 1 and history["messages"][0]["pinned_to"] == [GENERAL]
    assert await call(emu, "pins.remove", token, channel=GENERAL, timestamp=ts) == {"ok": True}
    gone = await call(emu, "pins.remove", token, channel=GENERAL, timestamp=ts)
    assert gone["error"] == "no_pin"
    assert (await call(emu, "pins.list", token, channel=GENERAL))["items"] == []
    unpinned = await call(emu, "conversations.history", token, channel=GENERAL, limit=1)
    assert "pinned_to" not in unpinned["messages"][0]
    events = [e for e in await heard_events(emu, receiver) if e["type"].startswith("pin_")]
    assert [e["type"] for e in events] == ["pin_added", "pin_removed"]
    assert events[0]["channel_id"] == GENERAL and events[0]["item"]["message"]["ts"] == ts
    assert events[0]["pin_count"] == 1 and events[1]["has_pins"] is False


async def test_pins_need_their_scope(emu: httpx.AsyncClient, state: EmulatorState) -> None:
    plain = install_app_for_tests(state, ACME, channels=["general"])
    posted = await call(emu, "chat.postMessage", plain.bot_token, channel=GENERAL, text="x")
    denied = await call(emu, "pins.add", plain.bot_token, channel=GENERAL, timestamp=posted["ts"])
    assert denied["error"] == "missing_scope" and denied["needed"] == "pins:write"


async def test_bookmarks(emu: httpx.AsyncClient, admin: TestInstall) -> None:
    token = admin.bot_token
    added = await call(
        emu,
        "bookmarks.add",
        token,
        channel_id=GENERAL,
        title="Runbook",
        type="link",
        link="https://example.test/runbook",
        emoji=":book:",
    )
    mark = added["bookmark"]
    assert mark["id"].startswith("Bk") and mark["channel_id"] == GENERAL
    assert (mark["title"], mark["link"], mark["emoji"], mark["type"]) == (
        "Runbook",
        "https://example.test/runbook",
        ":book:",
        "link",
    )
    assert mark["last_updated_by_user_id"] == admin.bot_user_id
    assert mark["app_id"] == admin.app.id
    bad_type = await call(
        emu, "bookmarks.add", token, channel_id=GENERAL, title="F", type="file", link="x"
    )
    assert bad_type["error"] == "invalid_bookmark_type"
    bad_link = await call(
        emu, "bookmarks.add", token, channel_id=GENERAL, title="F", type="link", link="nope"
    )
    assert bad_link["error"] == "invalid_link"
    edited = await call(
        emu, "bookmarks.edit", token, channel_id=GENERAL, bookmark_id=mark["id"], title="Ops"
    )
    assert edited["bookmark"]["title"] == "Ops"
    assert edited["bookmark"]["link"] == "https://example.test/runbook"
    listed = await call(emu, "bookmarks.list", token, channel_id=GENERAL)
    assert [b["title"] for b in listed["bookmarks"]] == ["Ops"]
    removed = await call(emu, "bookmarks.remove", token, channel_id=GENERAL, bookmark_id=mark["id"])
    assert removed == {"ok": True}
    unknown = await call(emu, "bookmarks.remove", token, channel_id=GENERAL, bookmark_id=mark["id"])
    assert unknown["error"] == "not_found"
    outside = await call(emu, "bookmarks.add", token, channel_id=SUPPORT, title="x", type="link")
    assert outside["error"] == "not_in_channel"
    assert (await call(emu, "bookmarks.list", token, channel_id=GENERAL))["bookmarks"] == []
