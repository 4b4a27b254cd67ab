"""Rate-limit arithmetic for calls to Slack. Pure: the caller passes the clock in.

Slack limits each Web API method per workspace per app by tier (per minute), and
``chat.postMessage`` additionally to about one message per second per channel with short bursts
plus a workspace-wide ceiling. The :class:`RateLimiter` answers "may this call go now, and if not,
when?" for each call, and remembers ``Retry-After`` answers so that only the lane (channel for
posts, method otherwise) that Slack pushed back on waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "METHOD_TIERS",
    "TIER_PER_MINUTE",
    "Bucket",
    "RateLimiter",
    "RatePolicy",
    "tier_of",
]

Tier = Literal[1, 2, 3, 4, "post"]

#: Per-minute allowance of each tier (Slack documents these as minimums: "1+", "20+", ...).
TIER_PER_MINUTE: dict[int, int] = {1: 1, 2: 20, 3: 50, 4: 100}

#: Tiers of the methods slackbridge calls; unknown methods are treated as Tier 3.
METHOD_TIERS: dict[str, Tier] = {
    "chat.postMessage": "post",
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "conversations.join": 3,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.members": 4,
    "conversations.list": 2,
    "conversations.open": 3,
    "conversations.invite": 3,
    "conversations.create": 2,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "users.profile.get": 4,
    "reactions.add": 3,
    "reactions.remove": 2,
    "reactions.get": 3,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
    "team.info": 3,
    "bots.info": 3,
    "auth.test": 4,
    # Socket Mode: counted per app (the caller passes the app's id where a team id goes).
    "apps.connections.open": 1,
}


def tier_of(method: str) -> Tier:
    return METHOD_TIERS.get(method, 3)


@dataclass
class Bucket:
    """A token bucket: ``capacity`` calls at once, refilled at ``rate`` calls per second."""

    capacity: float
    rate: float
    tokens: float = -1.0
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def _refill(self, now: float) -> None:
        if now > self.updated_at:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated_at) * self.rate)
            self.updated_at = now

    def wait_time(self, now: float) -> float:
        """Seconds until one call may go (0 when it may go now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def full(self, now: float) -> bool:
        """Whether the bucket has refilled to capacity (then it is as good as a new one).

        Only reads: refilling here would split one later refill into two additions, and float
        sums grouped differently can differ in the last bit, so asking would change a later
        decision. A full bucket's next refill is capped at exactly ``capacity``, the value a new
        bucket starts with, so forgetting it changes nothing.
        """
        if self.updated_at > now:
            return False
        return self.tokens + (now - self.updated_at) * self.rate >= self.capacity


@dataclass(frozen=True)
class RatePolicy:
    """The limits the sender keeps to. Defaults follow Slack's published tiers.

    ``headroom`` scales every allowance down a little so that clock differences between us and
    Slack do not turn into 429s. The per-channel burst is kept one below what Slack (and the
    emulator: 3) tolerates: a call's reservation here and its arrival at Slack are a network hop
    apart, and one spare token absorbs that jitter where a 1% rate margin alone would not right
    after a burst. Over a long run this keeps ~99% of the allowed rate.
    """

    tier_per_minute: dict[int, int] = field(default_factory=lambda: dict(TIER_PER_MINUTE))
    post_per_second_per_channel: float = 1.0
    post_burst_per_channel: int = 2
    post_per_minute_per_workspace: int = 600
    headroom: float = 0.99

    def method_bucket(self, tier: int) -> Bucket:
        per_minute = self.tier_per_minute[tier] * self.headroom
        # Slack tolerates short bursts within the minute; allow a fifth of it at once.
        return Bucket(capacity=max(1.0, per_minute / 5), rate=per_minute / 60)

    def channel_bucket(self) -> Bucket:
        return Bucket(
            capacity=float(self.post_burst_per_channel),
            rate=self.post_per_second_per_channel * self.headroom,
        )

    def workspace_post_bucket(self) -> Bucket:
        per_minute = self.post_per_minute_per_workspace * self.headroom
        return Bucket(capacity=max(1.0, per_minute / 10), rate=per_minute / 60)


@dataclass
class RateLimiter:
    """Decides when each call to Slack may go.

    ``reserve`` either grants the call now (consuming allowance from every bucket it touches) or
    says how long to wait without consuming anything, so a waiting lane never eats the allowance
    of another. ``penalize`` records a 429's Retry-After for the lane that got it.
    """

    policy: RatePolicy = field(default_factory=RatePolicy)
    _buckets: dict[tuple[str, ...], Bucket] = field(default_factory=dict)
    _blocked_until: dict[tuple[str, ...], float] = field(default_factory=dict)

    def _bucket(self, key: tuple[str, ...], make: Bucket) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = make
        return bucket

    def _keys(self, team_id: str, method: str, channel: str | None) -> list[tuple[str, ...]]:
        tier = tier_of(method)
        if tier == "post":
            keys: list[tuple[str, ...]] = [("post-ws", team_id)]
            if channel:
                keys.append(("post-ch", team_id, channel))
            return keys
        return [("method", team_id, method)]

    def _make(self, key: tuple[str, ...], method: str) -> Bucket:
        kind = key[0]
        if kind == "post-ch":
            return self.policy.channel_bucket()
        if kind == "post-ws":
            return self.policy.workspace_post_bucket()
        tier = tier_of(method)
        return self.policy.method_bucket(tier if isinstance(tier, int) else 3)

    def lane(self, team_id: str, method: str, channel: str | None) -> tuple[str, ...]:
        """The key a 429 for this call blocks: the channel for posts, the method otherwise."""
        if tier_of(method) == "post" and channel:
            return ("post-ch", team_id, channel)
        return ("method", team_id, method)

    def reserve(self, team_id: str, method: str, channel: str | None, now: float) -> float:
        """0.0 and the call is accounted for; otherwise the seconds to wait before asking again."""
        keys = self._keys(team_id, method, channel)
        blocked = self._blocked_until.get(self.lane(team_id, method, channel), 0.0)
        if blocked > now:
            return blocked - now
        buckets = [self._bucket(key, self._make(key, method)) for key in keys]
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            return wait
        for bucket in buckets:
            bucket.take(now)
        return 0.0

    def prune(self, now: float) -> int:
        """Forget the buckets that are full again and the blocks that are over; returns how
        many entries went. A bucket made afresh is the same as a full one, so no decision
        changes, and memory stays bounded by the lanes used lately (channels, methods and
        workspaces come and go for as long as the gateway runs)."""
        stale = [key for key, bucket in self._buckets.items() if bucket.full(now)]
        for key in stale:
            del self._buckets[key]
        over = [key for key, until in self._blocked_until.items() if until <= now]
        for key in over:
            del self._blocked_until[key]
        return len(stale) + len(over)

    # --- state kept elsewhere (the buckets shared by several gateways in PostgreSQL) -------

    def touches(self, team_id: str, method: str, channel: str | None) -> list[tuple[str, ...]]:
        """The keys of every bucket a call draws on, and its lane's (the first for a post
        without a channel, which blocks on its method)."""
        keys = self._keys(team_id, method, channel)
        lane = self.lane(team_id, method, channel)
        return keys if lane in keys else [*keys, lane]

    def fresh(self, key: tuple[str, ...], method: str) -> Bucket:
        """A new (full) bucket of the kind ``key`` names."""
        return self._make(key, method)

    def load(self, key: tuple[str, ...], bucket: Bucket | None, blocked_until: float) -> None:
        """Put a bucket's stored state (None: as new) and its lane's block in this limiter."""
        if bucket is None:
            self._buckets.pop(key, None)
        else:
            self._buckets[key] = bucket
        if blocked_until > 0:
            self._blocked_until[key] = blocked_until
        else:
            self._blocked_until.pop(key, None)

    def saved(self, key: tuple[str, ...]) -> tuple[Bucket | None, float]:
        """A bucket's state to store again (None: never drawn on) and its lane's block."""
        return self._buckets.get(key), self._blocked_until.get(key, 0.0)

    def penalize(
        self, team_id: str, method: str, channel: str | None, retry_after: float, now: float
    ) -> None:
        """Slack answered 429 with ``Retry-After``: hold that lane back until then."""
        lane = self.lane(team_id, method, channel)
        self._blocked_until[lane] = max(self._blocked_until.get(lane, 0.0), now + retry_after)
        # The call that got the 429 did not count for Slack; drain the bucket so the lane
        # resumes at the steady rate rather than with a burst.
        bucket = self._buckets.get(lane)
        if bucket is not None:
            bucket.tokens = min(bucket.tokens, 0.0)
            bucket.updated_at = now + retry_after
