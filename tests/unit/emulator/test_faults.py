"""Fault rules: validation, matching by method glob or URL prefix, and counting."""

from __future__ import annotations

import pytest

from slackbridge.emulator.faults import FaultRegistry


def test_method_match_glob_and_times() -> None:
    registry = FaultRegistry()
    fault = registry.add({"method": "chat.*", "error": "fatal_error", "times": 2})
    assert registry.match_method("users.list") is None
    assert registry.match_method("chat.postMessage") is fault
    assert registry.match_method("chat.update") is fault
    assert fault.hits == 2
    assert registry.match_method("chat.postMessage") is None
    assert registry.faults == []


def test_url_prefix_and_first_match_wins() -> None:
    registry = FaultRegistry()
    first = registry.add({"url": "http://app.test/slack", "status": 500})
    registry.add({"url": "http://app.test/", "drop": True})
    assert registry.match_url("http://app.test/slack/events") is first
    assert registry.match_url("http://app.test/other").drop is True  # type: ignore[union-attr]
    assert registry.match_url("http://elsewhere.test/") is None
    assert registry.match_method("chat.postMessage") is None


def test_remove_and_clear() -> None:
    registry = FaultRegistry()
    fault = registry.add({"method": "x", "latency": 0.5})
    assert registry.remove(fault.id) is True
    assert registry.remove(fault.id) is False
    registry.add({"method": "y", "error": "e"})
    registry.clear()
    assert registry.faults == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"error": "x"}, "method"),
        ({"method": "m", "url": "u", "error": "x"}, "method"),
        ({"method": "m"}, "status"),
        ({"method": "m", "status": 42}, "status"),
        ({"method": "m", "latency": -1}, "latency"),
        ({"method": "m", "drop": "yes"}, "drop"),
        ({"method": "m", "error": "x", "times": 0}, "times"),
        ({"method": "m", "error": "x", "bogus": 1}, "bogus"),
    ],
)
def test_invalid_faults_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}"):
        FaultRegistry().add(body)
