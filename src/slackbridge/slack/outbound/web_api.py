"""Every call slackbridge makes to Slack's Web API on the product's behalf goes through here.

One :class:`Outbound` per gateway holds the
:class:`~slackbridge.slack.outbound.ratelimits.RateLimiter`
shared by the outbox sender and the API's synchronous calls (views.open, permalinks, user
lookups, the pass-through), so that together they stay inside Slack's limits. :meth:`Outbound.call`
waits for the limiter, calls Slack through slack_sdk's ``AsyncWebClient`` with its own retry
handlers switched off (a worker must never sleep inside the SDK: a 429 holds back only its lane,
which the limiter does), records a 429's ``Retry-After`` for that lane and returns an
:class:`~slackbridge.slack.outbound.outcomes.Outcome`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.runtime import Gateway, Slot
from slackbridge.slack.outbound.outcomes import Outcome, classify_http_status, classify_slack_error
from slackbridge.slack.outbound.ratelimits import RateLimiter, RatePolicy
from slackbridge.slack.outbound.ratelimits_shared import SharedRateLimiter
from slackbridge.store.repositories.rate_buckets import RateBucketsRepository

__all__ = ["CALL_TIMEOUT", "Outbound", "form_args", "outbound_of"]

_log = logging.getLogger("slackbridge.outbound")

#: Seconds one Web API call may take before it counts as a (transient) failure.
CALL_TIMEOUT = 15.0

# How often idle rate-limit buckets are forgotten (seconds).
_PRUNE_SECONDS = 60.0


def _make_outbound(gateway: Gateway) -> Outbound:
    # Several gateways on one PostgreSQL share Slack's budget: the buckets live there.
    shared = (
        SharedRateLimiter(RateBucketsRepository(gateway.db)) if gateway.db.is_postgres else None
    )
    return Outbound(shared=shared)


_OUTBOUND: Slot[Outbound] = Slot("outbound", _make_outbound)


def outbound_of(gateway: Gateway) -> Outbound:
    """The gateway's :class:`Outbound` (one per runtime, made on first use)."""
    return _OUTBOUND.of(gateway)


def form_args(args: Mapping[str, Any]) -> dict[str, str]:
    """Arguments as form fields: strings as they are, everything else JSON (Slack's convention
    for ``blocks``, ``attachments``, booleans and numbers in form-encoded calls)."""
    return {
        key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for key, value in args.items()
        if value is not None
    }


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    try:
        value = headers.get(name) or headers.get(name.lower())
    except AttributeError:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value is not None else None


def _retry_after(headers: Any) -> float:
    raw = _header(headers, "Retry-After")
    try:
        return max(1.0, float(raw)) if raw is not None else 1.0
    except ValueError:
        return 1.0


def outcome_of_error(exc: SlackApiError) -> Outcome:
    """An :class:`Outcome` for slack_sdk's exception (a logical error, a 429 or an HTTP error)."""
    response = exc.response
    status = int(getattr(response, "status_code", getattr(response, "status", 0)) or 0)
    headers = getattr(response, "headers", None)
    raw = getattr(response, "data", None)
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if status == 429:
        return Outcome(
            "ratelimited", code="ratelimited", data=data, retry_after=_retry_after(headers)
        )
    if status == 200 and isinstance(data.get("error"), str):
        code = str(data["error"])
        disposition = classify_slack_error(code)
        return Outcome(disposition, code=code, data=data, retry_after=_retry_after(headers))
    disposition, code = classify_http_status(status or 502)
    # A 5xx may come from a proxy after Slack did the work: the caller must not assume not.
    return Outcome(disposition, code=code, data=data, sent=disposition == "retry")


