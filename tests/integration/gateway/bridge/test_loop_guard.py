"""The loop guard's key survives the trip through Slack: the message events Slack (the emulator)
sends about the bridge's own posts carry the operation id, which names the stored message."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from sqlalchemy import select

from slackbridge.bridge.loop_guard import is_own_post
from slackbridge.store.models import InboxRow, table_of
from slackbridge.store.store import Store
from tests.integration.gateway.api.conftest import ACME, ALICE, SUPPORT, ApiStack
from tests.integration.gateway.bridge.conftest import wait_message


async def _message_events(stack: ApiStack) -> list[dict[str, Any]]:
    inbox = table_of(InboxRow)
    async with stack.gateway.gateway.db.session() as session:
        bodies = (await session.execute(select(inbox.c.body))).scalars().all()
    events = []
    for body in bodies:
        payload = json.loads(body)
        event = payload.get("event") if isinstance(payload, dict) else None
        if isinstance(event, dict) and event.get("type") == "message":
            events.append(event)
    return events


async def test_events_about_own_posts_name_their_operation(stack: ApiStack) -> None:
    body = {"workspace": ACME, "channel": SUPPORT, "card": {"text": "guarded"}}
    assert (await stack.api.put("/conversations/g-1", json=body)).status_code == 201
    post = {"id": "p1", "author": {"persona": {"name": "Ann"}}, "text": "a guarded reply"}
    assert (await stack.api.post("/conversations/g-1/messages", json=post)).status_code == 202
    sent = await wait_message(stack, "g-1", "p1")
    store = Store(stack.gateway.gateway.db, stack.gateway.gateway.keyring)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        own = {is_own_post(e) for e in await _message_events(stack)} - {None}
        if sent["operation_id"] in own:
            break
        assert loop.time() < deadline, "no event about the reply reached the gateway"
        await asyncio.sleep(0.1)
    message = await store.bridge_messages.by_operation(sent["operation_id"])
    assert message is not None and message.product_message_id == "p1"
    conversation = await store.conversations.get("g-1")
    assert conversation is not None and conversation.create_operation_id in own
    card = await store.conversations.by_create_operation(conversation.create_operation_id or "")
    assert card == conversation
    # A person's message in the thread is nobody's post of ours.
    async with httpx.AsyncClient(timeout=10.0) as client:
        answer = await client.post(
            stack.emulator.url + "/_emulator/messages",
            json={
                "channel_id": SUPPORT,
                "user_id": ALICE,
                "text": "a person's reply",
                "thread_ts": conversation.thread_ts,
            },
        )
    assert answer.status_code == 200, answer.text
    while True:
        theirs = [e for e in await _message_events(stack) if e.get("text") == "a person's reply"]
        if theirs:
            break
        assert loop.time() < deadline + 20, "no event about the person's reply"
        await asyncio.sleep(0.1)
    assert is_own_post(theirs[0]) is None
