from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from slackbridge.slack.ratelimits import Bucket, RateLimiter, RatePolicy, tier_of


def test_tiers() -> None:
    assert tier_of("chat.postMessage") == "post"
    assert tier_of("views.open") == 4
    assert tier_of("unknown.method") == 3


def test_bucket_burst_then_steady_rate() -> None:
    bucket = Bucket(capacity=3, rate=1.0, updated_at=0.0)
    for _ in range(3):
        assert bucket.wait_time(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait_time(0.0) == 1.0
    assert bucket.wait_time(0.5) == 0.5
    assert bucket.wait_time(1.0) == 0.0


def test_channels_are_independent_and_waiting_consumes_nothing() -> None:
    limiter = RateLimiter(RatePolicy(post_burst_per_channel=1, headroom=1.0))
    assert limiter.reserve("T1", "chat.postMessage", "C1", 0.0) == 0.0
    wait = limiter.reserve("T1", "chat.postMessage", "C1", 0.0)
    assert wait > 0.9
    # Asking again while waiting must not push the lane further back.
    assert limiter.reserve("T1", "chat.postMessage", "C1", 0.0) == wait
    assert limiter.reserve("T1", "chat.postMessage", "C2", 0.0) == 0.0
    assert limiter.reserve("T2", "chat.postMessage", "C1", 0.0) == 0.0


def test_retry_after_blocks_only_that_lane() -> None:
    limiter = RateLimiter()
    limiter.penalize("T1", "chat.postMessage", "C1", 30, now=100.0)
    assert limiter.reserve("T1", "chat.postMessage", "C1", 100.0) == 30.0
    assert limiter.reserve("T1", "chat.postMessage", "C2", 100.0) == 0.0
    assert limiter.reserve("T1", "chat.update", "C1", 100.0) == 0.0
    assert limiter.reserve("T1", "chat.postMessage", "C1", 130.0) == 0.0
    limiter.penalize("T1", "views.open", None, 5, now=0.0)
    assert limiter.reserve("T1", "views.open", None, 1.0) == 4.0
    assert limiter.reserve("T2", "views.open", None, 1.0) == 0.0


def test_workspace_ceiling_limits_many_channels() -> None:
    limiter = RateLimiter(RatePolicy(post_per_minute_per_workspace=60, headroom=1.0))
    granted = sum(limiter.reserve("T1", "chat.postMessage", f"C{i}", 0.0) == 0.0 for i in range(50))
    assert granted == 6  # a tenth of the minute's allowance at once, then the steady rate


@given(st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=300))
def test_never_exceeds_the_channel_rate(times: list[float]) -> None:
    policy = RatePolicy(post_burst_per_channel=3, headroom=1.0)
    limiter = RateLimiter(policy)
    granted = [t for t in sorted(times) if limiter.reserve("T", "chat.postMessage", "C", t) == 0]
    # In any window of w seconds at most burst + w * rate calls pass.
    for i, start in enumerate(granted):
        in_window = [t for t in granted[i:] if t < start + 10]
        assert len(in_window) <= 3 + 10 * policy.post_per_second_per_channel + 1e-9
