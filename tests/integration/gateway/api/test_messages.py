"""Messages through the API: posted, threaded, edited, deleted, tracked, reported by webhook."""

from __future__ import annotations

from typing import Any

from tests.integration.gateway.api.conftest import (
    ACME,
    ALICE,
    BOB,
    GENERAL,
    SUPPORT,
    ApiStack,
)


def _channel(stack: ApiStack, channel_id: str) -> Any:
    return stack.emulator.state.workspaces[ACME].channels[channel_id]


async def _post(stack: ApiStack, **body: Any) -> dict[str, Any]:
    answer = await stack.api.post("/messages", json={"workspace": ACME, **body})
    assert answer.status_code == 202, answer.text
    accepted: dict[str, Any] = answer.json()
    return accepted


async def test_post_is_accepted_then_delivered_with_its_ts(stack: ApiStack) -> None:
    accepted = await _post(stack, channel=GENERAL, text="hello")
    assert accepted["id"].startswith("msg_")
    assert accepted["status"] in ("queued", "sending")
    assert accepted["operation"] == "chat.postMessage"
    assert accepted["replayed"] is False
    status = await stack.wait_status(accepted["id"])
    assert status["status"] == "sent", status
    assert status["error"] is None
    # The bot was not in #general: it joined the public channel, then posted.
    posted = _channel(stack, GENERAL).by_ts[status["ts"]]
    assert posted.text == "hello"
    assert posted.bot_id is not None
    assert stack.emulator.calls_to("conversations.join", channel=GENERAL)
    await stack.product.wait_for(lambda p: p.outcome_of(accepted["id"]) is not None)
    event = stack.product.outcome_of(accepted["id"])
    assert event is not None
    assert event["type"] == "message.delivered"
    message = event["data"]["message"]
    assert message["ts"] == status["ts"]
    assert message["channel"] == GENERAL
    assert message["operation"] == "chat.postMessage"
    assert event["data"]["workspace"]["team_id"] == ACME
    assert event["data"]["channel"] == {"id": GENERAL, "kind": "public"}


async def test_reply_to_an_unsent_message_lands_in_its_thread_and_edits_follow(
    stack: ApiStack,
) -> None:
    root = await _post(stack, channel=SUPPORT, text="root")
    # Both go out after the root, though the product never saw the root's ts.
    reply = await _post(stack, channel=SUPPORT, text="reply", reply_to=root["id"])
    edit = await stack.api.post(
        "/messages/update", json={"message_id": root["id"], "text": "root (edited)"}
    )
    assert edit.status_code == 202, edit.text
    sent_root = await stack.wait_status(root["id"])
    sent_reply = await stack.wait_status(reply["id"])
    assert (await stack.wait_status(edit.json()["id"]))["status"] == "sent"
    channel = _channel(stack, SUPPORT)
    assert channel.by_ts[sent_reply["ts"]].thread_ts == sent_root["ts"]
    assert sent_reply["thread_ts"] == sent_root["ts"]
    assert channel.by_ts[sent_root["ts"]].text == "root (edited)"
    assert channel.by_ts[sent_root["ts"]].edited is not None


async def test_update_and_delete_by_channel_and_ts(stack: ApiStack) -> None:
    sent = await stack.wait_status((await _post(stack, channel=SUPPORT, text="v1"))["id"])
    ref = {"workspace": ACME, "channel": SUPPORT, "ts": sent["ts"]}
    update = await stack.api.post("/messages/update", json={**ref, "blocks": [_section("v2")]})
    assert update.status_code == 202
    assert (await stack.wait_status(update.json()["id"]))["status"] == "sent"
    assert _channel(stack, SUPPORT).by_ts[sent["ts"]].blocks == [_section("v2")]
    delete = await stack.api.post("/messages/delete", json=ref)
    assert delete.status_code == 202
    assert (await stack.wait_status(delete.json()["id"]))["status"] == "sent"
    assert sent["ts"] not in _channel(stack, SUPPORT).by_ts


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_persona_thread_ts_and_broadcast(stack: ApiStack) -> None:
    root = await stack.wait_status((await _post(stack, channel=SUPPORT, text="root"))["id"])
    accepted = await _post(
        stack,
        channel=SUPPORT,
        text="from the help desk",
        thread_ts=root["ts"],
        reply_broadcast=True,
        persona={"username": "Help Desk", "icon_emoji": ":robot_face:"},
        metadata={"event_type": "ticket_reply", "event_payload": {"ticket": 42}},
    )
    sent = await stack.wait_status(accepted["id"])
    posted = _channel(stack, SUPPORT).by_ts[sent["ts"]]
    assert posted.username == "Help Desk"
    assert posted.icons == {"emoji": ":robot_face:"}
    assert posted.thread_ts == root["ts"]
    assert posted.subtype == "thread_broadcast"
    # The product's metadata is kept; slackbridge adds its marker beside it.
    assert posted.metadata["event_type"] == "ticket_reply"
    assert posted.metadata["event_payload"]["ticket"] == 42
    assert posted.metadata["event_payload"]["slackbridge_message_id"] == accepted["id"]


