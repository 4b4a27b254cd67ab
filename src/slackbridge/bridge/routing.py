"""Which conversation a Slack event belongs to, and which webhook it makes. Pure.

A message belongs to a ``still`` conversation when it is in its thread (the root included: a
conversation opened from Slack has a person's message as its root), and to a ``noisy`` one when
it is anywhere in its channel. A watched channel opens conversations itself: every new top-level
message (``open_on="message"``; the replies in those threads then belong to them), or only a
message that gets the chosen reaction (``open_on="reaction"``).

The caller (``bridge/inbound.py``) reads the places of the channels in a batch into a
:class:`Directory` and turns each :class:`Route` into a webhook. Nothing here reads a clock or a
database: the same event and directory always route the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from slackbridge.bridge.noise import is_edit, is_tombstone

__all__ = [
    "ROUTED_EVENT_TYPES",
    "Directory",
    "Mode",
    "Place",
    "Route",
    "Watch",
    "route_event",
]

Mode = Literal["still", "noisy"]

#: Slack event types that can concern a conversation (everything else is skipped unread).
ROUTED_EVENT_TYPES = frozenset(
    {
        "message",
        "reaction_added",
        "reaction_removed",
        "channel_archive",
        "channel_unarchive",
        "group_archive",
        "group_unarchive",
    }
)

# Message subtypes that are a message someone wrote (others are joins, topic changes, ...).
_WRITTEN = frozenset({"", "bot_message", "thread_broadcast", "file_share", "me_message"})

# States in which a conversation hears from Slack ("creating" has no place yet, "failed" never
# will).
_LISTENING = frozenset({"open", "closed"})


@dataclass(frozen=True, slots=True)
class Place:
    """A conversation as routing sees it. ``id`` is None for one a watched channel implies but
    the store doesn't hold yet; ``key`` is None until the product adopted it."""

    id: int | None
    key: str | None
    team_id: str
    mode: Mode
    channel_id: str
    thread_ts: str | None
    state: str = "open"

    def payload(self) -> dict[str, Any]:
        """``data.conversation`` of every conversation webhook."""
        return {
            "key": self.key,
            "mode": self.mode,
            "channel": self.channel_id,
            "thread_ts": self.thread_ts if self.mode == "still" else None,
        }


@dataclass(frozen=True, slots=True)
class Watch:
    """A channel whose messages open conversations."""

    team_id: str
    channel_id: str
    open_on: Literal["message", "reaction"]
    reaction: str | None = None
    mode: Mode = "still"


