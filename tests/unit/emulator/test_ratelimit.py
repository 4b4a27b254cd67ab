"""Token-bucket arithmetic behind the emulator's rate limits."""

from __future__ import annotations

import pytest

from slackbridge.emulator.ratelimit import Limit, RateLimiter, parse_limit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tier_bucket_burst_then_retry_after_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    limiter.configure({"tier2": {"per_minute": 20, "burst": 2}})
    assert limiter.check_method("users.list", 2, "A1", "T1") == 0
    assert limiter.check_method("users.list", 2, "A1", "T1") == 0
    assert limiter.check_method("users.list", 2, "A1", "T1") == 3  # one call per 3 s
    clock.now += 1.5
    assert limiter.check_method("users.list", 2, "A1", "T1") == 2  # ceil of the 1.5 s left
    clock.now += 1.5
    assert limiter.check_method("users.list", 2, "A1", "T1") == 0
    # Another app, workspace or method has its own bucket.
    assert limiter.check_method("users.list", 2, "A2", "T1") == 0
    assert limiter.check_method("users.list", 2, "A1", "T2") == 0
    assert limiter.check_method("team.info", 2, "A1", "T1") == 0


def test_post_needs_room_in_channel_and_workspace() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, channel_post=Limit(60, 2), workspace_post=Limit(60, 3))
    assert [limiter.check_post("A", "T", "C1") for _ in range(3)] == [0, 0, 1]
    assert limiter.check_post("A", "T", "C2") == 0
    # The workspace bucket is empty now even though C3 was never used.
    assert limiter.check_post("A", "T", "C3") == 1
    clock.now += 1.0
    assert limiter.check_post("A", "T", "C3") == 0


def test_refused_post_consumes_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, channel_post=Limit(60, 1), workspace_post=Limit(60, 5))
    assert limiter.check_post("A", "T", "C1") == 0
    for _ in range(5):
        assert limiter.check_post("A", "T", "C1") == 1
    assert limiter.check_post("A", "T", "C2") == 0  # the workspace bucket lost only one token


def test_snapshot_counts_and_method_override() -> None:
    limiter = RateLimiter(clock=FakeClock())
    limiter.configure({"users.info": {"per_minute": 1, "burst": 1}})
    limiter.check_method("users.info", 4, "A", "T")
    limiter.check_method("users.info", 4, "A", "T")
    snap = limiter.snapshot()
    assert snap["limits"]["users.info"] == {"per_minute": 1.0, "burst": 1}
    counter = snap["counters"][0]
    assert counter["method"] == "users.info" and counter["allowed"] == 1 and counter["limited"] == 1
    limiter.reset()
    assert limiter.snapshot()["counters"] == []


def test_zero_rate_means_wait_an_hour() -> None:
    limiter = RateLimiter(clock=FakeClock())
    limiter.configure({"tier3": {"per_minute": 0, "burst": 1}})
    assert limiter.check_method("m", 3, "A", "T") == 0
    assert limiter.check_method("m", 3, "A", "T") == 3600


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "x: expected an object"),
        ({"per_minute": -1}, "x.per_minute"),
        ({"per_minute": True}, "x.per_minute"),
        ({"per_minute": 5, "burst": 0}, "x.burst"),
    ],
)
def test_parse_limit_errors(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_limit(value, name="x")


def test_configure_is_all_or_nothing() -> None:
    limiter = RateLimiter()
    with pytest.raises(ValueError):
        limiter.configure({"tier1": {"per_minute": 5}, "tier2": {"per_minute": "x"}})
    assert limiter.tiers[1].per_minute == 1
