"""Slack → product for conversations: the inbox worker's batches → ``conversation.*`` events.

:class:`InboundBridge` is a :data:`~slackbridge.domain.events.SlackListener`: the inbox worker
calls it once per batch with every payload it received, and stores the events it answers with
the batch's other deliveries, in the same transaction as the rows' completion (so each is
delivered once, signed, in its channel's lane, with the deliveries' retries). Per batch it
reads the conversations, watched channels and known messages of the channels involved
(``store/repositories/bridge_inbound.py``), settles the conversations whose Slack place was
being made (a reply can come under a new card before the settler saw the card sent), routes
each event (``bridge/routing.py``, pure), resolves the authors (``bridge/authors.py``) and
records what it saw: the message by ts (so catch-up doesn't send it again, and reactions and
edits find their conversation) and the thread it is in (what catch-up reads to prove it
deleted), the conversation's activity and catch-up mark, a conversation opened from a watched
channel, a noisy conversation closed or reopened in Slack. A batch without message, reaction
or channel events costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slackbridge.bridge.authors import Identities
from slackbridge.bridge.catchup_diff import thread_of
from slackbridge.bridge.events import Source, author_ids, route_event_body
from slackbridge.bridge.loop_guard import is_own_post
from slackbridge.bridge.noise import content_digest, file_ids
from slackbridge.bridge.routing import (
    ROUTED_EVENT_TYPES,
    Directory,
    Place,
    Route,
    Watch,
    channels_of,
    route_event,
)
from slackbridge.domain.events import DomainEvent, Received
from slackbridge.store.repositories.bridge_conversations import (
    Conversation,
    ConversationsRepository,
    NewConversation,
)
from slackbridge.store.repositories.bridge_inbound import InboundRepository, KnownMessage
from slackbridge.store.repositories.bridge_messages import MessagesRepository

__all__ = [
    "ClosedReply",
    "InboundBridge",
    "MessageFetch",
    "Settle",
    "opened_key",
    "place_of",
    "unadopted",
]

_log = logging.getLogger("slackbridge.bridge")

#: (team, app id, channel, ts) → the message as Slack has it (for an opening by reaction,
#: whose event names only the message's ts), or None.
MessageFetch = Callable[[str, str | None, str, str], Awaitable[Mapping[str, Any] | None]]
#: (conversation id, the replying Slack user) → what a reply to a closed conversation did:
#: "reopened", "told" or "ignored" (``bridge/closing.py``, with the deployment's settings).
ClosedReply = Callable[[int, str], Awaitable[str]]

#: (conversation, its card as Slack's event showed it (``ts``, ``channel``) or None) → the
#: conversation brought up to date with its creating operation (``bridge/settle.py``'s
#: ``settle_conversation`` on the deployment's store).
Settle = Callable[[Conversation, Mapping[str, Any] | None], Awaitable[Conversation]]

_OPENED_PREFIX = "slack:"

# States in which a conversation hears from Slack (as the inbound repository reads them).
_HEARD = frozenset({"open", "closed"})


def opened_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    """The stored key of a conversation Slack opened, until the product adopts it."""
    return f"{_OPENED_PREFIX}{team_id}:{channel_id}:{thread_ts}"


def unadopted(conversation: Conversation) -> bool:
    return conversation.created_by is None and conversation.key.startswith(_OPENED_PREFIX)


def place_of(conversation: Conversation) -> Place | None:
    """The routing view of a stored conversation (None while it has no Slack place)."""
    if conversation.channel_id is None or conversation.mode not in ("still", "noisy"):
        return None
    return Place(
        id=conversation.id,
        key=None if unadopted(conversation) else conversation.key,
        team_id=conversation.team_id,
        mode="still" if conversation.mode == "still" else "noisy",
        channel_id=conversation.channel_id,
        thread_ts=conversation.thread_ts,
        state=conversation.state,
    )


@dataclass(slots=True)
class _Event:
    index: int
    team_id: str
    enterprise_id: str | None
    app_id: str | None
    event: Mapping[str, Any]
    item: Received


def _events(items: Sequence[Received]) -> list[_Event]:
    found: list[_Event] = []
    for index, item in enumerate(items):
        if item.kind != "events":
            continue
        payload = item.payload
        event = payload.get("event")
        if payload.get("type") != "event_callback" or not isinstance(event, Mapping):
            continue
        etype = event.get("type")
        if etype not in ROUTED_EVENT_TYPES and etype != "user_change":
            continue
        team = payload.get("team_id") or event.get("team")
        if not isinstance(team, str) or not team:
            continue
        enterprise = payload.get("enterprise_id")
        app = payload.get("api_app_id")
        found.append(
            _Event(
                index,
                team,
                enterprise if isinstance(enterprise, str) else None,
                app if isinstance(app, str) else None,
                event,
                item,
            )
        )
    return found


def _own_cards(events: Sequence[_Event]) -> dict[str, dict[str, str]]:
    """The gateway's own top-level posts among ``events``: operation id → ``ts`` and
    ``channel`` (a still conversation's card, when the operation is one's creating one)."""
    cards: dict[str, dict[str, str]] = {}
    for entry in events:
        event = entry.event
        ts, channel = event.get("ts"), event.get("channel")
        if event.get("type") != "message" or event.get("subtype") not in (None, "bot_message"):
            continue
        if not isinstance(ts, str) or not isinstance(channel, str):
            continue
        if event.get("thread_ts") not in (None, ts):
            continue
        operation = is_own_post(event)
        if operation is not None:
            cards[operation] = {"ts": ts, "channel": channel}
    return cards


def _named_ts(event: Mapping[str, Any]) -> list[str]:
    """The ts of the messages an event names (for the known-message lookup)."""
    names: list[Any] = [event.get("deleted_ts")]
    for inner in ("message", "previous_message", "item"):
        nested = event.get(inner)
        if isinstance(nested, Mapping):
            names.append(nested.get("ts"))
    return [ts for ts in names if isinstance(ts, str) and ts]


class InboundBridge:
    """The bridge's listener on the inbox (see the module's docstring)."""

    def __init__(
        self,
        inbound: InboundRepository,
        conversations: ConversationsRepository,
        messages: MessagesRepository,
        identities: Identities,
        *,
        base_url: str,
        fetch_message: MessageFetch | None = None,
        closed_reply: ClosedReply | None = None,
        settle: Settle | None = None,
    ) -> None:
        self._inbound = inbound
        self._conversations = conversations
        self._messages = messages
        self._identities = identities
        self._base_url = base_url
        self._fetch = fetch_message
        self._closed_reply = closed_reply
        self._settle_place = settle

    async def __call__(self, items: Sequence[Received]) -> list[list[DomainEvent]]:
        out: list[list[DomainEvent]] = [[] for _ in items]
        events = _events(items)
        if not events:
            return out
        for entry in events:
            if entry.event.get("type") == "user_change":
                user = entry.event.get("user")
                if isinstance(user, Mapping):
                    await self._identities.user_changed(entry.team_id, user)
        routable = [e for e in events if e.event.get("type") != "user_change"]
        if not routable:
            return out
        directory, known = await self._directory(routable)
        for entry in routable:
            out[entry.index] = await self._route(entry, directory, known)
        return out

    async def _directory(
        self, events: Sequence[_Event]
    ) -> tuple[Directory, dict[tuple[str, str, str], KnownMessage]]:
        places = {(e.team_id, c) for e in events for c in channels_of([e.event])}
        named = {
            (e.team_id, c, ts)
            for e in events
            for c in channels_of([e.event])
            for ts in _named_ts(e.event)
        }
        # One read session for the whole batch (see store/repositories/bridge_inbound.py).
        view = await self._inbound.batch_view(places, named)
        conversations = list(view.conversations)
        known_ids = {c.id for c in conversations}
        placed = await self._just_placed(view.unplaced, places, known_ids, _own_cards(events))
        conversations += placed
        found = view.known
        if view.unplaced and named:
            # Places may have just been settled (rare): their messages' threads, read again.
            found = await self._inbound.known_messages(named)
        # Messages count only in channels the bridge has something in.
        bridged = {(c.team_id, c.channel_id) for c in conversations} | {
            (w.team_id, w.channel_id) for w in view.watched
        }
        watched = view.watched
        known = {
            (k.team_id, k.channel_id, k.ts): k
            for k in found
            if (k.team_id, k.channel_id) in bridged
        }
        threads = {key: k.thread_ts or key[2] for key, k in known.items()}
        directory = Directory(
            places=[p for p in map(place_of, conversations) if p is not None],
            watches=[
                Watch(
                    w.team_id,
                    w.channel_id,
                    "reaction" if w.open_on == "reaction" else "message",
                    w.reaction,
                    "noisy" if w.mode == "noisy" else "still",
                )
                for w in watched
            ],
            threads=threads,
        )
        return directory, known

    async def _just_placed(
        self,
        unplaced: Sequence[Conversation],
        places: set[tuple[str, str]],
        known: set[int],
        cards: Mapping[str, Mapping[str, Any]],
    ) -> list[Conversation]:
        """Those of ``unplaced`` (of these channels, their place being made when last settled)
        whose place was made since the settler last looked.

        The card's post is in Slack as soon as Slack answers it, so a person can reply under
        it (and Slack send the event) before the settler has given the conversation its
        thread, even before the sender has stored Slack's answer (``cards``: the gateway's own
        top-level posts in the batch, by operation id, tell the thread then). Settled here,
        such a reply finds its conversation instead of being dropped until the catch-up."""
        if self._settle_place is None:
            return []
        found: list[Conversation] = []
        for waiting in unplaced:
            card = cards.get(waiting.create_operation_id or "")
            settled = await self._settle_place(waiting, card if waiting.mode == "still" else None)
            if (
                settled.id not in known
                and settled.state in _HEARD
                and (settled.team_id, settled.channel_id) in places
            ):
                found.append(settled)
        return found

    async def _route(
        self,
        entry: _Event,
        directory: Directory,
        known: Mapping[tuple[str, str, str], KnownMessage],
    ) -> list[DomainEvent]:
        team = entry.team_id

        def own(message: Mapping[str, Any]) -> bool:
            return entry.item.authored(message) or is_own_post(message) is not None

        def digest(channel: str, ts: str) -> str | None:
            found = known.get((team, channel, ts))
            return found.content_digest if found is not None else None

        routes = route_event(team, entry.event, directory, own=own, known_digest=digest)
        if not routes:
            return []
        source = Source(
            team,
            entry.enterprise_id,
            entry.app_id,
            entry.item.dedupe_key,
            float(entry.item.payload.get("event_time") or entry.item.received_at),
        )
        routes = [settled for route in routes for settled in await self._settle(route, entry)]
        authors = await self._identities.authors(team, entry.app_id, author_ids(routes))
        product_ids = {
            key[2]: k.product_message_id
            for key, k in known.items()
            if k.product_message_id is not None
        }
        return [
            route_event_body(
                route,
                source,
                base_url=self._base_url,
                authors=authors,
                product_ids=product_ids,
            )
            for route in routes
        ]

    async def _settle(self, route: Route, entry: _Event) -> list[Route]:
        """Record what ``route`` tells about the conversation; the routes to send (an opening
        gains its stored conversation and, by reaction, its message; a reply that reopens a
        closed conversation adds its reopening)."""
        place = route.place
        seen_at = _ts_time(route.ts)
        if route.type == "conversation.opened":
            message = route.message
            if message is None and self._fetch is not None and route.ts is not None:
                try:
                    message = await self._fetch(
                        place.team_id, entry.app_id, place.channel_id, route.ts
                    )
                except Exception as exc:  # the opening goes out with the ts alone
                    _log.info("fetching the opening message %s failed: %r", route.ts, exc)
            stored = await self._open(place, entry.app_id)
            if stored is not None and route.ts is not None:
                await self._record(stored.id, route.ts, message, seen_at, route.ts)
            opened = Route(
                route.type,
                place_of(stored) or place if stored is not None else place,
                ts=route.ts,
                message=message or {"ts": route.ts, "thread_ts": None},
                reaction=route.reaction,
                actor=route.actor,
            )
            return [opened]
        if place.id is None:
            return [route]
        if route.type in ("conversation.message.created", "conversation.message.edited"):
            if route.ts is not None:
                await self._record(place.id, route.ts, route.message, seen_at)
            author = (route.message or {}).get("user")
            if (
                route.type == "conversation.message.created"
                and place.state == "closed"
                and self._closed_reply is not None
                and isinstance(author, str)
            ):
                outcome = await self._closed_reply(place.id, author)
                if outcome == "reopened":
                    reopened = Place(
                        place.id,
                        place.key,
                        place.team_id,
                        place.mode,
                        place.channel_id,
                        place.thread_ts,
                        "open",
                    )
                    return [route, Route("conversation.reopened", reopened, actor=author)]
        elif route.type == "conversation.message.deleted" and route.ts is not None:
            found = await self._messages.record_slack_message(place.id, route.ts)
            await self._messages.settle(found.message.id, deleted_at=datetime.now(UTC))
        elif route.type == "conversation.closed":
            await self._conversations.change_state(
                place.id, state="closed", from_states=("open",), closed_at=datetime.now(UTC)
            )
        elif route.type == "conversation.reopened":
            await self._conversations.change_state(
                place.id, state="open", from_states=("closed",), closed_at=None
            )
        return [route]

    async def _record(
        self,
        conversation_id: int,
        ts: str,
        message: Mapping[str, Any] | None,
        seen_at: datetime | None,
        top_level: str | None = None,
    ) -> None:
        """Record a message heard (an opening's is top-level: its thread is its own ts, even
        when its message could not be fetched)."""
        digest = content_digest(message) if message is not None else None
        stored = await self._messages.record_slack_message(
            conversation_id,
            ts,
            author={"slack_user": (message or {}).get("user")},
            content_digest=digest,
            file_ids=file_ids(message or {}),
            thread_ts=thread_of(message) or top_level,
        )
        if not stored.created and digest is not None and stored.message.content_digest != digest:
            await self._messages.settle(stored.message.id, content_digest=digest)
        await self._conversations.touch(conversation_id, at=seen_at, seen_ts=ts)

    async def _open(self, place: Place, app_id: str | None) -> Conversation | None:
        """Store a conversation Slack opened (idempotent by its place)."""
        if place.thread_ts is None:
            return None
        existing = await self._conversations.by_place(
            place.team_id, place.channel_id, place.thread_ts
        )
        if existing is not None:
            return existing
        created = await self._conversations.create(
            NewConversation(
                key=opened_key(place.team_id, place.channel_id, place.thread_ts),
                team_id=place.team_id,
                mode=place.mode,
                state="open",
                app_id=app_id,
                channel_id=place.channel_id,
                thread_ts=place.thread_ts,
                spec={"opened_from_slack": True},
            )
        )
        return created.conversation


def _ts_time(ts: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), UTC) if ts else None
    except ValueError:
        return None
