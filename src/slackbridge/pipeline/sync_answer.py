"""Synchronous answers: a product endpoint answering Slack within its 3-second ack.

An external select asks for options (``block_suggestion``), a modal submission may be refused
with field errors (``view_submission`` → ``response_action``), and a slash command
(``command.invoked``, or ``command.matched`` for a declared command) may be answered with a
message. An endpoint configured with ``synchronous = true`` receives these types (those its
``event_types`` filter lets through) while Slack waits.

The intake (``slack/inbound/intake.py``) is given a :class:`SyncAnswers` at composition and
asks it, before committing a command or an interaction, for a :class:`SyncPlan`: the payload
is normalized as the inbox worker will normalize it, routed through the declared commands
(the user cache only: Slack is waiting), and the first event of :data:`SYNC_TYPES` that a
synchronous endpoint wants is chosen, with its user filled in if that takes under
:data:`ENRICH_BUDGET`. Once the row is committed, :meth:`SyncAnswers.answer` makes the call
through the product's port, with a deadline of ``sync_webhook_deadline`` seconds after the
request arrived. When the endpoint is late or fails, Slack gets the plain empty ack and the
endpoint gets the webhook the normal way: the inbox worker holds its delivery back for
:data:`SYNC_HOLD_SECONDS` (the row names the endpoint), so that an answered call isn't
delivered twice.

Ports (given at composition): ``endpoints`` (the enabled webhook endpoints), ``wants`` (an
endpoint's type filter), ``route`` (the declared commands), ``call`` (the HTTP call to the
endpoint, ``product/sync.py``) and ``lookup_user`` (Slack's users.info, for enrichment).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from slackbridge.domain.events import DomainEvent
from slackbridge.domain.payloads import PayloadKind
from slackbridge.pipeline.enrich import LookupUser, enrich_users
from slackbridge.pipeline.normalize import normalize
from slackbridge.runtime import Gateway
from slackbridge.store.repositories.endpoints import WebhookEndpoint

__all__ = [
    "ENRICH_BUDGET",
    "SYNC_HOLD_SECONDS",
    "SYNC_TYPES",
    "SyncAnswer",
    "SyncAnswers",
    "SyncPlan",
]

_log = logging.getLogger("slackbridge.webhooks")

#: Webhook types a synchronous endpoint answers inline.
SYNC_TYPES = frozenset(
    {
        "interaction.block_suggestion",
        "interaction.view_submission",
        "command.invoked",
        "command.matched",
    }
)
#: How long the async delivery of a synchronously called webhook waits, so that the call's
#: outcome is known first (longer than the deadline plus recording the answer).
SYNC_HOLD_SECONDS = 10.0
#: Seconds the user lookup may take out of the deadline.
ENRICH_BUDGET = 0.5


@dataclass(frozen=True)
class SyncPlan:
    """Which endpoint to call, with which event (its user filled in if that was quick)."""

    endpoint: WebhookEndpoint
    event: DomainEvent


@dataclass(frozen=True)
class SyncAnswer:
    """A synchronous endpoint's answer, to relay to Slack."""

    body: bytes
    content_type: str

    def payload(self) -> dict[str, Any] | None:
        """The answer as a JSON object (a Socket Mode ack payload): a JSON object as is, plain
        text as ``{"text": …}`` (a slash command's message), nothing for an empty body."""
        if not self.body.strip():
            return None
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return {"text": self.body.decode(errors="replace")}
        return value if isinstance(value, dict) else None


#: The enabled webhook endpoints (cached by the product side).
Endpoints = Callable[[], Awaitable[Sequence[WebhookEndpoint]]]
#: Whether an endpoint's type filter lets a webhook type through.
Wants = Callable[[WebhookEndpoint, str], bool]
#: Events routed through the declared commands (help answers are the worker's business).
Route = Callable[[Sequence[DomainEvent]], Awaitable[Sequence[DomainEvent]]]
#: The call to the endpoint before a deadline (a ``time.monotonic()`` value): its answer, or
#: None when it was late or failed (the held async delivery then takes over).
Call = Callable[[SyncPlan, float], Awaitable[SyncAnswer | None]]


class SyncAnswers:
    """Decides whether a synchronous endpoint answers a payload, and calls it in time."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        endpoints: Endpoints,
        wants: Wants,
        route: Route,
        call: Call,
        lookup_user: LookupUser | None,
    ) -> None:
        self._gateway = gateway
        self._endpoints = endpoints
        self._wants = wants
        self._route = route
        self._call = call
        self._lookup_user = lookup_user

    async def plan(
        self,
        kind: PayloadKind,
        payload: Mapping[str, Any],
        dedupe_key: str,
        received_at: float,
    ) -> SyncPlan | None:
        """The synchronous call to make for this payload, if a synchronous endpoint wants it."""
        endpoints = [e for e in await self._endpoints() if e.synchronous and e.secret]
        if not endpoints:
            return None
        # The same payload the inbox worker normalizes: without Slack's verification token.
        payload = {k: v for k, v in payload.items() if k != "token"}
        try:
            normalized = normalize(kind, payload, dedupe_key=dedupe_key, received_at=received_at)
        except Exception as exc:
            # The inbox worker sets such a payload aside; Slack just gets the ordinary ack.
            _log.warning("not calling the synchronous endpoint: payload not understood (%r)", exc)
            return None
        # Declared commands turn a slash command into command.matched (or the gateway's help).
        for event in await self._route(normalized.events):
            if event.type not in SYNC_TYPES:
                continue
            for endpoint in endpoints:
                if self._wants(endpoint, event.type):
                    return SyncPlan(endpoint, await self._enriched(event))
        return None

    async def answer(self, plan: SyncPlan, started: float) -> SyncAnswer | None:
        """Call the planned endpoint within ``sync_webhook_deadline`` seconds of ``started``
        (the ``time.monotonic()`` at which the request arrived)."""
        deadline = started + self._gateway.settings.sync_webhook_deadline
        return await self._call(plan, deadline)

    async def _enriched(self, event: DomainEvent) -> DomainEvent:
        """The event with its user filled in, if that is quick (usually a cache hit)."""
        try:
            (found,) = await asyncio.wait_for(
                enrich_users(self._gateway, [event], self._lookup_user), ENRICH_BUDGET
            )
        except TimeoutError:
            return event
        return found
