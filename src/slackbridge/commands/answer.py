"""Sending the gateway's own help answers: outbox rows, delivered by the sender like any.

A slash command is answered through its ``response_url`` (ephemeral); a mention or a DM with
chat.postEphemeral to the person, in the thread when there is one. Each answer's idempotency
key is derived from the Slack payload it answers, so a payload processed twice (a crash, a
retry) is still answered once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from slackbridge.commands.route import HelpReply
from slackbridge.runtime import Gateway
from slackbridge.store.repositories.outbox import NewOutboxMessage, OutboxRepository, outbox_lane

__all__ = ["HELP_SCOPE", "help_message", "send_help"]

#: The idempotency scope of the help answers' outbox rows.
HELP_SCOPE = "slackbridge:commands-help"


def help_message(reply: HelpReply) -> NewOutboxMessage | None:
    """The outbox row that delivers ``reply`` (None when there is nowhere to send it)."""
    key = hashlib.sha256(reply.key.encode()).hexdigest()[:48]
    common: dict[str, Any] = {"app_id": reply.app_id}
    if reply.response_url:
        digest = hashlib.sha256(reply.response_url.encode()).hexdigest()[:24]
        return NewOutboxMessage(
            team_id=reply.team_id,
            method="response_url",
            payload={
                **common,
                "args": {"response_type": "ephemeral", "text": reply.text},
                "response_url": reply.response_url,
            },
            lane_key=f"{reply.team_id}:response:{digest}",
            idempotency_scope=HELP_SCOPE,
            idempotency_key=key,
        )
    if not reply.channel_id or not reply.user_id:
        return None
    args: dict[str, Any] = {"user": reply.user_id, "text": reply.text}
    if reply.thread_ts:
        args["thread_ts"] = reply.thread_ts
    return NewOutboxMessage(
        team_id=reply.team_id,
        method="chat.postEphemeral",
        payload={**common, "args": args, "channel": reply.channel_id, "thread_ts": reply.thread_ts},
        lane_key=outbox_lane(reply.team_id, reply.channel_id, reply.thread_ts),
        idempotency_scope=HELP_SCOPE,
        idempotency_key=key,
    )


async def send_help(gateway: Gateway, replies: Sequence[HelpReply]) -> int:
    """Queue ``replies``; returns how many new rows were stored (0 for answers queued
    before)."""
    repo = OutboxRepository(gateway.db, gateway.keyring)
    created = 0
    for reply in replies:
        message = help_message(reply)
        if message is None:
            continue
        stored = await repo.enqueue(message)
        created += int(stored.created)
    if created:
        gateway.wakeups.signal("outbox")
    return created
