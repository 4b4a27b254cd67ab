"""Requests that race on one message: concurrent deletions queue one ``chat.delete``."""

from __future__ import annotations

import asyncio

from tests.integration.gateway.api.conftest import ACME, SUPPORT, ApiStack
from tests.integration.gateway.bridge.conftest import wait_conversation, wait_message


async def test_concurrent_deletions_of_one_message_queue_one_delete(stack: ApiStack) -> None:
    still = {"workspace": ACME, "mode": "still", "channel": SUPPORT, "card": {"text": "x"}}
    assert (await stack.api.put("/conversations/del", json=still)).status_code == 201
    await wait_conversation(stack, "del")
    post = {"id": "m", "author": {"persona": {"name": "x"}}, "text": "to be deleted"}
    assert (await stack.api.post("/conversations/del/messages", json=post)).status_code == 202
    sent = await wait_message(stack, "del", "m")
    assert sent["state"] == "sent", sent
    answers = await asyncio.gather(
        *(stack.api.delete("/conversations/del/messages/m") for _ in range(6))
    )
    assert [a.status_code for a in answers] == [202] * 6, [a.text for a in answers]
    assert all(a.json()["deleted"] for a in answers)
    operations = {a.json()["operation_id"] for a in answers}
    assert len(operations) == 1, operations
    (operation,) = operations
    deleted = await stack.wait_status(operation)
    assert deleted["operation"] == "chat.delete" and deleted["status"] == "sent", deleted
    after = await stack.api.get("/conversations/del/messages/m")
    assert after.json()["operation_id"] == operation and after.json()["deleted"] is True
