"""What a Slack reply to a closed conversation does (``SLACKBRIDGE_BRIDGE_REPLY_AFTER_CLOSE``),
for the inbound side to call when such a reply arrives.

``reopen``: the conversation opens again (the status reaction comes off the card) and the product
hears ``conversation.reopened`` besides the message. ``tell``: the person gets an ephemeral note
in the thread that the conversation is closed (the message still reaches the product). A noisy
conversation's channel is archived while closed, so Slack takes no replies there.
"""

from __future__ import annotations

from typing import Literal

from slackbridge.bridge.operations import (
    DEFAULT_CLOSED_REACTION,
    Place,
    conversation_lane,
    reopen_ops,
)
from slackbridge.bridge.states import ReplyAfterClose, reply_after_close
from slackbridge.store.ids import new_id
from slackbridge.store.repositories.bridge_conversations import Conversation
from slackbridge.store.repositories.outbox import NewOutboxMessage
from slackbridge.store.store import Store

__all__ = ["ReplyOutcome", "place_of", "reply_to_closed"]

ReplyOutcome = Literal["reopened", "told", "ignored"]


def place_of(conversation: Conversation, installation_id: int | None = None) -> Place:
    """Where ``conversation``'s operations go."""
    return Place(
        team_id=conversation.team_id,
        conversation_id=conversation.id,
        key=conversation.key,
        mode=conversation.mode,
        channel=conversation.channel_id,
        create_operation_id=conversation.create_operation_id,
        installation_id=installation_id,
        app_id=conversation.app_id,
        created_by=conversation.created_by,
        thread_ts=conversation.thread_ts,
    )


def _tell(place: Place, conversation: Conversation, user: str, text: str) -> NewOutboxMessage:
    return NewOutboxMessage(
        team_id=place.team_id,
        method="chat.postEphemeral",
        payload={
            "args": {"user": user, "text": text, "thread_ts": conversation.thread_ts},
            "channel": conversation.channel_id,
            "thread_ts": conversation.thread_ts,
            "ref": None,
            "app_id": place.app_id,
            "request_digest": "",
            "conversation": place.key,
        },
        installation_id=place.installation_id,
        lane_key=conversation_lane(place.team_id, place.conversation_id),
        message_id=new_id("msg"),
    )


async def reply_to_closed(
    store: Store,
    conversation: Conversation,
    *,
    user: str,
    setting: ReplyAfterClose,
    closed_message: str,
    reaction: str = DEFAULT_CLOSED_REACTION,
    from_product_user: bool = False,
    installation_id: int | None = None,
) -> ReplyOutcome:
    """Act on a reply by ``user`` in closed ``conversation``; the caller wakes the outbox (and
    sends ``conversation.reopened`` when the answer is ``reopened``)."""
    if conversation.state != "closed" or conversation.mode != "still":
        return "ignored"
    action = reply_after_close(setting, from_product_user=from_product_user)
    place = place_of(conversation, installation_id)
    if action == "reopen":
        _moved, changed = await store.conversations.change_state(
            conversation.id,
            state="open",
            from_states=("closed",),
            operations=reopen_ops(place, reaction=reaction),
            closed_at=None,
        )
        return "reopened" if changed else "ignored"
    if action == "tell" and conversation.channel_id and conversation.thread_ts:
        await store.outbox.enqueue(_tell(place, conversation, user, closed_message))
        return "told"
    return "ignored"
