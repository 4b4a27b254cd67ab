"""users.lookupByEmail (users:read.email) and user_change when a profile changes."""

from __future__ import annotations

import httpx

from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, BOB, call
from tests.integration.emulator.receiver import (
    RECEIVER_URL,
    Receiver,
    emulator_delivering_to,
    heard_events,
)


async def test_lookup_by_email_needs_its_scope(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    with_email = install_app_for_tests(state, ACME, ["users:read", "users:read.email"])
    without = install_app_for_tests(state, ACME, ["users:read"])
    found = await call(client, "users.lookupByEmail", with_email.bot_token, email="Bob@Acme.test")
    assert found["ok"] is True and found["user"]["id"] == BOB
    assert found["user"]["profile"]["email"] == "bob@acme.test"
    missing = await call(client, "users.lookupByEmail", with_email.bot_token, email="x@acme.test")
    assert missing["error"] == "users_not_found"
    # Another workspace's people are not found.
    other = await call(
        client, "users.lookupByEmail", with_email.bot_token, email="erin@globex.test"
    )
    assert other["error"] == "users_not_found"
    denied = await call(client, "users.lookupByEmail", without.bot_token, email="bob@acme.test")
    assert denied["error"] == "missing_scope" and denied["needed"] == "users:read.email"


async def test_profile_change_sends_user_change(state: EmulatorState) -> None:
    receiver = Receiver()
    scopes = ["users:read", "users:read.email"]
    app = make_test_app(
        state,
        bot_scopes=scopes,
        event_request_url=f"{RECEIVER_URL}/events",
        bot_events=["user_change"],
    )
    bot = install_app_for_tests(state, ACME, scopes, app=app)
    plain_app = make_test_app(
        state,
        bot_scopes=["users:read"],
        event_request_url=f"{RECEIVER_URL}/plain",
        bot_events=["user_change"],
    )
    install_app_for_tests(state, ACME, ["users:read"], app=plain_app)
    async with emulator_delivering_to(state, receiver) as emu:
        changed = await emu.post(
            "/_emulator/users/profile",
            json={"user_id": BOB, "real_name": "Robert Baker", "email": "robert@acme.test"},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["changed"] is True
        assert changed.json()["user"]["real_name"] == "Robert Baker"
        same = await emu.post(
            "/_emulator/users/profile", json={"user_id": BOB, "title": "Engineer"}
        )
        assert same.json()["changed"] is False  # nothing new: no event
        bad = await emu.post("/_emulator/users/profile", json={"user_id": BOB, "name": "rob"})
        assert bad.status_code == 400 and bad.json()["detail"].startswith("name:")
        nobody = await emu.post(
            "/_emulator/users/profile", json={"user_id": "U0NOPE", "title": "x"}
        )
        assert nobody.status_code == 404
        events = await heard_events(emu, receiver)
        found = await call(emu, "users.lookupByEmail", bot.bot_token, email="robert@acme.test")
        assert found["user"]["id"] == BOB
        plain_events = [r.json()["event"] for r in receiver.on("/plain")]
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "user_change"
    assert event["user"]["id"] == BOB and event["user"]["real_name"] == "Robert Baker"
    assert event["user"]["profile"]["email"] == "robert@acme.test"
    assert isinstance(event["cache_ts"], int) and event["event_ts"]
    # Without users:read.email the app sees the change but not the email.
    assert len(plain_events) == 1 and "email" not in plain_events[0]["user"]["profile"]


async def test_users_profile_set_sends_user_change(state: EmulatorState) -> None:
    receiver = Receiver()
    app = make_test_app(
        state,
        bot_scopes=["users:read"],
        user_scopes=["users.profile:write"],
        event_request_url=f"{RECEIVER_URL}/events",
        bot_events=["user_change"],
    )
    inst = install_app_for_tests(
        state, ACME, ["users:read"], app=app, user_scopes=["users.profile:write"]
    )
    assert inst.user_token is not None
    async with emulator_delivering_to(state, receiver) as emu:
        answer = await call(
            emu, "users.profile.set", inst.user_token, name="status_text", value="On call"
        )
        assert answer["ok"] is True
        events = await heard_events(emu, receiver)
    assert [(e["type"], e["user"]["id"]) for e in events] == [("user_change", ALICE)]
    assert events[0]["user"]["profile"]["status_text"] == "On call"
