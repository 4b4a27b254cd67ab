"""What every rate bucket saw, kept whether limits are enforced or not, for
``GET /_emulator/ratelimits/report``: an acceptance test can assert that a cluster of gateways
never exceeded a bucket and never got a 429.

Per bucket (the same keys as ``ratelimit.RateLimiter``: a method's tier per app and workspace,
``chat.postMessage`` per channel and per workspace) it counts the calls, the most calls seen in
any sliding 60-second and 1-second window, the 429s answered, and ``over_limit``: the calls a
shadow token bucket with the configured limit would have refused (so "exceeded" is known even
with ``--no-rate-limits``; with limits on it equals the 429s). Pure bookkeeping, no I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BucketUsage", "RateUsage"]

Key = tuple[str, ...]  # (scope, method, app_id, team_id[, channel_id])


@dataclass
class BucketUsage:
    """One bucket's history: calls, window peaks, 429s and shadow-limit overruns."""

    calls: int = 0
    peak_per_minute: int = 0
    peak_per_second: int = 0
    responses_429: int = 0
    over_limit: int = 0
    shadow_tokens: float | None = None  # the shadow bucket (None: not started)
    shadow_updated: float = 0.0
    _minute: deque[float] = field(default_factory=deque)
    _second: deque[float] = field(default_factory=deque)

    def seen(self, now: float, per_minute: float, burst: int) -> None:
        """Count one call at ``now`` against a limit of ``per_minute`` with ``burst``."""
        self.calls += 1
        for window, span in ((self._minute, 60.0), (self._second, 1.0)):
            window.append(now)
            while window and window[0] <= now - span:
                window.popleft()
        self.peak_per_minute = max(self.peak_per_minute, len(self._minute))
        self.peak_per_second = max(self.peak_per_second, len(self._second))
        if self.shadow_tokens is None:
            self.shadow_tokens = float(burst)
        else:
            elapsed = max(0.0, now - self.shadow_updated)
            self.shadow_tokens = min(float(burst), self.shadow_tokens + elapsed * per_minute / 60)
        self.shadow_updated = now
        if self.shadow_tokens >= 1.0:
            self.shadow_tokens -= 1.0
        else:
            self.over_limit += 1


@dataclass
class RateUsage:
    """Every bucket's :class:`BucketUsage`, and 429s that faults answered."""

    buckets: dict[Key, BucketUsage] = field(default_factory=dict)
    fault_429s: int = 0  # 429s injected by faults (before the caller is known)

    def seen(self, key: Key, now: float, per_minute: float, burst: int) -> None:
        self.buckets.setdefault(key, BucketUsage()).seen(now, per_minute, burst)

    def answered_429(self, key: Key) -> None:
        self.buckets.setdefault(key, BucketUsage()).responses_429 += 1

    def reset(self) -> None:
        self.buckets.clear()
        self.fault_429s = 0

    def report(self, limits: dict[Key, tuple[float, int]], team_id: str | None) -> dict[str, Any]:
        """Per workspace, every bucket's usage; ``clean`` when no bucket went over its limit and
        no 429 was answered. ``limits`` gives each key's current (per_minute, burst)."""
        teams: dict[str, list[dict[str, Any]]] = {}
        for key, usage in self.buckets.items():
            if team_id is not None and key[3] != team_id:
                continue
            per_minute, burst = limits.get(key, (0.0, 0))
            teams.setdefault(key[3], []).append(
                {
                    "scope": key[0],
                    "method": key[1],
                    "app_id": key[2],
                    "channel_id": key[4] if len(key) > 4 else None,
                    "calls": usage.calls,
                    "peak_per_minute": usage.peak_per_minute,
                    "peak_per_second": usage.peak_per_second,
                    "per_minute": per_minute,
                    "burst": burst,
                    "over_limit": usage.over_limit,
                    "responses_429": usage.responses_429,
                    "exceeded": usage.over_limit > 0,
                }
            )
        workspaces = []
        for tid in sorted(teams):
            buckets = teams[tid]
            responses_429 = sum(b["responses_429"] for b in buckets)
            exceeded = sum(1 for b in buckets if b["exceeded"])
            workspaces.append(
                {
                    "team_id": tid,
                    "clean": responses_429 == 0 and exceeded == 0,
                    "buckets_exceeded": exceeded,
                    "responses_429": responses_429,
                    "buckets": buckets,
                }
            )
        total_429 = sum(w["responses_429"] for w in workspaces) + self.fault_429s
        return {
            "clean": total_429 == 0 and all(w["clean"] for w in workspaces),
            "responses_429": total_429,
            "fault_429s": self.fault_429s,
            "workspaces": workspaces,
        }
