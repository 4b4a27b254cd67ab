"""Rate-limit arithmetic for the emulator's Web API: token buckets, no I/O.

Slack limits each Web API method per app per workspace per minute, by tier (Tier 1: 1+/min,
Tier 2: 20+/min, Tier 3: 50+/min, Tier 4: 100+/min), and ``chat.postMessage`` to about one
message per second per channel with short bursts, plus a workspace-wide ceiling. Each limit here is
a token bucket: ``burst`` calls may go at once, then calls refill at ``per_minute / 60`` per second.
Over a limit the caller gets the whole seconds to wait, which the dispatcher sends as
``Retry-After``.

Rate limits run on real (monotonic) time: ``--speed`` scales Slack's waits for retries and expiries,
not these limits, so a client's backoff is exercised exactly as against Slack.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slackbridge.emulator.rate_usage import RateUsage

__all__ = [
    "DEFAULT_CHANNEL_POST_LIMIT",
    "DEFAULT_TIER_LIMITS",
    "DEFAULT_WORKSPACE_POST_LIMIT",
    "HISTORY_METHODS",
    "HISTORY_PROFILES",
    "Bucket",
    "Limit",
    "RateLimiter",
    "parse_limit",
]


@dataclass(frozen=True)
class Limit:
    """``burst`` calls at once, refilled at ``per_minute`` per minute."""

    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


DEFAULT_TIER_LIMITS: dict[int, Limit] = {
    1: Limit(per_minute=1, burst=3),
    2: Limit(per_minute=20, burst=20),
    3: Limit(per_minute=50, burst=50),
    4: Limit(per_minute=100, burst=100),
}
# chat.postMessage: one per second per channel with a short burst, per app and workspace.
DEFAULT_CHANNEL_POST_LIMIT = Limit(per_minute=60, burst=3)
# ... and a ceiling over all channels of a workspace for the same app.
DEFAULT_WORKSPACE_POST_LIMIT = Limit(per_minute=600, burst=100)


# conversations.history and .replies: since 2025, commercially distributed apps outside the
# Slack Marketplace get 1 request per minute and at most 15 messages a page ("non_marketplace");
# internal and Marketplace apps keep Tier 3 and pages of up to 999/1000 ("default").
HISTORY_METHODS = ("conversations.history", "conversations.replies")
HISTORY_PROFILES = ("default", "non_marketplace")
_NON_MARKETPLACE_LIMIT = Limit(per_minute=1, burst=1)
_NON_MARKETPLACE_PAGE = 15


@dataclass
class Bucket:
    """One counter: current tokens and the calls it allowed and refused."""

    limit: Limit
    tokens: float
    updated: float
    allowed: int = 0
    limited: int = 0

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.limit.burst), self.tokens + elapsed * self.limit.per_second)
        self.updated = now

    def wait(self) -> float:
        """Seconds until one token is available (0 when one is)."""
        if self.tokens >= 1.0:
            return 0.0
        rate = self.limit.per_second
        return math.inf if rate <= 0 else (1.0 - self.tokens) / rate


def parse_limit(value: Any, *, name: str) -> Limit:
    """A :class:`Limit` from ``{"per_minute": n, "burst": m}`` (burst defaults to per_minute).

    Raises ``ValueError`` naming the bad field.
    """
    if not isinstance(value, Mapping):
        raise ValueError(f"{name}: expected an object with per_minute and burst")
    per_minute = value.get("per_minute")
    if isinstance(per_minute, bool) or not isinstance(per_minute, int | float) or per_minute < 0:
        raise ValueError(f"{name}.per_minute: expected a number >= 0")
    burst = value.get("burst", max(1, math.ceil(per_minute)))
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(f"{name}.burst: expected an integer >= 1")
    return Limit(per_minute=float(per_minute), burst=burst)


def _retry_after(wait: float) -> int:
    # Slack sends whole seconds; never 0, or clients would retry in a busy loop.
    return 3600 if math.isinf(wait) else max(1, math.ceil(wait))


@dataclass
class RateLimiter:
    """Buckets keyed by (method, app, team) and, for posts, by channel and by workspace.

    Override keys (``configure``): ``tier1``..``tier4``, ``post_channel``, ``post_workspace``, or
    a method name such as ``users.list`` (that method only).
    """

    clock: Callable[[], float] = time.monotonic
    tiers: dict[int, Limit] = field(default_factory=lambda: dict(DEFAULT_TIER_LIMITS))
    channel_post: Limit = DEFAULT_CHANNEL_POST_LIMIT
    workspace_post: Limit = DEFAULT_WORKSPACE_POST_LIMIT
    methods: dict[str, Limit] = field(default_factory=dict)
    buckets: dict[tuple[str, ...], Bucket] = field(default_factory=dict)
    usage: RateUsage = field(default_factory=RateUsage)  # kept even when limits are off
    history: str = "default"  # one of HISTORY_PROFILES
    history_page_max: int | None = None  # most messages a history/replies page returns

    def set_history(self, profile: str) -> None:
        """Apply a history profile (``HISTORY_PROFILES``); ``ValueError`` for another name."""
        if profile not in HISTORY_PROFILES:
            raise ValueError(f"history: expected one of {', '.join(HISTORY_PROFILES)}")
        self.history = profile
        for name in HISTORY_METHODS:
            if profile == "non_marketplace":
                self.methods[name] = _NON_MARKETPLACE_LIMIT
            else:
                self.methods.pop(name, None)
        self.history_page_max = _NON_MARKETPLACE_PAGE if profile == "non_marketplace" else None
        for bucket_key, bucket in self.buckets.items():
            bucket.limit = self._limit_for_key(bucket_key)

    # --- configuration ------------------------------------------------------------------------
    def configure(self, overrides: Mapping[str, Any]) -> None:
        """Apply limit overrides (validated first, so a bad entry changes nothing)."""
        parsed = {key: parse_limit(value, name=key) for key, value in overrides.items()}
        for key, limit in parsed.items():
            if key.startswith("tier") and key[4:] in {"1", "2", "3", "4"}:
                self.tiers[int(key[4:])] = limit
            elif key == "post_channel":
                self.channel_post = limit
            elif key == "post_workspace":
                self.workspace_post = limit
            else:
                self.methods[key] = limit
        # Existing buckets keep their counts but take the new limit.
        for bucket_key, bucket in self.buckets.items():
            bucket.limit = self._limit_for_key(bucket_key)

    def reset(self) -> None:
        """Forget every counter and the usage report (limits stay as configured)."""
        self.buckets.clear()
        self.usage.reset()

    def _limit_for_key(self, key: tuple[str, ...]) -> Limit:
        kind, name = key[0], key[1]
        if kind == "post_channel":
            return self.channel_post
        if kind == "post_workspace":
            return self.workspace_post
        tier = int(kind[4:]) if kind.startswith("tier") else 3
        return self.methods.get(name) or self.tiers.get(tier, DEFAULT_TIER_LIMITS[3])

    def _bucket(self, key: tuple[str, ...], now: float) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            limit = self._limit_for_key(key)
            bucket = Bucket(limit=limit, tokens=float(limit.burst), updated=now)
            self.buckets[key] = bucket
        else:
            bucket.refill(now)
        return bucket

    # --- checks -------------------------------------------------------------------------------
    def _observe(self, key: tuple[str, ...], now: float) -> None:
        limit = self._limit_for_key(key)
        self.usage.seen(key, now, limit.per_minute, limit.burst)

    def check_method(
        self, method: str, tier: int, app_id: str, team_id: str, *, enforce: bool = True
    ) -> int:
        """Take one call of ``method`` (a tier 1-4 method); 0 if allowed, else Retry-After.

        The call is recorded in :attr:`usage` either way; ``enforce=False`` (limits off) only
        records it."""
        now = self.clock()
        key = (f"tier{tier}", method, app_id, team_id)
        self._observe(key, now)
        if not enforce:
            return 0
        bucket = self._bucket(key, now)
        wait = bucket.wait()
        if wait > 0:
            bucket.limited += 1
            self.usage.answered_429(key)
            return _retry_after(wait)
        bucket.tokens -= 1.0
        bucket.allowed += 1
        return 0

    def check_post(self, app_id: str, team_id: str, channel: str, *, enforce: bool = True) -> int:
        """Take one message post to ``channel``: per-channel bucket and workspace ceiling.

        Both must have room; a refused post consumes neither. Also used by incoming webhooks.
        Recorded in :attr:`usage` either way; ``enforce=False`` only records it.
        """
        now = self.clock()
        channel_key = ("post_channel", "chat.postMessage", app_id, team_id, channel)
        workspace_key = ("post_workspace", "chat.postMessage", app_id, team_id)
        self._observe(channel_key, now)
        self._observe(workspace_key, now)
        if not enforce:
            return 0
        per_channel = self._bucket(channel_key, now)
        workspace = self._bucket(workspace_key, now)
        wait = max(per_channel.wait(), workspace.wait())
        if wait > 0:
            per_channel.limited += 1
            workspace.limited += 1
            # The 429 belongs to the bucket that had no room (the channel's first).
            self.usage.answered_429(channel_key if per_channel.wait() > 0 else workspace_key)
            return _retry_after(wait)
        per_channel.tokens -= 1.0
        workspace.tokens -= 1.0
        per_channel.allowed += 1
        workspace.allowed += 1
        return 0

    # --- reporting ----------------------------------------------------------------------------
    def usage_report(self, team_id: str | None = None) -> dict[str, Any]:
        """Every bucket's usage per workspace (``GET /_emulator/ratelimits/report``)."""
        limits = {}
        for key in self.usage.buckets:
            limit = self._limit_for_key(key)
            limits[key] = (limit.per_minute, limit.burst)
        return self.usage.report(limits, team_id)

    def snapshot(self) -> dict[str, Any]:
        """Limits and counters, for ``GET /_emulator/ratelimits``."""
        now = self.clock()
        counters = []
        for key, bucket in self.buckets.items():
            bucket.refill(now)
            entry: dict[str, Any] = {
                "scope": key[0],
                "method": key[1],
                "app_id": key[2],
                "team_id": key[3],
                "allowed": bucket.allowed,
                "limited": bucket.limited,
                "remaining": math.floor(bucket.tokens),
                "per_minute": bucket.limit.per_minute,
                "burst": bucket.limit.burst,
            }
            if key[0] == "post_channel":
                entry["channel_id"] = key[4]
            counters.append(entry)
        return {
            "limits": {
                **{f"tier{t}": _limit_json(limit) for t, limit in sorted(self.tiers.items())},
                "post_channel": _limit_json(self.channel_post),
                "post_workspace": _limit_json(self.workspace_post),
                **{name: _limit_json(limit) for name, limit in sorted(self.methods.items())},
            },
            "counters": counters,
            "history": self.history,
            "history_page_max": self.history_page_max,
        }


def _limit_json(limit: Limit) -> dict[str, Any]:
    return {"per_minute": limit.per_minute, "burst": limit.burst}