@dataclass(frozen=True)
class Directory:
    """The conversations and watched channels of the channels being routed, and the thread of
    messages already known (a reaction names its message's ts, not its thread)."""

    places: Sequence[Place] = ()
    watches: Sequence[Watch] = ()
    #: (team, channel, ts) → the message's thread_ts (its own ts for a top-level message).
    threads: Mapping[tuple[str, str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        threads: dict[tuple[str, str, str], Place] = {}
        channels: dict[tuple[str, str], Place] = {}
        for place in self.places:
            if place.state not in _LISTENING:
                continue
            if place.mode == "noisy":
                channels[(place.team_id, place.channel_id)] = place
            elif place.thread_ts:
                threads[(place.team_id, place.channel_id, place.thread_ts)] = place
        object.__setattr__(self, "_threads", threads)
        object.__setattr__(self, "_channels", channels)
        object.__setattr__(self, "_watches", {(w.team_id, w.channel_id): w for w in self.watches})

    def noisy(self, team_id: str, channel_id: str) -> Place | None:
        found: Place | None = self._channels.get((team_id, channel_id))  # type: ignore[attr-defined]
        return found

    def thread(self, team_id: str, channel_id: str, thread_ts: str) -> Place | None:
        key = (team_id, channel_id, thread_ts)
        found: Place | None = self._threads.get(key)  # type: ignore[attr-defined]
        return found

    def watch(self, team_id: str, channel_id: str) -> Watch | None:
        found: Watch | None = self._watches.get((team_id, channel_id))  # type: ignore[attr-defined]
        return found

    def place_of(
        self, team_id: str, channel_id: str, ts: str, thread_ts: str | None
    ) -> Place | None:
        """The conversation a message (``ts``, in thread ``thread_ts`` or top-level) is part of."""
        noisy = self.noisy(team_id, channel_id)
        if noisy is not None:
            return noisy
        root = thread_ts or ts
        found = self.thread(team_id, channel_id, root)
        if found is not None:
            return found
        watch = self.watch(team_id, channel_id)
        if watch is not None and watch.open_on == "message":
            # Every top-level message of such a channel opened a conversation: its thread is one.
            return Place(None, None, team_id, watch.mode, channel_id, root)
        return None


@dataclass(frozen=True, slots=True)
class Route:
    """One conversation webhook to send: ``type``, the conversation, and what it is about.

    ``message`` is the Slack message as it is now (created, edited, opened; None for an opening
    by reaction, whose message the caller fetches), ``previous`` what it was (edited), ``ts`` the
    message concerned, ``actor`` who reacted, archived or unarchived.
    """

    type: str
    place: Place
    ts: str | None = None
    message: Mapping[str, Any] | None = None
    previous: Mapping[str, Any] | None = None
    reaction: str | None = None
    actor: str | None = None


Own = Callable[[Mapping[str, Any]], bool]


def route_event(
    team_id: str,
    event: Mapping[str, Any],
    directory: Directory,
    *,
    own: Own = lambda _message: False,
    known_digest: Callable[[str, str], str | None] = lambda _channel, _ts: None,
) -> list[Route]:
    """The conversation webhooks of one Slack ``event`` (the ``event`` of an Events API
    envelope). ``own`` tells the gateway's own posts (its bots, and posts tied to its outbox
    operations): they never come back. ``known_digest(channel, ts)`` is the content digest the
    store last saw of a message, for edits that come without ``previous_message``."""
    etype = event.get("type")
    if etype == "message":
        return _message(team_id, event, directory, own, known_digest)
    if etype in ("reaction_added", "reaction_removed"):
        return _reaction(team_id, event, directory, own)
    if etype in ("channel_archive", "group_archive", "channel_unarchive", "group_unarchive"):
        channel = event.get("channel")
        place = directory.noisy(team_id, channel) if isinstance(channel, str) else None
        if place is None:
            return []
        archived = str(etype).endswith("_archive")
        actor = _str(event.get("user"))
        if (actor is not None and own({"user": actor})) or (
            place.state == ("closed" if archived else "open")
        ):
            return []  # the product closed (or reopened) it itself: not news
        kind = "conversation.closed" if archived else "conversation.reopened"
        return [Route(kind, place, actor=actor)]
    return []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _message(
    team_id: str,
    event: Mapping[str, Any],
    directory: Directory,
    own: Own,
    known_digest: Callable[[str, str], str | None],
) -> list[Route]:
    channel = _str(event.get("channel"))
    if channel is None:
        return []
    subtype = event.get("subtype") or ""
    if subtype == "message_changed":
        message = event.get("message") or {}
        previous = event.get("previous_message") or None
        ts = _str(message.get("ts"))
        if ts is None:
            return []
        place = directory.place_of(team_id, channel, ts, _str(message.get("thread_ts")))
        if place is None:
            return []
        if is_tombstone(message):
            # A parent deleted while it had replies: one deletion, its replies stay where they
            # are (nothing is replayed; catch-up skips what it already sent).
            return [Route("conversation.message.deleted", place, ts=ts, message=message)]
        if own(message) or not is_edit(message, previous, known_digest=known_digest(channel, ts)):
            return []
        return [
            Route("conversation.message.edited", place, ts=ts, message=message, previous=previous)
        ]
    if subtype == "message_deleted":
        previous = event.get("previous_message") or {}
        ts = _str(event.get("deleted_ts")) or _str(previous.get("ts"))
        if ts is None or own(previous):
            return []
        place = directory.place_of(team_id, channel, ts, _str(previous.get("thread_ts")))
        if place is None:
            return []
        return [Route("conversation.message.deleted", place, ts=ts, previous=previous)]
    if subtype not in _WRITTEN:
        return []
    ts = _str(event.get("ts"))
    if ts is None or own(event):
        return []
    thread_ts = _str(event.get("thread_ts"))
    top_level = thread_ts is None or thread_ts == ts
    place = directory.place_of(team_id, channel, ts, thread_ts)
    if place is not None and top_level and (place.id is None or _reopening(place, ts)):
        # A new top-level message of a channel watched for messages: it opens a conversation
        # (again, for a redelivery: the same webhook id, stored once).
        return [Route("conversation.opened", place, ts=ts, message=event)]
    if place is None or (top_level and place.mode == "still" and place.id is not None):
        # The root of a still conversation is its card (or the message that opened it).
        return []
    return [Route("conversation.message.created", place, ts=ts, message=event)]


def _reopening(place: Place, ts: str) -> bool:
    """True for the root of a stored conversation Slack opened that the product has not adopted
    yet: its opening message (or reaction) heard again."""
    return place.id is not None and place.key is None and place.thread_ts == ts


def _reaction(
    team_id: str, event: Mapping[str, Any], directory: Directory, own: Own
) -> list[Route]:
    item = event.get("item") or {}
    channel, ts, name = _str(item.get("channel")), _str(item.get("ts")), _str(event.get("reaction"))
    user = _str(event.get("user"))
    if channel is None or ts is None or name is None or item.get("type", "message") != "message":
        return []
    if user is not None and own({"user": user}):
        return []
    added = event.get("type") == "reaction_added"
    thread_ts = directory.threads.get((team_id, channel, ts))
    place = directory.place_of(team_id, channel, ts, thread_ts)
    watch = directory.watch(team_id, channel)
    trigger = added and watch is not None and watch.open_on == "reaction" and watch.reaction == name
    if place is not None and trigger and _reopening(place, ts):
        # The reaction that opened it, heard again (a redelivery): the same opening.
        return [Route("conversation.opened", place, ts=ts, reaction=name, actor=user)]
    if place is not None and place.id is not None:
        kind = "conversation.reaction.added" if added else "conversation.reaction.removed"
        return [Route(kind, place, ts=ts, reaction=name, actor=user)]
    top_level = thread_ts is None or thread_ts == ts
    if trigger and watch is not None and top_level:
        opened = Place(None, None, team_id, watch.mode, channel, ts)
        return [Route("conversation.opened", opened, ts=ts, reaction=name, actor=user)]
    if place is not None:
        # A reaction in a thread a watched channel implies (not stored: never opened as one).
        kind = "conversation.reaction.added" if added else "conversation.reaction.removed"
        return [Route(kind, place, ts=ts, reaction=name, actor=user)]
    return []


def channels_of(events: Iterable[Mapping[str, Any]]) -> set[str]:
    """The channels a batch of Slack events is about (to read their places in one query)."""
    found: set[str] = set()
    for event in events:
        channel = event.get("channel")
        if isinstance(channel, str):
            found.add(channel)
        item = event.get("item")
        if isinstance(item, dict) and isinstance(item.get("channel"), str):
            found.add(item["channel"])
    return found