async def test_post_as_the_installing_user(stack: ApiStack) -> None:
    accepted = await _post(stack, channel=GENERAL, text="typed by alice", as_user=ALICE)
    sent = await stack.wait_status(accepted["id"])
    assert sent["status"] == "sent", sent
    posted = _channel(stack, GENERAL).by_ts[sent["ts"]]
    assert posted.user == ALICE
    assert posted.bot_id is None


async def test_post_as_a_user_without_a_token_is_refused(stack: ApiStack) -> None:
    answer = await stack.api.post(
        "/messages",
        json={"workspace": ACME, "channel": GENERAL, "text": "x", "as_user": BOB},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "user_token_missing"


async def test_ephemeral_reaches_only_its_user(stack: ApiStack) -> None:
    answer = await stack.api.post(
        "/messages/ephemeral",
        json={"workspace": ACME, "channel": SUPPORT, "user": BOB, "text": "psst"},
    )
    assert answer.status_code == 202, answer.text
    sent = await stack.wait_status(answer.json()["id"])
    assert sent["status"] == "sent", sent
    (record,) = [e for e in stack.emulator.state.ephemerals if e["text"] == "psst"]
    assert record["visible_to"] == BOB
    assert sent["result"]["message_ts"] == record["ts"]


async def test_permalink_by_id_and_by_ts(stack: ApiStack) -> None:
    accepted = await _post(stack, channel=SUPPORT, text="link me")
    early = await stack.api.post("/messages/permalink", json={"message_id": accepted["id"]})
    if early.status_code == 409:  # not sent yet
        assert early.json()["error"]["code"] == "message_not_sent"
    sent = await stack.wait_status(accepted["id"])
    by_id = await stack.api.post("/messages/permalink", json={"message_id": accepted["id"]})
    assert by_id.status_code == 200, by_id.text
    link = by_id.json()
    assert link["ts"] == sent["ts"] and link["channel"] == SUPPORT
    assert link["permalink"].endswith(f"/archives/{SUPPORT}/p{sent['ts'].replace('.', '')}")
    by_ts = await stack.api.post(
        "/messages/permalink", json={"workspace": ACME, "channel": SUPPORT, "ts": sent["ts"]}
    )
    assert by_ts.json()["permalink"] == link["permalink"]
    missing = await stack.api.post(
        "/messages/permalink",
        json={"workspace": ACME, "channel": SUPPORT, "ts": "1000000000.000001"},
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "message_not_found"


async def test_idempotency_key_replays_and_conflicts(stack: ApiStack) -> None:
    body = {"workspace": ACME, "channel": SUPPORT, "text": "once"}
    headers = {"Idempotency-Key": "order-7-confirmation"}
    first = await stack.api.post("/messages", json=body, headers=headers)
    again = await stack.api.post("/messages", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    await stack.wait_status(first.json()["id"])
    texts = [m.text for m in _channel(stack, SUPPORT).messages]
    assert texts.count("once") == 1
    conflict = await stack.api.post("/messages", json={**body, "text": "twice"}, headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    # Another endpoint with the same key and a different body conflicts as well.
    other = await stack.api.post("/messages/ephemeral", json={**body, "user": BOB}, headers=headers)
    assert other.status_code == 409


async def test_permanent_failure_is_reported(stack: ApiStack) -> None:
    accepted = await _post(stack, channel="C0NOSUCHCH", text="nowhere")
    status = await stack.wait_status(accepted["id"])
    assert status["status"] == "failed"
    assert status["error"]["code"] == "channel_not_found"
    assert status["ts"] is None
    await stack.product.wait_for(lambda p: p.outcome_of(accepted["id"]) is not None)
    event = stack.product.outcome_of(accepted["id"])
    assert event is not None and event["type"] == "message.failed"
    assert event["data"]["error"]["code"] == "channel_not_found"
    # A reply to a failed message is refused up front.
    reply = await stack.api.post(
        "/messages",
        json={"workspace": ACME, "channel": "C0NOSUCHCH", "text": "r", "reply_to": accepted["id"]},
    )
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "message_not_sent"


async def test_private_channel_the_bot_is_not_in_fails_without_joining(stack: ApiStack) -> None:
    accepted = await _post(stack, channel="G0ACME0STF", text="secret")
    status = await stack.wait_status(accepted["id"])
    assert status["status"] == "failed"
    assert status["error"]["code"] == "channel_not_found"
    assert not stack.emulator.calls_to("conversations.join", channel="G0ACME0STF")
