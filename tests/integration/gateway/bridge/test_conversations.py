"""Conversations through the API against the emulator: still (a thread under a card) and noisy
(a channel of its own), created exactly once however many PUTs race, closed and reopened."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx

from slackbridge.emulator.state import Channel
from tests.integration.gateway.api.conftest import ACME, ALICE, BOB, GENERAL, SUPPORT, ApiStack
from tests.integration.gateway.bridge.conftest import wait_conversation, wait_message


def _channel(stack: ApiStack, channel_id: str) -> Any:
    return stack.emulator.state.workspaces[ACME].channels[channel_id]


def _still(**extra: Any) -> dict[str, Any]:
    return {
        "workspace": ACME,
        "mode": "still",
        "channel": SUPPORT,
        "card": {"text": "Ticket 1: printer on fire"},
        **extra,
    }


async def test_concurrent_puts_make_one_thread(stack: ApiStack) -> None:
    answers = await asyncio.gather(
        *(stack.api.put("/conversations/ticket-1", json=_still()) for _ in range(25))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 1 and codes.count(200) == 24, codes
    opened = await wait_conversation(stack, "ticket-1")
    assert opened["state"] == "open", opened
    assert opened["channel"] == SUPPORT and opened["thread_ts"]
    assert opened["permalink"] and opened["thread_ts"].replace(".", "") in opened["permalink"]
    cards = [m for m in _channel(stack, SUPPORT).messages if m.text == "Ticket 1: printer on fire"]
    assert len(cards) == 1
    assert cards[0].ts == opened["thread_ts"]
    assert cards[0].metadata["event_type"] == "slackbridge_post"
    again = await stack.api.put("/conversations/ticket-1", json=_still())
    assert again.status_code == 200 and again.json()["thread_ts"] == opened["thread_ts"]
    other = await stack.api.put("/conversations/ticket-1", json=_still(channel=GENERAL))
    assert other.status_code == 409 and other.json()["error"]["code"] == "conversation_conflict"


async def test_still_messages_persona_edit_delete_react_close_reopen(stack: ApiStack) -> None:
    created = await stack.api.put("/conversations/t-2", json=_still(title="Two"))
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "creating"
    post = {
        "id": "m1",
        "author": {"persona": {"name": "Dana (support)", "icon_emoji": ":robot_face:"}},
        "text": "We are on it",
    }
    first = await stack.api.post("/conversations/t-2/messages", json=post)
    assert first.status_code == 202, first.text
    assert first.json()["state"] == "queued" and first.json()["operation_id"].startswith("msg_")
    replay = await stack.api.post("/conversations/t-2/messages", json=post)
    assert (
        replay.status_code == 202 and replay.json()["operation_id"] == first.json()["operation_id"]
    )
    clash = await stack.api.post("/conversations/t-2/messages", json={**post, "text": "other"})
    assert clash.status_code == 409
    sent = await wait_message(stack, "t-2", "m1")
    assert sent["state"] == "sent", sent
    conversation = await wait_conversation(stack, "t-2")
    channel = _channel(stack, SUPPORT)
    reply = channel.by_ts[sent["ts"]]
    assert reply.thread_ts == conversation["thread_ts"]
    assert reply.username == "Dana (support)"
    assert reply.metadata["event_payload"]["slackbridge_message_id"] == sent["operation_id"]
    assert reply.metadata["event_payload"]["product_message_id"] == "m1"

    edit = await stack.api.patch("/conversations/t-2/messages/m1", json={"text": "Fixed it"})
    assert edit.status_code == 202, edit.text
    react = await stack.api.post("/conversations/t-2/messages/m1/reactions", json={"name": "eyes"})
    assert react.status_code == 202, react.text
    await stack.wait_status(react.json()["operation_id"])
    assert channel.by_ts[sent["ts"]].text == "Fixed it"
    assert "eyes" in channel.by_ts[sent["ts"]].reactions
    unreact = await stack.api.delete("/conversations/t-2/messages/m1/reactions/eyes")
    await stack.wait_status(unreact.json()["operation_id"])
    assert "eyes" not in channel.by_ts[sent["ts"]].reactions
    deleted = await stack.api.delete("/conversations/t-2/messages/m1")
    assert deleted.status_code == 202 and deleted.json()["deleted"] is True
    await stack.wait_status(deleted.json()["operation_id"])
    gone = channel.by_ts.get(sent["ts"])
    assert gone is None or gone.deleted
    again = await stack.api.patch("/conversations/t-2/messages/m1", json={"text": "x"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "message_deleted"

    closed = await stack.api.post("/conversations/t-2/close", json={"message": "Closing, thanks"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert closed.json()["closed_at"] is not None
    refused = await stack.api.post("/conversations/t-2/messages", json={**post, "id": "m2"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conversation_closed"
    card = channel.by_ts[conversation["thread_ts"]]

    async def _settled() -> None:
        rows = await stack.api.get("/conversations/t-2")
        assert rows.status_code == 200

    await _wait_for(lambda: "white_check_mark" in card.reactions)
    await _wait_for(
        lambda: any(
            m.text == "Closing, thanks" and m.thread_ts == card.ts for m in channel.messages
        )
    )
    reopened = await stack.api.post("/conversations/t-2/reopen", json={})
    assert reopened.json()["state"] == "open" and reopened.json()["closed_at"] is None
    await _wait_for(lambda: "white_check_mark" not in card.reactions)
    listed = await stack.api.get("/conversations", params={"workspace": ACME, "state": "open"})
    assert [c["key"] for c in listed.json()["conversations"]] == ["t-2"]


async def test_a_file_in_a_thread_is_delivered_with_its_thread(stack: ApiStack) -> None:
    """docs/webhooks.md: a file posted into a still conversation's thread is told as
    ``message.delivered`` with that thread's ``thread_ts``, not null."""
    await stack.api.put("/conversations/t-files", json=_still())
    conversation = await wait_conversation(stack, "t-files")
    post = {
        "id": "f1",
        "author": {"persona": {"name": "Dana"}},
        "files": [{"filename": "log.txt", "content_base64": base64.b64encode(b"jam").decode()}],
    }
    answer = await stack.api.post("/conversations/t-files/messages", json=post)
    assert answer.status_code == 202, answer.text

    def _upload(events: list[dict[str, Any]]) -> dict[str, Any] | None:
        for event in events:
            message = event["data"]["message"]
            if message["operation"] == "files.upload" and message["channel"] == SUPPORT:
                return event
        return None

    await stack.product.wait_for(lambda p: _upload(p.of_type("message.delivered")) is not None)
    delivered = _upload(stack.product.of_type("message.delivered"))
    assert delivered is not None
    message = delivered["data"]["message"]
    assert message["thread_ts"] == conversation["thread_ts"], message
    assert message["file_id"] and message["ts"]
    shared = _channel(stack, SUPPORT).by_ts[message["ts"]]
    assert shared.files and shared.thread_ts == conversation["thread_ts"]


