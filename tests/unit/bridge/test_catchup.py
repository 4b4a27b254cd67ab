"""Catch-up's pure parts: the per-workspace request budget and what counts as missed."""

from __future__ import annotations

from typing import Any

from slackbridge.bridge.catchup import Budget, missed
from slackbridge.bridge.routing import Place

T, C = "T0ACME0001", "C0ACME0SUP"
ROOT = "1795260600.000001"
STILL = Place(1, "k", T, "still", C, ROOT)
NOISY = Place(2, "n", T, "noisy", C, None)


def test_the_budget_allows_one_request_a_minute_per_workspace_by_default() -> None:
    budget = Budget(per_minute=1)
    assert budget.wait(T, now=1000.0) == 0.0
    assert budget.wait(T, now=1000.0) == 60.0
    assert budget.wait("T0OTHER001", now=1000.0) == 0.0  # workspaces don't share
    assert budget.wait(T, now=1030.0) == 30.0
    assert budget.wait(T, now=1060.0) == 0.0


def test_a_retry_after_holds_the_budget() -> None:
    budget = Budget(per_minute=60)
    budget.hold(T, 30.0, now=0.0)
    assert budget.wait(T, now=0.0) == 31.0
    assert budget.wait(T, now=31.0) == 0.0


def _m(ts: str, thread_ts: str | None = ROOT, **fields: Any) -> dict[str, Any]:
    message = {"type": "message", "ts": ts, "user": "U1", "text": ts}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {**message, **fields}


def _own(message: Any) -> bool:
    return bool(message.get("metadata"))


def test_missed_keeps_unseen_written_replies_oldest_first() -> None:
    page = [
        _m(ROOT),  # the card: replies always start with the parent
        _m("1795260603.000001"),
        _m("1795260602.000001"),
        _m("1795260601.000001"),  # seen already
        _m("1795260604.000001", metadata={"event_type": "slackbridge_message"}),  # ours
        _m("1795260605.000001", subtype="channel_join"),
        _m("1795260606.000001", thread_ts="1795260606.000001"),  # another thread
        _m("1795260699.000001"),  # too young: the live path may still bring it
    ]
    found = missed(
        page, STILL, seen={"1795260601.000001"}, after=ROOT, before=1795260690.0, own=_own
    )
    assert [m["ts"] for m in found] == ["1795260602.000001", "1795260603.000001"]


def test_missed_in_a_noisy_channel_takes_everything_after_the_mark() -> None:
    page = [_m("1795260601.000001", None), _m("1795260602.000001"), _m("1795260600.000000", None)]
    found = missed(page, NOISY, seen=set(), after="1795260600.500000", before=2e9, own=_own)
    assert [m["ts"] for m in found] == ["1795260601.000001", "1795260602.000001"]
