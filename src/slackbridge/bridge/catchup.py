"""Catch-up: replies posted, edited or deleted while the gateway was down (or whose events
Slack gave up retrying) reach the product once, in order.

A singleton worker sweeps the open conversations, most recently active first: for each it asks
Slack for the messages after its catch-up mark (``conversations.replies`` of a still thread,
``conversations.history`` of a noisy channel), a little before it to cover events Slack gave up
on, pages of ``history_page_size``; it sends what the bridge hasn't seen (by ts) as
``conversation.message.created``, oldest first, with the same webhook ids the live path uses
(so a reply heard both ways is stored once), and moves the mark forward. In the same read it
finds the messages the bridge recorded whose content changed (``conversation.message.edited``)
or that are gone (``conversation.message.deleted``); what counts as each is decided, purely,
in ``bridge/catchup_diff.py``. Slack's history
methods can be as scarce as one request a minute with 15 messages for apps outside the
Marketplace: every request takes a token from a per-workspace :class:`Budget`
(``SLACKBRIDGE_BRIDGE_HISTORY_PER_MINUTE``), and a 429 waits its Retry-After. Messages younger
than a few seconds are left to the live path (their events may be on the way).

Progress shows in /metrics: ``slackbridge_bridge_catchup_*`` (requests, messages sent, edits
and deletions sent, conversations left in the sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge

from slackbridge.bridge.catchup_diff import Edit, Read, deleted, edited, missed, thread_of
from slackbridge.bridge.events import Author, Source, author_ids, route_event_body
from slackbridge.bridge.inbound import place_of
from slackbridge.bridge.loop_guard import is_own_post, is_own_upload
from slackbridge.bridge.noise import content_digest, file_ids
from slackbridge.bridge.routing import Place, Route
from slackbridge.domain.events import DomainEvent
from slackbridge.store.repositories.bridge_conversations import (
    Conversation,
    ConversationsRepository,
)
from slackbridge.store.repositories.bridge_inbound import InboundRepository
from slackbridge.store.repositories.bridge_messages import MessagesRepository

__all__ = [
    "CATCHUP_CHANGES",
    "CATCHUP_CONVERSATIONS_LEFT",
    "CATCHUP_MESSAGES",
    "CATCHUP_REQUESTS",
    "Budget",
    "CatchUp",
    "CatchUpWorker",
    "HistoryPage",
    "missed",
]

_log = logging.getLogger("slackbridge.bridge.catchup")

CATCHUP_REQUESTS = Counter(
    "slackbridge_bridge_catchup_requests_total",
    "History requests made by the bridge's catch-up, by outcome (ok, ratelimited, error).",
    ["outcome"],
)
CATCHUP_MESSAGES = Counter(
    "slackbridge_bridge_catchup_messages_total",
    "Messages the bridge's catch-up found missed and sent to the product.",
)
CATCHUP_CHANGES = Counter(
    "slackbridge_bridge_catchup_changes_total",
    "Edits and deletions of messages the product had heard that the bridge's catch-up found "
    "and sent, by kind (edited, deleted).",
    ["kind"],
)
CATCHUP_CONVERSATIONS_LEFT = Gauge(
    "slackbridge_bridge_catchup_conversations_left",
    "Open conversations the current catch-up sweep has yet to reconcile.",
)

_MAX_PAGES = 50  # per conversation per sweep: a very long backlog continues next sweep


@dataclass
class Budget:
    """A token bucket per workspace: ``per_minute`` requests, up to ``burst`` at once.
    Pure: the clock is passed in."""

    per_minute: float
    burst: float = 1.0
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)

    def wait(self, team_id: str, now: float) -> float:
        """Seconds until a request for ``team_id`` may go (0: take one now; it is taken)."""
        rate = max(self.per_minute, 1e-6) / 60.0
        tokens, at = self._tokens.get(team_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * rate)
        if tokens >= 1.0:
            self._tokens[team_id] = (tokens - 1.0, now)
            return 0.0
        self._tokens[team_id] = (tokens, now)
        return (1.0 - tokens) / rate

    def hold(self, team_id: str, seconds: float, now: float) -> None:
        """Slack said wait (429 Retry-After): no tokens until then."""
        rate = max(self.per_minute, 1e-6) / 60.0
        self._tokens[team_id] = (-seconds * rate, now)


@dataclass(frozen=True)
class HistoryPage:
    """One page of history, and who the gateway's bot is in that workspace (its own posts
    are skipped)."""

    messages: list[dict[str, Any]]
    next_cursor: str | None
    bot_id: str | None = None
    bot_user_id: str | None = None

    def own(self, message: Mapping[str, Any]) -> bool:
        """The gateway's own post: its marker, its bot, or a file its bot user uploaded."""
        if is_own_post(message) is not None or is_own_upload(message, self.bot_user_id):
            return True
        return bool(self.bot_id and message.get("bot_id") == self.bot_id)


