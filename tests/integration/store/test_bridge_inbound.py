"""The bridge's inbound side over a real store (SQLite and PostgreSQL): the loop guard holds
when Slack's event for a post arrives before the post's outbox row knows its ts; a reply under
a card just sent finds its conversation before the settler has run; one batch reads the places
of its channels; what was seen is recorded for catch-up."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from slackbridge.bridge.authors import Identities
from slackbridge.bridge.inbound import InboundBridge, opened_key
from slackbridge.bridge.settle import settle_conversation
from slackbridge.domain.events import DomainEvent, Received
from slackbridge.store.repositories.bridge_conversations import Conversation, NewConversation
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

    async def settle(conversation: Conversation, card: Mapping[str, Any] | None) -> Conversation:
        return await settle_conversation(store, conversation, posted=card)

    return InboundBridge(
        InboundRepository(store.db, store.keyring),
        store.conversations,
        store.bridge_messages,
        identities,
        base_url="http://gw.test",
        settle=settle,
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


async def _sharing(store: Store, key: str) -> Conversation:
    """A still conversation whose card is queued (as ``PUT /conversations/{key}`` leaves it)."""

    def card(_conversation_id: int) -> list[NewOutboxMessage]:
        return [
            NewOutboxMessage(
                team_id=T,
                method="chat.postMessage",
                payload={"channel": C, "args": {"text": "the card"}},
                lane_key=f"{T}:{key}",
            )
        ]

    created = await store.conversations.create(
        NewConversation(key=key, team_id=T, mode="still", channel_id=C, created_by="k"), card
    )
    assert created.conversation.state == "creating"
    return created.conversation


async def test_a_reply_under_a_card_just_sent_finds_its_conversation(store: Store) -> None:
    sent = await _sharing(store, "comment-1")
    waiting = await _sharing(store, "comment-2")
    (claimed,) = [r for r in await store.outbox.claim("sender") if r.lane_key.endswith("-1")]
    await store.outbox.mark_sent(claimed.id, "sender", result={"ts": ROOT, "channel": C})
    # Slack has the card and sends a person's reply under it before the settler has run.
    reply = {
        "type": "message",
        "user": "U0ACME0002",
        "text": "Rounding twice loses a cent",
        "ts": "1795260601.000001",
        "thread_ts": ROOT,
    }
    (events,) = await _bridge(store)([_received(reply)])
    assert [e.type for e in events] == ["conversation.message.created"]
    assert events[0].data["conversation"]["key"] == "comment-1"
    settled = await store.conversations.get_by_id(sent.id)
    assert settled is not None and (settled.state, settled.thread_ts) == ("open", ROOT)
    assert settled.last_seen_ts == "1795260601.000001"
    # A card not sent yet stays as it was.
    still_waiting = await store.conversations.get_by_id(waiting.id)
    assert still_waiting is not None and still_waiting.state == "creating"


async def test_a_reply_finds_a_card_whose_send_is_not_stored_yet(store: Store) -> None:
    sharing = await _sharing(store, "comment-1")
    (claimed,) = await store.outbox.claim("sender")  # Slack answered; not stored yet
    card = {
        "type": "message",
        "user": "UBOT",
        "bot_id": "BBOT",
        "text": "the card",
        "ts": ROOT,
        "metadata": {
            "event_type": "slackbridge_post",
            "event_payload": {"slackbridge_message_id": sharing.create_operation_id},
        },
    }
    reply = {
        "type": "message",
        "user": "U0ACME0002",
        "text": "Rounding twice loses a cent",
        "ts": "1795260601.000001",
        "thread_ts": ROOT,
    }
    bridge = _bridge(store)
    assert await bridge([_received(card, "Ev1")]) == [[]]
    (events,) = await bridge([_received(reply, "Ev2")])
    assert [e.type for e in events] == ["conversation.message.created"]
    settled = await store.conversations.get_by_id(sharing.id)
    assert settled is not None and (settled.state, settled.thread_ts) == ("open", ROOT)
    # The sender's late write changes nothing.
    await store.outbox.mark_sent(claimed.id, "sender", result={"ts": ROOT, "channel": C})
    assert await settle_conversation(store, settled) == settled


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
    assert set(await inbound.recorded(conversation_id)) == {"1795260601.000001"}
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


class _CountedSessions:
    """``db`` whose reads are counted: read sessions, and reads done at once on SQLite's
    write connection (``Database.read_now``) or PostgreSQL's kept one (``Database.read_kept``)."""

    def __init__(self, db: Any) -> None:
        self.db, self.sessions, self.quick = db, 0, 0

    @property
    def reads(self) -> int:
        return self.sessions + self.quick

    def read_now(self, query: Any) -> Any:
        result = self.db.read_now(query)
        self.quick += 1
        return result

    async def read_kept(self, query: Any) -> Any:
        result = await self.db.read_kept(query)
        self.quick += 1
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        self.sessions += 1
        async with self.db.session() as session:
            yield session