async def test_noisy_creates_a_channel_invites_and_archives(stack: ApiStack) -> None:
    body = {
        "workspace": ACME,
        "mode": "noisy",
        "channel_name": "case-{key}",
        "invite": [ALICE, BOB],
    }
    answers = await asyncio.gather(
        *(stack.api.put("/conversations/Case 7", json=body) for _ in range(10))
    )
    assert sorted(a.status_code for a in answers).count(201) == 1
    opened = await wait_conversation(stack, "Case%207")
    assert opened["state"] == "open", opened
    channel = _channel(stack, opened["channel"])
    assert channel.name == "case-case-7"
    assert opened["thread_ts"] is None and opened["permalink"]
    named = [
        c
        for c in stack.emulator.state.workspaces[ACME].channels.values()
        if c.name.startswith("case-case-7")
    ]
    assert len(named) == 1
    post = {
        "id": "n1",
        "author": {"slack_user": BOB},
        "text": "hello from the product",
        "files": [{"filename": "notes.txt", "content_base64": base64.b64encode(b"n").decode()}],
    }
    answer = await stack.api.post("/conversations/Case%207/messages", json=post)
    assert answer.status_code == 202, answer.text
    sent = await wait_message(stack, "Case%207", "n1")
    message = channel.by_ts[sent["ts"]]
    assert message.thread_ts is None
    assert message.username == "Bob Baker"  # posted under Bob's name
    assert [m for m in channel.messages if m.files and m.thread_ts is None]  # the file, in there
    await _wait_for(lambda: ALICE in channel.members and BOB in channel.members)

    closed = await stack.api.post("/conversations/Case%207/close", json={"message": "done"})
    assert closed.json()["state"] == "closed"
    await _wait_for(lambda: channel.is_archived)
    assert any(m.text == "done" for m in channel.messages)
    await stack.api.post("/conversations/Case%207/reopen", json={})
    await _wait_for(lambda: not channel.is_archived)


async def test_noisy_name_taken_moves_to_the_next_n(stack: ApiStack) -> None:
    body = {"workspace": ACME, "mode": "noisy", "channel_name": "room-{n}"}
    first = await stack.api.put("/conversations/a", json=body)
    assert first.status_code == 201
    opened = await wait_conversation(stack, "a")
    n = int(_channel(stack, opened["channel"]).name.rsplit("-", 1)[1])
    # Someone made the next two names by hand: the next conversation (n + 1) moves on to n + 3.
    workspace = stack.emulator.state.workspaces[ACME]
    for taken in (n + 1, n + 2):
        workspace.channels[f"C0TAKEN{taken}"] = Channel(
            id=f"C0TAKEN{taken}",
            team_id=ACME,
            name=f"room-{taken}",
            kind="public",
            creator=ALICE,
            created=0,
        )
    assert (await stack.api.put("/conversations/b", json=body)).status_code == 201
    opened_b = await wait_conversation(stack, "b")
    assert opened_b["state"] == "open", opened_b
    assert _channel(stack, opened_b["channel"]).name == f"room-{n + 3}"