#: (team, app id, method, args) → one page of Slack's answer; raises :class:`RateLimited`.
FetchPage = Callable[[str, str | None, str, dict[str, Any]], Awaitable[HistoryPage]]
#: Store the deliveries of events (the product's webhook fan-out).
Dispatch = Callable[[Sequence[DomainEvent]], Awaitable[int]]
#: (team, app id, user ids) → author objects.
Authors = Callable[[str, str | None, set[str]], Awaitable[dict[str, Author]]]


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after


class CatchUp:
    """One sweep's logic (the worker repeats it)."""

    def __init__(
        self,
        *,
        conversations: ConversationsRepository,
        messages: MessagesRepository,
        inbound: InboundRepository,
        fetch: FetchPage,
        dispatch: Dispatch,
        authors: Authors,
        budget: Budget,
        base_url: str,
        page_size: int = 15,
        lookback: float = 900.0,
        settle: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._conversations = conversations
        self._messages = messages
        self._inbound = inbound
        self._fetch = fetch
        self._dispatch = dispatch
        self._authors = authors
        self._budget = budget
        self._base_url = base_url
        self._page_size = page_size
        self._lookback = lookback
        self._settle = settle
        self._clock = clock
        self._sleep = sleep

    async def sweep(self, *, limit: int = 1000) -> int:
        """Reconcile every open conversation once, most recently active first; returns how
        many webhooks (missed messages, edits, deletions) were sent."""
        todo = await self._conversations.most_recently_active(state="open", limit=limit)
        sent = 0
        CATCHUP_CONVERSATIONS_LEFT.set(len(todo))
        for left, conversation in enumerate(todo, 1):
            try:
                sent += await self.reconcile(conversation)
            except Exception as exc:
                CATCHUP_REQUESTS.labels("error").inc()
                _log.warning("catch-up of conversation %d failed: %r", conversation.id, exc)
            CATCHUP_CONVERSATIONS_LEFT.set(len(todo) - left)
        return sent

    def _oldest(self, conversation: Conversation, place: Place) -> str | None:
        mark = conversation.last_seen_ts
        if mark is None:
            return (
                place.thread_ts
                if place.mode == "still"
                else f"{conversation.created_at.timestamp():.6f}"
            )
        return f"{max(0.0, float(mark) - self._lookback):.6f}"

    async def reconcile(self, conversation: Conversation) -> int:
        """Send what the product missed of one conversation (new messages, edits, deletions);
        returns how many webhooks."""
        place = place_of(conversation)
        if place is None or (place.mode == "still" and not place.thread_ts):
            return 0
        oldest = self._oldest(conversation, place)
        # Read before Slack is: a message recorded now was posted before the history read.
        recorded = await self._inbound.recorded(conversation.id, oldest)
        before = self._clock() - self._settle
        mine: set[str] = set()  # the gateway's own posts among them (by ts)
        reads = [await self._read(conversation, place, oldest, None, mine)]
        if place.mode == "noisy":
            # History has a noisy channel's top-level messages; replies in its threads are
            # asked for thread by thread, only where a reply came after the mark.
            for parent in [m for m in reads[0].messages if m.get("reply_count")]:
                latest = parent.get("latest_reply")
                if isinstance(latest, str) and (oldest is None or latest > oldest):
                    thread = str(parent["ts"])
                    reads.append(await self._read(conversation, place, oldest, thread, mine))

        def own(message: Mapping[str, Any]) -> bool:
            return message.get("ts") in mine

        seen = set(recorded)
        found = {
            str(m["ts"]): m
            for read in reads
            for m in missed(read.messages, place, seen=seen, after=oldest, before=before, own=own)
        }
        messages = {str(m.get("ts")): m for read in reads for m in read.messages}
        edits = edited(messages.values(), recorded, before=before, own=own)
        gone = deleted(reads, place, recorded)
        if not (found or edits or gone):
            return 0
        new = sorted(found.values(), key=lambda m: float(m["ts"]))
        events = await self._events(conversation, place, new, edits, gone)
        await self._dispatch(events)
        await self._record(conversation, new, edits, gone)
        CATCHUP_MESSAGES.inc(len(new))
        CATCHUP_CHANGES.labels("edited").inc(len(edits))
        CATCHUP_CHANGES.labels("deleted").inc(len(gone))
        _log.info(
            "catch-up sent %d missed messages, %d edits and %d deletions of conversation %d",
            len(new),
            len(edits),
            len(gone),
            conversation.id,
        )
        return len(events)

    async def _events(
        self,
        conversation: Conversation,
        place: Place,
        new: Sequence[Mapping[str, Any]],
        edits: Sequence[Edit],
        gone: Sequence[str],
    ) -> list[DomainEvent]:
        """The webhooks, with the ids the live path gives the same messages, edits and
        deletions (``bridge/events.py``): whichever path is first, the product gets one."""
        team, app = conversation.team_id, conversation.app_id
        prefix = f"catchup:{conversation.id}"
        routed: list[tuple[Route, Source]] = []
        for message in new:
            ts = str(message["ts"])
            route = Route("conversation.message.created", place, ts=ts, message=message)
            routed.append((route, Source(team, None, app, f"{prefix}:{ts}", float(ts))))
        for edit in edits:
            route = Route("conversation.message.edited", place, ts=edit.ts, message=edit.message)
            # Without an ``edited`` stamp the id falls back to the source's key: the content's.
            key = f"{prefix}:{edit.ts}:{edit.digest[:16]}"
            at = float(edit.stamp or edit.ts)
            routed.append((route, Source(team, None, app, key, at)))
        now = self._clock()
        for ts in gone:
            route = Route("conversation.message.deleted", place, ts=ts)
            routed.append((route, Source(team, None, app, f"{prefix}:{ts}:deleted", now)))
        authors = await self._authors(team, app, author_ids([r for r, _ in routed]))
        return [
            route_event_body(
                route, source, base_url=self._base_url, authors=authors, product_ids={}
            )
            for route, source in routed
        ]

    async def _record(
        self,
        conversation: Conversation,
        new: Sequence[Mapping[str, Any]],
        edits: Sequence[Edit],
        gone: Sequence[str],
    ) -> None:
        """What the product has now been told (after the webhooks are stored: a crash between
        sends them again next sweep, under the same ids)."""
        for message in new:
            await self._messages.record_slack_message(
                conversation.id,
                str(message["ts"]),
                author={"slack_user": message.get("user")},
                content_digest=content_digest(message),
                file_ids=file_ids(message),
                thread_ts=thread_of(message),
            )
        for edit in edits:
            await self._messages.replace_digest(
                conversation.id, edit.ts, known=edit.known, digest=edit.digest
            )
        at = datetime.fromtimestamp(self._clock(), UTC)
        for ts in gone:
            await self._messages.mark_deleted(conversation.id, ts, at)
        if new:
            await self._conversations.touch(conversation.id, seen_ts=str(new[-1]["ts"]))

    async def _read(
        self,
        conversation: Conversation,
        place: Place,
        oldest: str | None,
        thread_ts: str | None,
        mine: set[str],
    ) -> Read:
        """Every page of the conversation's history (or of one thread of a noisy channel),
        up to ``_MAX_PAGES`` (a longer backlog continues next sweep; the read is then not
        complete); the ts of the gateway's own posts among them are added to ``mine``."""
        messages: list[Mapping[str, Any]] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = await self._page(conversation, place, oldest, cursor, thread_ts)
            messages.extend(page.messages)
            mine.update(str(m.get("ts")) for m in page.messages if page.own(m))
            cursor = page.next_cursor
            if not cursor:
                break
        thread = thread_ts or (place.thread_ts if place.mode == "still" else None)
        return Read(messages, oldest, thread, complete=not cursor)

    async def _page(
        self,
        conversation: Conversation,
        place: Place,
        oldest: str | None,
        cursor: str | None,
        thread_ts: str | None = None,
    ) -> HistoryPage:
        # With the metadata: the gateway's own posts are known by their marker.
        args: dict[str, Any] = {
            "channel": place.channel_id,
            "limit": self._page_size,
            "include_all_metadata": True,
        }
        if oldest is not None:
            args["oldest"] = oldest
        if cursor:
            args["cursor"] = cursor
        if place.mode == "still" or thread_ts is not None:
            method = "conversations.replies"
            args["ts"] = thread_ts or place.thread_ts
        else:
            method = "conversations.history"
        while True:
            wait = self._budget.wait(conversation.team_id, self._clock())
            if wait > 0:
                await self._sleep(wait)
                continue
            try:
                page = await self._fetch(conversation.team_id, conversation.app_id, method, args)
            except RateLimited as limited:
                CATCHUP_REQUESTS.labels("ratelimited").inc()
                self._budget.hold(conversation.team_id, limited.retry_after, self._clock())
                continue
            CATCHUP_REQUESTS.labels("ok").inc()
            return page


#: Holds the cluster's one catch-up while the block runs: yields the lease (with a ``lost``
#: event to stop on) or None when ``stop`` came first. Given at composition (the store's elector).
Hold = Callable[[asyncio.Event], contextlib.AbstractAsyncContextManager[Any]]


class CatchUpWorker:
    """Sweeps at start-up, then every ``interval`` seconds (a supervised gateway worker)."""

    name = "bridge-catchup"

    def __init__(self, hold: Hold, catchup: CatchUp, *, interval: float) -> None:
        self._hold = hold
        self._catchup = catchup
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            async with self._hold(stop) as held:
                if held is not None:
                    sweep = asyncio.ensure_future(self._catchup.sweep())
                    stopping = asyncio.ensure_future(stop.wait())
                    lost = asyncio.ensure_future(held.lost.wait())
                    try:
                        await asyncio.wait(
                            {sweep, stopping, lost}, return_when=asyncio.FIRST_COMPLETED
                        )
                    finally:
                        stopping.cancel()
                        lost.cancel()
                        if not sweep.done():
                            sweep.cancel()
                            with contextlib.suppress(asyncio.CancelledError):
                                await sweep
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)