async def test_a_batch_reads_its_channels_in_one_session(store: Store) -> None:
    """Each read session costs hops to the driver's thread that wait for the event loop, so
    the batch's conversations, watched channels and known messages are read in one (on a
    SQLite file, at once on the write path's connection; on PostgreSQL on a connection the
    write path keeps: no session at all)."""
    await _still(store)
    db = _CountedSessions(store.db)
    bridge = _bridge(store)
    bridge._inbound = InboundRepository(db, store.keyring)  # type: ignore[arg-type]
    reply = {"type": "message", "user": "U1", "text": "hi", "ts": "1795260601.000001"}
    reaction = {
        "type": "reaction_added",
        "user": "U1",
        "reaction": "eyes",
        "item": {"type": "message", "channel": C, "ts": "1795260601.000001"},
    }
    (events,) = await bridge([_received({**reply, "thread_ts": ROOT})])
    assert [e.type for e in events] == ["conversation.message.created"]
    quick = store.db.sqlite_file is not None or store.db.is_postgres
    assert db.reads == 1 and db.quick == (1 if quick else 0)
    (reacted, _again) = await bridge(
        [_received(reaction, "Ev2"), _received({**reply, "thread_ts": ROOT}, "Ev3")]
    )  # the reaction names a known message: its lookup shares the session
    assert [e.type for e in reacted] == ["conversation.reaction.added"]
    assert db.reads == 2


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


async def test_user_change_refreshes_the_cache_and_the_links(store: Store) -> None:
    await store.user_links.put_link(T, "agent-7", slack_user="U0ACME0002", email=None)
    await store.user_links.remember_lookup(T, "old@acme.test", slack_user="U0ACME0002")
    forgotten: list[tuple[str, str]] = []
    identities = Identities(
        store.users,
        store.user_links,
        _cached(store),
        forget=lambda team, user: forgotten.append((team, user)),
    )
    bridge = InboundBridge(
        InboundRepository(store.db, store.keyring),
        store.conversations,
        store.bridge_messages,
        identities,
        base_url="http://gw.test",
    )
    changed = {
        "type": "user_change",
        "user": {
            "id": "U0ACME0002",
            "name": "bob",
            "real_name": "Robert Baker",
            "tz": "Europe/Berlin",
            "profile": {"display_name": "Rob", "email": "rob@acme.test", "image_72": "http://i/72"},
        },
    }
    payload = {"type": "event_callback", "team_id": T, "event": changed, "event_id": "EvU"}
    out = await bridge([Received("events", payload, "EvU", 0.0, lambda _m: False)])
    assert out == [[]]  # nothing for the product: the next message carries the new name
    cached = await store.users.get(T, "U0ACME0002")
    assert cached is not None and cached.real_name == "Robert Baker"
    assert cached.email == "rob@acme.test" and cached.profile.get("tz") == "Europe/Berlin"
    assert forgotten == [(T, "U0ACME0002")]
    link = await store.user_links.by_product_user(T, "agent-7")
    assert link is not None and link.name == "Rob" and link.fetched_at is None  # asked again
    authors = await identities.authors(T, None, ["U0ACME0002"])
    assert authors["U0ACME0002"]["real_name"] == "Robert Baker"
    assert authors["U0ACME0002"]["product_user"] == "agent-7"


def _cached(store: Store) -> Any:
    async def lookup(team: str, _app: str | None, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for user_id in ids:
            user = await store.users.get(team, user_id)
            if user is not None:
                found[user_id] = {
                    "name": user.name,
                    "real_name": user.real_name,
                    "email": user.email,
                }
        return found

    return lookup
