"""Ids and message timestamps in Slack's formats."""

from __future__ import annotations

import re

from slackbridge.emulator.ids import IdFactory, TsClock


def test_ids_are_slack_shaped_and_deterministic() -> None:
    first, second = IdFactory(), IdFactory()
    ids = [first.next(p) for p in ("T", "U", "C", "G", "D", "B", "A", "F", "V")]
    assert ids == [second.next(p) for p in ("T", "U", "C", "G", "D", "B", "A", "F", "V")]
    for value in ids:
        assert re.fullmatch(r"[TUCGDBAFV][0-9A-Z]{10}", value)
    assert first.next("U") != first.next("U")
    assert IdFactory(salt=1).next("U") != IdFactory(salt=2).next("U")


def test_tokens_are_random_with_prefix() -> None:
    ids = IdFactory()
    token = ids.token("xoxb")
    assert token.startswith("xoxb-") and token != ids.token("xoxb")


def test_ts_format_and_monotonic_within_a_second() -> None:
    clock = TsClock()
    values = [clock.next(1_700_000_000.5) for _ in range(3)]
    assert values == ["1700000000.000001", "1700000000.000002", "1700000000.000003"]
    assert all(re.fullmatch(r"\d{10}\.\d{6}", v) for v in values)
    # A clock going backwards still yields increasing ts.
    assert clock.next(1_699_999_999.0) == "1700000000.000004"
    assert clock.next(1_700_000_001.0) == "1700000001.000001"
