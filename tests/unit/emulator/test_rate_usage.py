"""Rate-bucket usage: calls, sliding-window peaks, shadow-limit overruns and 429s."""

from __future__ import annotations

from slackbridge.emulator.rate_usage import RateUsage
from slackbridge.emulator.ratelimit import Limit, RateLimiter


def test_peaks_are_the_most_calls_in_any_sliding_window() -> None:
    usage = RateUsage()
    key = ("tier3", "users.info", "A1", "T1")
    for at in (0.0, 0.2, 0.4, 30.0, 59.9, 60.1, 61.0, 130.0):
        usage.seen(key, at, per_minute=50, burst=50)
    report = usage.report({key: (50.0, 50)}, None)
    bucket = report["workspaces"][0]["buckets"][0]
    assert bucket["calls"] == 8
    # 0.2 .. 59.9 (and 0.4 .. 60.1) hold five calls; no second holds more than three.
    assert bucket["peak_per_minute"] == 5
    assert bucket["peak_per_second"] == 3
    assert bucket["exceeded"] is False and report["clean"] is True


def test_a_shadow_bucket_finds_overruns_without_enforcing() -> None:
    now = [1_000.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limiter.configure({"post_channel": {"per_minute": 60, "burst": 2}})
    for _ in range(3):
        assert limiter.check_post("A1", "T1", "C1", enforce=False) == 0
    report = limiter.usage_report()
    assert report["clean"] is False and report["responses_429"] == 0
    team = report["workspaces"][0]
    channel_bucket = next(b for b in team["buckets"] if b["scope"] == "post_channel")
    assert channel_bucket["over_limit"] == 1 and channel_bucket["exceeded"] is True
    assert channel_bucket["peak_per_second"] == 3 and channel_bucket["channel_id"] == "C1"
    assert team["buckets_exceeded"] == 1
    # A second later the bucket has refilled: a call then is within the limit.
    now[0] += 1.0
    limiter.check_post("A1", "T1", "C1", enforce=False)
    assert (
        limiter.usage.buckets[("post_channel", "chat.postMessage", "A1", "T1", "C1")].over_limit
        == 1
    )


def test_enforced_limits_count_429s_per_workspace() -> None:
    limiter = RateLimiter(clock=lambda: 5.0, tiers={1: Limit(1, 1), 2: Limit(20, 20)})
    assert limiter.check_method("apps.uninstall", 1, "A1", "T1") == 0
    assert limiter.check_method("apps.uninstall", 1, "A1", "T1") > 0
    assert limiter.check_method("users.list", 2, "A1", "T2") == 0
    report = limiter.usage_report()
    by_team = {w["team_id"]: w for w in report["workspaces"]}
    assert by_team["T1"]["responses_429"] == 1 and by_team["T1"]["clean"] is False
    assert by_team["T2"]["clean"] is True
    assert limiter.usage_report("T2")["clean"] is True
    limiter.reset()
    assert limiter.usage_report() == {
        "clean": True,
        "responses_429": 0,
        "fault_429s": 0,
        "workspaces": [],
    }
