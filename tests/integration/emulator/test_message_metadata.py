"""Message metadata: stored on post and update, shown in history as Slack shows it, carried in
events to the posting app (and apps subscribed to its type), and the events_first switch that
delivers a post's events before chat.postMessage answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from starlette.responses import Response

from slackbridge.emulator.state import App, EmulatorState
from slackbridge.emulator.testing import TestInstall, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, GENERAL, call
from tests.integration.emulator.receiver import (
    RECEIVER_URL,
    Received,
    Receiver,
    emulator_delivering_to,
)

META = {"event_type": "bridge_post", "event_payload": {"conversation": "c-1", "n": 1}}
SCOPES = ["chat:write", "channels:history", "channels:read"]


def _app(state: EmulatorState, path: str, events: list[str], **fields: Any) -> App:
    return make_test_app(
        state,
        bot_scopes=SCOPES,
        event_request_url=f"{RECEIVER_URL}/{path}",
        bot_events=events,
        **fields,
    )


def _install(state: EmulatorState, app: App) -> TestInstall:
    return install_app_for_tests(state, ACME, SCOPES, app=app, channels=[GENERAL])


async def _post_json(
    client: httpx.AsyncClient, method: str, token: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/{method}",
        content=json.dumps(body),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json; charset=utf-8",
        },
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_history_shows_the_payload_only_with_include_all_metadata(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    bot = _install(state, _app(state, "a", []))
    posted = await _post_json(
        client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x", metadata=META
    )
    assert posted["message"]["metadata"] == META
    reply = await call(
        client,
        "chat.postMessage",
        bot.bot_token,
        channel=GENERAL,
        text="r",
        thread_ts=posted["ts"],
        metadata=json.dumps(META),  # as a form field: a JSON string
    )
    assert reply["ok"] is True

    plain = await call(client, "conversations.history", bot.bot_token, channel=GENERAL)
    mine = next(m for m in plain["messages"] if m["ts"] == posted["ts"])
    assert mine["metadata"] == {"event_type": "bridge_post"}
    full = await call(
        client,
        "conversations.history",
        bot.bot_token,
        channel=GENERAL,
        include_all_metadata="true",
    )
    assert next(m for m in full["messages"] if m["ts"] == posted["ts"])["metadata"] == META

    replies = await call(
        client, "conversations.replies", bot.bot_token, channel=GENERAL, ts=posted["ts"]
    )
    assert [m["metadata"] for m in replies["messages"]] == [{"event_type": "bridge_post"}] * 2
    all_replies = await call(
        client,
        "conversations.replies",
        bot.bot_token,
        channel=GENERAL,
        ts=posted["ts"],
        include_all_metadata="1",
    )
    assert [m["metadata"] for m in all_replies["messages"]] == [META, META]


async def test_chat_update_replaces_metadata(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    bot = _install(state, _app(state, "a", []))
    posted = await _post_json(
        client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x", metadata=META
    )
    newer = {"event_type": "bridge_post", "event_payload": {"conversation": "c-1", "n": 2}}
    await _post_json(
        client,
        "chat.update",
        bot.bot_token,
        channel=GENERAL,
        ts=posted["ts"],
        text="y",
        metadata=newer,
    )
    history = await call(
        client, "conversations.history", bot.bot_token, channel=GENERAL, include_all_metadata="true"
    )
    assert next(m for m in history["messages"] if m["ts"] == posted["ts"])["metadata"] == newer
    bad = await _post_json(
        client,
        "chat.postMessage",
        bot.bot_token,
        channel=GENERAL,
        text="x",
        metadata={"event_payload": {}},
    )
    assert bad["error"] == "invalid_metadata_format"


async def test_events_carry_metadata_to_the_poster_and_subscribers_only(
    state: EmulatorState,
) -> None:
    receiver = Receiver()
    poster = _install(state, _app(state, "poster", ["message.channels"]))
    _install(state, _app(state, "other", ["message.channels"]))
    subscriber_app = _app(
        state,
        "subscriber",
        [
            "message.channels",
            "message_metadata_posted",
            "message_metadata_updated",
            "message_metadata_deleted",
        ],
        metadata_subscriptions=[{"app_id": "*", "event_type": "bridge_post"}],
    )
    _install(state, subscriber_app)
    async with emulator_delivering_to(state, receiver) as emu:
        posted = await _post_json(
            emu, "chat.postMessage", poster.bot_token, channel=GENERAL, text="x", metadata=META
        )
        await emu.app.state.outbound.wait_idle()  # type: ignore[attr-defined]

        def message_events(path: str) -> list[dict[str, Any]]:
            return [
                r.json()["event"]
                for r in receiver.on(path)
                if r.json()["event"]["type"] == "message"
                and r.json()["event"].get("ts") == posted["ts"]
            ]

        assert [e["metadata"] for e in message_events("/poster")] == [META]
        assert ["metadata" in e for e in message_events("/other")] == [False]
        assert [e["metadata"] for e in message_events("/subscriber")] == [META]
        announced = [
            r.json()["event"]
            for r in receiver.on("/subscriber")
            if r.json()["event"]["type"] == "message_metadata_posted"
        ]
        assert len(announced) == 1
        assert announced[0]["metadata"] == META
        assert announced[0]["message_ts"] == posted["ts"]
        assert announced[0]["app_id"] == poster.app.id
        assert announced[0]["channel_id"] == GENERAL
        # Nobody else subscribes to the metadata events.
        assert not [
            r for r in receiver.on("/poster") if r.json()["event"]["type"].startswith("message_m")
        ]

        newer = {"event_type": "bridge_post", "event_payload": {"conversation": "c-2"}}
        await _post_json(
            emu,
            "chat.update",
            poster.bot_token,
            channel=GENERAL,
            ts=posted["ts"],
            text="y",
            metadata=newer,
        )
        await emu.app.state.outbound.wait_idle()  # type: ignore[attr-defined]
        updated = [
            r.json()["event"]
            for r in receiver.on("/subscriber")
            if r.json()["event"]["type"] == "message_metadata_updated"
        ]
        assert len(updated) == 1
        assert updated[0]["previous_metadata"] == META and updated[0]["metadata"] == newer
        changed = [
            r.json()["event"]
            for r in receiver.on("/other")
            if r.json()["event"].get("subtype") == "message_changed"
        ]
        assert changed and "metadata" not in changed[0]["message"]
        assert "metadata" not in changed[0]["previous_message"]
        mine = [
            r.json()["event"]
            for r in receiver.on("/poster")
            if r.json()["event"].get("subtype") == "message_changed"
        ]
        assert mine[0]["message"]["metadata"] == newer
        assert mine[0]["previous_message"]["metadata"] == META

        await call(emu, "chat.delete", poster.bot_token, channel=GENERAL, ts=posted["ts"])
        await emu.app.state.outbound.wait_idle()  # type: ignore[attr-defined]
        deleted = [
            r.json()["event"]
            for r in receiver.on("/subscriber")
            if r.json()["event"]["type"] == "message_metadata_deleted"
        ]
        assert deleted and deleted[0]["previous_metadata"] == newer
        other_deleted = [
            r.json()["event"]
            for r in receiver.on("/other")
            if r.json()["event"].get("subtype") == "message_deleted"
        ]
        assert other_deleted and "metadata" not in other_deleted[0]["previous_message"]


async def test_manifest_metadata_subscriptions_are_read(state: EmulatorState) -> None:
    from slackbridge.emulator.manifest import apply_manifest, parse_manifest

    parsed, errors = parse_manifest(
        {
            "display_information": {"name": "Reader"},
            "settings": {
                "event_subscriptions": {
                    "request_url": "https://reader.test/events",
                    "metadata_subscriptions": [{"app_id": "*", "event_type": "bridge_post"}],
                }
            },
        }
    )
    assert parsed is not None, errors
    app = make_test_app(state)
    apply_manifest(app, parsed)
    assert app.metadata_subscriptions == [{"app_id": "*", "event_type": "bridge_post"}]
    # The metadata events need their scope, as on Slack.
    _, errors = parse_manifest(
        {
            "display_information": {"name": "Reader"},
            "features": {"bot_user": {"display_name": "reader"}},
            "oauth_config": {"scopes": {"bot": ["chat:write"]}},
            "settings": {
                "event_subscriptions": {
                    "request_url": "https://reader.test/events",
                    "bot_events": ["message_metadata_posted"],
                }
            },
        }
    )
    assert any("metadata.message:read" in e.message for e in errors)


async def test_events_first_delivers_the_event_before_the_answer(state: EmulatorState) -> None:
    receiver = Receiver()
    gate = asyncio.Event()

    async def hold(_: Received) -> Response:
        await gate.wait()
        return Response(status_code=200)

    receiver.respond = hold
    bot = _install(state, _app(state, "events", ["message.channels"]))
    async with emulator_delivering_to(state, receiver) as emu:
        # Without the switch the answer does not wait for the app.
        quick = await asyncio.wait_for(
            call(emu, "chat.postMessage", bot.bot_token, channel=GENERAL, text="a"), 10
        )
        await receiver.wait_for(1, "/events")
        assert receiver.on("/events")[0].json()["event"]["ts"] == quick["ts"]
        gate.set()
        await emu.app.state.outbound.wait_idle()  # type: ignore[attr-defined]
        gate.clear()

        added = await emu.post(
            "/_emulator/faults",
            json={"method": "chat.postMessage", "events_first": True, "times": 1},
        )
        assert added.status_code == 200 and added.json()["fault"]["events_first"] is True
        posting = asyncio.create_task(
            call(emu, "chat.postMessage", bot.bot_token, channel=GENERAL, text="b")
        )
        await receiver.wait_for(2, "/events")
        # The app holds the event; the answer is held until the app has answered it.
        assert not posting.done()
        gate.set()
        answer = await asyncio.wait_for(posting, 10)
        assert answer["ok"] is True
        assert receiver.on("/events")[1].json()["event"]["ts"] == answer["ts"]


async def test_events_first_is_a_method_fault_only(client: httpx.AsyncClient) -> None:
    bad = await client.post(
        "/_emulator/faults", json={"url": "http://app.test/", "events_first": True}
    )
    assert bad.status_code == 400
    assert "events_first" in bad.json()["detail"]