async def test_bad_input_answers_clearly(stack: ApiStack) -> None:
    missing = await stack.api.put("/conversations/x", json={"workspace": ACME, "mode": "still"})
    assert missing.status_code == 422
    template = await stack.api.put(
        "/conversations/x", json={"workspace": ACME, "mode": "noisy", "channel_name": "{oops}"}
    )
    assert template.status_code == 422 and "placeholder" in template.text
    unknown = await stack.api.get("/conversations/nope")
    assert (
        unknown.status_code == 404 and unknown.json()["error"]["code"] == "conversation_not_found"
    )
    await stack.api.put("/conversations/y", json=_still())
    nobody = await stack.api.post(
        "/conversations/y/messages",
        json={"id": "1", "author": {"email": "nobody@nowhere.example"}, "text": "hi"},
    )
    assert nobody.status_code == 422 and nobody.json()["error"]["code"] == "author_not_found"
    # A message may carry files beyond the API's usual 1 MiB body.
    big = base64.b64encode(b"x" * 1_500_000).decode()
    with_file = await stack.api.post(
        "/conversations/y/messages",
        json={
            "id": "2",
            "author": {"persona": {"name": "Ann"}},
            "files": [{"filename": "big.bin", "content_base64": big}],
        },
    )
    assert with_file.status_code == 202, with_file.text[:300]
    slash = await stack.api.put("/conversations/a%2Fb", json=_still())
    assert slash.status_code in (404, 422)


async def _wait_for(check: Any, within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_a_channel_made_by_a_lost_call_is_taken_not_made_again(stack: ApiStack) -> None:
    """conversations.create reached Slack but its answer was lost: the retry meets name_taken
    for the name it tried, finds the channel its own bot made, and takes it."""
    workspace = stack.emulator.state.workspaces[ACME]
    (bot_user,) = [
        inst.bot_user_id
        for (_app, team), inst in stack.emulator.state.installations.items()
        if team == ACME
    ]
    name = "lost-answer"
    # What the lost call made (the fault below stands for losing its answer).
    workspace.channels["C0LOSTANS1"] = Channel(
        id="C0LOSTANS1",
        team_id=ACME,
        name=name,
        kind="public",
        creator=bot_user,
        created=0,
        members=[bot_user],
    )
    async with httpx.AsyncClient(timeout=10.0) as client:
        fault = await client.post(
            stack.emulator.url + "/_emulator/faults",
            json={"method": "conversations.create", "drop": True, "times": 1},
        )
    assert fault.status_code in (200, 201), fault.text
    body = {"workspace": ACME, "mode": "noisy", "channel_name": name}
    assert (await stack.api.put("/conversations/lost", json=body)).status_code == 201
    opened = await wait_conversation(stack, "lost", within=60)
    assert opened["state"] == "open" and opened["channel"] == "C0LOSTANS1", opened
    assert [c.id for c in workspace.channels.values() if c.name.startswith(name)] == ["C0LOSTANS1"]


async def test_adopting_a_thread_slack_opened(stack: ApiStack) -> None:
    async with httpx.AsyncClient(timeout=10.0) as client:
        posted = await client.post(
            stack.emulator.url + "/_emulator/messages",
            json={"channel_id": SUPPORT, "user_id": ALICE, "text": "help, my laptop"},
        )
    assert posted.status_code == 200, posted.text
    root = posted.json()["ts"]
    body = {"workspace": ACME, "mode": "still", "adopt": {"channel": SUPPORT, "thread_ts": root}}
    adopted = await stack.api.put("/conversations/laptop", json=body)
    assert adopted.status_code == 201, adopted.text
    assert adopted.json()["state"] == "open" and adopted.json()["thread_ts"] == root
    twice = await stack.api.put("/conversations/laptop-again", json=body)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "conversation_conflict"
    post = {"id": "a1", "author": {"persona": {"name": "Dana"}}, "text": "Looking into it"}
    assert (await stack.api.post("/conversations/laptop/messages", json=post)).status_code == 202
    sent = await wait_message(stack, "laptop", "a1")
    channel = _channel(stack, SUPPORT)
    assert sent["state"] == "sent" and channel.by_ts[sent["ts"]].thread_ts == root
    await stack.api.post("/conversations/laptop/close", json={})
    await _wait_for(lambda: "white_check_mark" in channel.by_ts[root].reactions)
