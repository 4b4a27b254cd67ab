"""Pure rules of product webhook delivery: who gets what, the body, ids and retry timing."""

from __future__ import annotations

import fnmatch
import hashlib
import random
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson

from slackbridge.domain.events import OPT_IN_TYPES, DomainEvent
from slackbridge.store.queue_policy import Backoff

__all__ = [
    "BACKOFF",
    "DEFAULT_MAX_ATTEMPTS",
    "backoff_seconds",
    "endpoint_wants",
    "render_body",
    "webhook_id",
]

DEFAULT_MAX_ATTEMPTS = 12  # with the schedule below: about 9 hours of retrying
#: Exponential from two seconds, capped at an hour (``store/queue_policy.py``).
BACKOFF = Backoff(base=2.0, cap=3600.0)


def endpoint_wants(event_types: Sequence[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``event_types`` receives ``event_type``.

    An empty list means every type except the opt-in ones (``slack.event``). Entries may be
    exact types or shell-style patterns such as ``message.*``; opt-in types match only when named
    exactly.
    """
    if event_type in OPT_IN_TYPES:
        return event_type in event_types
    if not event_types:
        return True
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in event_types)


def webhook_id(event: DomainEvent) -> str:
    """A stable id for the webhook of ``event``: the same on every retry and redelivery, so a
    receiver can dedupe on the ``webhook-id`` header."""
    digest = hashlib.sha256(f"{event.dedupe_key}\x00{event.type}".encode()).hexdigest()
    return "msg_" + digest[:32]


def render_body(event: DomainEvent) -> bytes:
    """The JSON body ``{"type", "timestamp", "data"}`` (timestamp: ISO 8601, UTC)."""
    return orjson.dumps(
        {"type": event.type, "timestamp": _iso(event.occurred_at), "data": event.data}
    )


def _iso(seconds: float) -> str:
    when = datetime.fromtimestamp(seconds, tz=UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """Delay before retry number ``attempt`` (1-based): exponential with full jitter, capped.

    Full jitter spreads the retries of many failed deliveries over the whole window, so an
    endpoint that comes back is not hit by all of them at once.
    """
    return BACKOFF.seconds(attempt, rng=rng)
