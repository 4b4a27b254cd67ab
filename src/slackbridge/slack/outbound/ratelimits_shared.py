"""Slack's rate limits kept by every gateway together (PostgreSQL).

Slack counts calls per app, workspace and method (and posts per channel), whichever gateway
makes them. :class:`SharedRateLimiter` answers the same question as
:class:`~slackbridge.slack.outbound.ratelimits.RateLimiter` ("may this call go now, and if not,
when?") with the same arithmetic, but on buckets stored in the database
(:mod:`slackbridge.store.repositories.rate_buckets`) and on the database's clock: each decision
locks the buckets it touches, so N gateways together never spend more than one gateway may, and
a ``Retry-After`` from Slack holds the lane back in every gateway.

Why shared buckets rather than one owner per workspace's lanes: the product's API calls
(``views.open`` within a trigger's 3 s, permalinks, lookups, the pass-through) arrive at any
gateway behind the load balancer and must be counted where they arrive; a lane owner would have
to forward them or hold a second budget. A decision costs one short transaction (about a
millisecond), which is small beside a call to Slack and far above Slack's rates.
"""

from __future__ import annotations

import time

from slackbridge.slack.outbound.ratelimits import Bucket, RateLimiter, RatePolicy
from slackbridge.store.repositories.rate_buckets import BucketState, RateBucketsRepository

__all__ = ["SharedRateLimiter"]

_SEP = "|"
_PRUNE_EVERY = 300.0  # seconds between clean-ups of idle buckets (per process)
_IDLE = 600.0  # a bucket untouched this long is full again (every tier refills within ~61 s)


def _key(parts: tuple[str, ...]) -> str:
    return _SEP.join(parts)


class SharedRateLimiter:
    """The limiter's decisions on buckets shared in PostgreSQL (see the module docstring)."""

    def __init__(self, repo: RateBucketsRepository, policy: RatePolicy | None = None) -> None:
        self.repo = repo
        self.policy = policy or RatePolicy()
        self._pruned_at = time.monotonic()

    def _limiter(
        self, keys: list[tuple[str, ...]], method: str, states: dict[str, BucketState]
    ) -> RateLimiter:
        limiter = RateLimiter(self.policy)
        for key in keys:
            state = states.get(_key(key))
            if state is None:
                continue
            bucket: Bucket | None = None
            if not state.new:
                # Capacity and rate come from the policy; only the level is stored.
                bucket = limiter.fresh(key, method)
                bucket.tokens = state.tokens
                bucket.updated_at = state.updated_at
            limiter.load(key, bucket, state.blocked_until)
        return limiter

    @staticmethod
    def _changed(
        limiter: RateLimiter, keys: list[tuple[str, ...]], states: dict[str, BucketState]
    ) -> dict[str, BucketState]:
        changed: dict[str, BucketState] = {}
        for key in keys:
            bucket, blocked = limiter.saved(key)
            before = states.get(_key(key))
            after = BucketState(
                bucket.tokens if bucket is not None else -1.0,
                bucket.updated_at if bucket is not None else 0.0,
                blocked,
            )
            if before != after:
                changed[_key(key)] = after
        return changed

    async def reserve(self, team_id: str, method: str, channel: str | None) -> float:
        """0.0 and the call is accounted for (in every gateway's view); otherwise the seconds
        to wait before asking again."""
        await self._maybe_prune()
        keys = RateLimiter(self.policy).touches(team_id, method, channel)

        def decide(
            now: float, states: dict[str, BucketState]
        ) -> tuple[float, dict[str, BucketState]]:
            limiter = self._limiter(keys, method, states)
            wait = limiter.reserve(team_id, method, channel, now)
            return wait, self._changed(limiter, keys, states)

        return await self.repo.decide([_key(k) for k in keys], decide)

    async def penalize(
        self, team_id: str, method: str, channel: str | None, retry_after: float
    ) -> None:
        """Slack answered 429: hold that lane back in every gateway until Retry-After."""
        keys = RateLimiter(self.policy).touches(team_id, method, channel)

        def decide(
            now: float, states: dict[str, BucketState]
        ) -> tuple[None, dict[str, BucketState]]:
            limiter = self._limiter(keys, method, states)
            limiter.penalize(team_id, method, channel, retry_after, now)
            return None, self._changed(limiter, keys, states)

        await self.repo.decide([_key(k) for k in keys], decide)

    async def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at > _PRUNE_EVERY:
            self._pruned_at = now
            await self.repo.prune(_IDLE)
