"""Following the outbox into the bridge's tables: a conversation becomes ``open`` (with its
channel and thread) once the operation making its Slack place is sent, a message ``sent`` (with
its ts) once its post is; either ``failed`` with the error otherwise.

The API settles what it is about to answer with (so an answer is never staler than the outbox);
the :class:`BridgeSettler` worker settles everything else, woken whenever the sender settles a
row (``wakeup("outbox-settled")``) and polling as a fallback (rows settled by another instance),
so that Slack events about a new thread find their conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from slackbridge.bridge.states import OpView, conversation_update, message_update
from slackbridge.store.repositories.bridge_conversations import Conversation
from slackbridge.store.repositories.bridge_messages import BridgeMessage
from slackbridge.store.repositories.outbox import OutboxMessage
from slackbridge.store.store import Store

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway, Worker

__all__ = [
    "BridgeSettler",
    "op_view",
    "settle_conversation",
    "settle_message",
    "settle_pending",
    "workers",
]

_log = logging.getLogger("slackbridge.bridge")


def op_view(row: OutboxMessage) -> OpView:
    return OpView(
        id=row.message_id, status=row.status, result=row.result or {}, error=row.last_error
    )


async def settle_conversation(
    store: Store, conversation: Conversation, *, posted: Mapping[str, Any] | None = None
) -> Conversation:
    """``conversation`` brought up to date with its creating operation; ``posted`` (``ts`` and
    ``channel``): its card as Slack's event showed it, which may come before the outbox row
    knows them (Slack answered, the sender's write not committed yet)."""
    if conversation.create_operation_id is None or not _unplaced(conversation):
        return conversation
    if posted is not None:
        op = OpView(conversation.create_operation_id, "sent", dict(posted))
    else:
        row = await store.outbox.get(conversation.create_operation_id)
        if row is None:
            return conversation
        op = op_view(row)
    changes = conversation_update(conversation.mode, op)
    if changes is None:
        return conversation
    if conversation.state != "creating" and changes["state"] == "open":
        # Closed (or closed and reopened) while being created: only the place is news.
        del changes["state"]
    updated = await store.conversations.update(
        conversation.id, expect_state=conversation.state, **changes
    )
    if updated is None:  # settled meanwhile (by the worker, or a close)
        again = await store.conversations.get_by_id(conversation.id)
        return again or conversation
    return updated


def _unplaced(conversation: Conversation) -> bool:
    if conversation.state == "creating":
        return True
    if conversation.state == "failed":
        return False
    return conversation.channel_id is None or (
        conversation.mode == "still" and conversation.thread_ts is None
    )


async def settle_message(store: Store, message: BridgeMessage) -> BridgeMessage:
    """``message`` brought up to date with its post and uploads."""
    if message.state != "queued" or message.operation_id is None:
        return message
    ids = [message.operation_id, *message.file_operation_ids]
    rows = await store.outbox.get_many(ids)
    return await _apply(store, message, rows)


async def _apply(
    store: Store, message: BridgeMessage, rows: dict[str, OutboxMessage]
) -> BridgeMessage:
    files = [op_view(rows[i]) for i in message.file_operation_ids if i in rows]
    post_row = rows.get(message.operation_id or "")
    post = None
    if post_row is not None and post_row.method == "chat.postMessage":
        post = op_view(post_row)
    changes = message_update(post, files)
    if changes is None:
        return message
    updated = await store.bridge_messages.settle(message.id, **changes)
    return updated or message


async def settle_pending(store: Store, *, limit: int = 500) -> int:
    """Settle every conversation and message waiting on the outbox; how many changed."""
    changed = 0
    for conversation in await store.conversations.creating(limit=limit):
        if await settle_conversation(store, conversation) != conversation:
            changed += 1
    messages = await store.bridge_messages.pending(limit=limit)
    ids = [i for m in messages for i in (m.operation_id, *m.file_operation_ids) if i]
    rows = await store.outbox.get_many(ids)
    for message in messages:
        if (await _apply(store, message, rows)).state != "queued":
            changed += 1
    return changed


class BridgeSettler:
    """The worker that settles the bridge's rows as the outbox settles its own."""

    name = "bridge-settler"

    def __init__(self, gateway: Gateway, *, poll_seconds: float = 2.0) -> None:
        self.gateway = gateway
        self.poll_seconds = poll_seconds
        self.store = Store(gateway.db, gateway.keyring)

    async def run(self, stop: asyncio.Event) -> None:
        wakeups = self.gateway.wakeups
        while not stop.is_set():
            try:
                await settle_pending(self.store)
                self.gateway.health.report(f"worker:{self.name}", True)
            except Exception as exc:
                self.gateway.health.report(f"worker:{self.name}", False, repr(exc))
                _log.exception("settling the bridge's rows failed")
            waiters = [
                asyncio.ensure_future(wakeups.wait("outbox-settled", self.poll_seconds)),
                asyncio.ensure_future(stop.wait()),
            ]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
                await asyncio.gather(*waiters, return_exceptions=True)


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: the bridge's settler."""
    return [BridgeSettler(gateway)]