@dataclass
class Outbound:
    """The shared rate limiter and the way to call Slack through it."""

    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(RatePolicy()))
    clock: Callable[[], float] = time.monotonic
    session: aiohttp.ClientSession | None = None
    #: Buckets shared with the other gateways (PostgreSQL); ``limiter`` is used without it.
    shared: SharedRateLimiter | None = None
    calls: int = 0
    ratelimited: int = 0
    _pruned_at: float = 0.0

    async def acquire(
        self, team_id: str, method: str, channel: str | None, *, max_wait: float
    ) -> float:
        """Wait (at most ``max_wait`` s) until the limiter lets this call go; 0.0 when it may go
        now (it is then counted), else the seconds still to wait (nothing is counted)."""
        deadline = self.clock() + max_wait
        if deadline - self._pruned_at > _PRUNE_SECONDS:
            self._pruned_at = deadline
            self.limiter.prune(self.clock())
        while True:
            if self.shared is not None:
                wait = await self.shared.reserve(team_id, method, channel)
                now = self.clock()
            else:
                now = self.clock()
                wait = self.limiter.reserve(team_id, method, channel, now)
            if wait <= 0:
                return 0.0
            if now + wait > deadline:
                return wait
            await asyncio.sleep(wait)

    def client(self, gateway: Gateway, token: str) -> AsyncWebClient:
        """A Web API client for ``token`` that never retries or sleeps by itself."""
        client = gateway.slack_client(token)
        client.retry_handlers = []
        client.timeout = int(CALL_TIMEOUT)
        if self.session is not None and not self.session.closed:
            client.session = self.session
        return client

    async def call(
        self,
        client: AsyncWebClient,
        team_id: str,
        method: str,
        args: Mapping[str, Any],
        *,
        channel: str | None = None,
        max_wait: float = 0.0,
        form: bool = False,
    ) -> Outcome:
        """Call ``method`` within the rate limits; a wait longer than ``max_wait`` seconds is
        returned as a ``ratelimited`` outcome without calling Slack."""
        wait = await self.acquire(team_id, method, channel, max_wait=max_wait)
        if wait > 0:
            return Outcome("ratelimited", code="ratelimited", retry_after=wait)
        return await self.send(client, team_id, method, args, channel=channel, form=form)

    async def send(
        self,
        client: AsyncWebClient,
        team_id: str,
        method: str,
        args: Mapping[str, Any],
        *,
        channel: str | None = None,
        form: bool = False,
    ) -> Outcome:
        """Make a call the limiter has already granted (:meth:`acquire`); a 429 holds back the
        call's lane for Retry-After seconds."""
        self.calls += 1
        outcome = await self.call_now(client, method, args, form=form)
        if outcome.disposition == "ratelimited":
            self.ratelimited += 1
            if self.shared is not None:
                await self.shared.penalize(team_id, method, channel, outcome.retry_after)
            else:
                self.limiter.penalize(team_id, method, channel, outcome.retry_after, self.clock())
            _log.warning(
                "Slack rate-limited %s for %s (channel %s): retry after %.0fs",
                method,
                team_id,
                channel,
                outcome.retry_after,
            )
        return outcome

    async def call_now(
        self,
        client: AsyncWebClient,
        method: str,
        args: Mapping[str, Any],
        *,
        form: bool = False,
    ) -> Outcome:
        """One call, no rate limiting: the outcome of whatever Slack (or the network) said."""
        try:
            if form:
                response = await client.api_call(method, data=form_args(args))
            else:
                response = await client.api_call(method, json=dict(args))
        except SlackApiError as exc:
            return outcome_of_error(exc)
        except (SlackRequestError, ValueError) as exc:
            # Arguments the HTTP layer refuses to send (control characters, a bad URL).
            return Outcome.failed("invalid_arguments", {"detail": str(exc)})
        except aiohttp.ClientConnectorError:
            return Outcome("retry", code="connection_error")
        except TimeoutError:
            return Outcome("retry", code="timeout", sent=True)
        except (aiohttp.ClientError, OSError) as exc:
            _log.info("connection to Slack failed during %s: %r", method, exc)
            return Outcome("retry", code="connection_error", sent=True)
        data = response.data if isinstance(response.data, dict) else {}
        return Outcome.ok(data)
