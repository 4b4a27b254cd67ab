"""The bridge's inbound side over a real store (SQLite and PostgreSQL): the loop guard holds
when Slack's event for a post arrives before the post's outbox row knows its ts; one batch
reads the places of its channels; what was seen is recorded for catch-up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slackbridge.bridge.authors import Identities
from slackbridge.bridge.inbound import InboundBridge, opened_key
from slackbridge.domain.events import DomainEvent, Received
from slackbridge.store.repositories.bridge_conversations import NewConversation
from slackbridge.store.repositories.bridge_inbound import InboundRepository
from slackbridge.store.repositories.bridge_messages import NewProductMessage, PostOperations
from slackbridge.store.repositories.outbox import NewOutboxMessage
from slackbridge.store.store import Store

T, C = "T0ACME0001", "C0ACME0SUP"
ROOT = "1795260600.000001"


async def _no_users(_team: str, _app: str | None, _ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {}


def _bridge(store: Store) -> InboundBridge:
    identities = Identities(store.users, store.user_links, _no_users)
    return InboundBridge(
        InboundRepository(store.db, store.keyring),
        store.conversations,
        store.bridge_messages,
        identities,
        base_url="http://gw.test",
    )


def _received(event: dict[str, Any], key: str = "Ev1") -> Received:
    payload = {
        "type": "event_callback",
        "team_id": T,
        "api_app_id": "A1",
        "event_id": key,
        "event_time": 1795260700,
        "event": {"channel": C, **event},
    }
    return Received("events", payload, key, 1795260700.0, lambda _m: False)


async def _still(store: Store) -> int:
    created = await store.conversations.create(
        NewConversation(
            key="ticket-1",
            team_id=T,
            mode="still",
            state="open",
            channel_id=C,
            thread_ts=ROOT,
            created_by="k",
        )
    )
    return created.conversation.id


async def test_an_event_for_our_post_before_its_ts_is_known_never_echoes(store: Store) -> None:
    conversation_id = await _still(store)
    post = NewOutboxMessage(
        team_id=T,
        method="chat.postMessage",
        payload={"channel": C, "thread_ts": ROOT, "args": {"text": "from the product"}},
        lane_key=f"{T}:{C}:{ROOT}",
    )
    stored = await store.bridge_messages.add_product_message(
        NewProductMessage(conversation_id, "p-1", {"persona": {"name": "Agent"}}, "digest"),
        lambda: PostOperations(post),
    )
    operation = stored.message.operation_id
    assert operation is not None and stored.message.ts is None  # not answered yet
    # Slack's event arrives first: posted as a linked person (a user token: no bot_id), with
    # the outbox's marker in its metadata.
    event = {
        "type": "message",
        "user": "U0ACME0002",
        "text": "from the product",
        "ts": "1795260601.000001",
        "thread_ts": ROOT,
        "metadata": {
            "event_type": "slackbridge_message",
            "event_payload": {"slackbridge_message_id": operation},
        },
    }
    other_bot = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "BOTHER",
        "text": "deploy done",
        "ts": "1795260602.000001",
        "thread_ts": ROOT,
    }
    out = await _bridge(store)([_received(event, "Ev1"), _received(other_bot, "Ev2")])
    assert out[0] == []
    assert [e.type for e in out[1]] == ["conversation.message.created"]
    assert out[1][0].data["message"]["author"]["bot_id"] == "BOTHER"


async def test_seen_messages_are_recorded_for_catch_up_and_reactions_find_them(
    store: Store,
) -> None:
    conversation_id = await _still(store)
    bridge = _bridge(store)
    reply = {
        "type": "message",
        "user": "U1",
        "text": "hi",
        "ts": "1795260601.000001",
        "thread_ts": ROOT,
    }
    (events,) = await bridge([_received(reply)])
    assert [e.type for e in events] == ["conversation.message.created"]
    inbound = InboundRepository(store.db, store.keyring)
    assert await inbound.seen_ts(conversation_id) == {"1795260601.000001"}
    conversation = await store.conversations.get("ticket-1")
    assert conversation is not None and conversation.last_seen_ts == "1795260601.000001"
    # A reaction names only the message's ts: the record says whose it is.
    item = {"type": "message", "channel": C, "ts": "1795260601.000001"}
    reaction = {"type": "reaction_added", "user": "U2", "reaction": "eyes", "item": item}
    (reacted,) = await bridge([_received(reaction, "Ev3")])
    assert [e.type for e in reacted] == ["conversation.reaction.added"]
    # The same delivery processed twice (a retried inbox row) makes the same events.
    (again,) = await bridge([_received(reply)])
    assert again == events


async def test_batches_without_bridged_channels_cost_no_events(store: Store) -> None:
    elsewhere = {"type": "message", "user": "U1", "text": "x", "ts": "1795260601.000001"}
    out = await _bridge(store)(
        [_received(elsewhere), Received("commands", {"command": "/x"}, "d", 0.0, lambda _m: False)]
    )
    assert out == [[], []]


async def test_a_watched_channel_opening_is_stored_once(store: Store) -> None:
    await store.watched_channels.put(T, C, open_on="message")
    top = {"type": "message", "user": "U1", "text": "help", "ts": "1795260605.000001"}
    bridge = _bridge(store)
    first: list[DomainEvent] = (await bridge([_received(top)]))[0]
    second = (await bridge([_received(top, "Ev9")]))[0]
    assert [e.type for e in first] == [e.type for e in second] == ["conversation.opened"]
    assert first[0].data["conversation"]["key"] is None
    stored = await store.conversations.get(opened_key(T, C, "1795260605.000001"))
    assert stored is not None and stored.state == "open" and stored.thread_ts == "1795260605.000001"
