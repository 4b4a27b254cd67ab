"""Catch-up: replies posted while the gateway was down (or whose events Slack gave up
retrying) reach the product once, in order.

A singleton worker sweeps the open conversations, most recently active first: for each it asks
Slack for the messages after its catch-up mark (``conversations.replies`` of a still thread,
``conversations.history`` of a noisy channel), a little before it to cover events Slack gave up
on, pages of ``history_page_size``; it sends what the bridge hasn't seen (by ts) as
``conversation.message.created``, oldest first, with the same webhook ids the live path uses
(so a reply heard both ways is stored once), and moves the mark forward. Slack's history
methods can be as scarce as one request a minute with 15 messages for apps outside the
Marketplace: every request takes a token from a per-workspace :class:`Budget`
(``SLACKBRIDGE_BRIDGE_HISTORY_PER_MINUTE``), and a 429 waits its Retry-After. Messages younger
than a few seconds are left to the live path (their events may be on the way).

Progress shows in /metrics: ``slackbridge_bridge_catchup_*`` (requests, messages sent,
conversations left in the sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

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
CATCHUP_CONVERSATIONS_LEFT = Gauge(
    "slackbridge_bridge_catchup_conversations_left",
    "Open conversations the current catch-up sweep has yet to reconcile.",
)

# Message subtypes a person (or another app) wrote.
_WRITTEN = frozenset({"", "bot_message", "thread_broadcast", "file_share", "me_message"})
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


def missed(
    messages: Sequence[Mapping[str, Any]],
    place: Place,
    *,
    seen: set[str],
    after: str | None,
    before: float,
    own: Callable[[Mapping[str, Any]], bool],
) -> list[Mapping[str, Any]]:
    """What of ``messages`` (a history or replies page) the product has not heard: written by
    someone (not the gateway), in the conversation, newer than ``after``, older than
    ``before`` (unix seconds), not ``seen``; oldest first. Pure."""
    found: dict[str, Mapping[str, Any]] = {}
    for message in messages:
        ts = message.get("ts")
        if not isinstance(ts, str) or ts in seen or (after is not None and ts <= after):
            continue
        if (message.get("subtype") or "") not in _WRITTEN or own(message):
            continue
        try:
            if float(ts) >= before:
                continue
        except ValueError:
            continue
        if place.mode == "still" and (
            ts == place.thread_ts or message.get("thread_ts") != place.thread_ts
        ):
            continue  # the card (or the opening message), or not of this thread
        found[ts] = message
    return [found[ts] for ts in sorted(found, key=float)]


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
        many messages were sent."""
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
        """Send what the product missed of one conversation; returns how many."""
        place = place_of(conversation)
        if place is None or (place.mode == "still" and not place.thread_ts):
            return 0
        oldest = self._oldest(conversation, place)
        seen = await self._inbound.seen_ts(conversation.id, oldest)
        before = self._clock() - self._settle
        found, parents = await self._missed_in(conversation, place, oldest, None, seen, before)
        if place.mode == "noisy":
            # History has a noisy channel's top-level messages; replies in its threads are
            # asked for thread by thread, only where a reply came after the mark.
            for parent in parents:
                latest = parent.get("latest_reply")
                if isinstance(latest, str) and (oldest is None or latest > oldest):
                    more, _ = await self._missed_in(
                        conversation, place, oldest, str(parent["ts"]), seen, before
                    )
                    found += more
        if not found:
            return 0
        found = sorted({str(m["ts"]): m for m in found}.values(), key=lambda m: float(m["ts"]))
        routes = [
            Route("conversation.message.created", place, ts=str(m["ts"]), message=m) for m in found
        ]
        authors = await self._authors(conversation.team_id, conversation.app_id, author_ids(routes))
        events = [
            route_event_body(
                route,
                Source(
                    conversation.team_id,
                    None,
                    conversation.app_id,
                    f"catchup:{conversation.id}:{route.ts}",
                    float(str(route.ts)),
                ),
                base_url=self._base_url,
                authors=authors,
                product_ids={},
            )
            for route in routes
        ]
        await self._dispatch(events)
        for message in found:
            ts = str(message["ts"])
            await self._messages.record_slack_message(
                conversation.id,
                ts,
                author={"slack_user": message.get("user")},
                content_digest=content_digest(message),
                file_ids=file_ids(message),
            )
        await self._conversations.touch(conversation.id, seen_ts=str(found[-1]["ts"]))
        CATCHUP_MESSAGES.inc(len(found))
        _log.info(
            "catch-up sent %d missed messages of conversation %d", len(found), conversation.id
        )
        return len(found)

    async def _missed_in(
        self,
        conversation: Conversation,
        place: Place,
        oldest: str | None,
        thread_ts: str | None,
        seen: set[str],
        before: float,
    ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
        """The missed messages of the conversation's history (or of one thread of a noisy
        channel), page by page, and the thread parents seen on the way."""
        found: list[Mapping[str, Any]] = []
        parents: list[Mapping[str, Any]] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = await self._page(conversation, place, oldest, cursor, thread_ts)
            parents.extend(m for m in page.messages if m.get("reply_count"))
            found.extend(
                missed(page.messages, place, seen=seen, after=oldest, before=before, own=page.own)
            )
            cursor = page.next_cursor
            if not cursor:
                break
        return found, parents

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
