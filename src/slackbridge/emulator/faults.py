"""Fault injection: rules that make Web API methods or deliveries to app URLs misbehave.

A :class:`Fault` targets a Web API method (``method``, exact or a glob like ``chat.*``) or an
outbound URL (``url``, matched as a prefix). When it matches it can add ``latency`` seconds,
answer with an HTTP ``status`` (with ``retry_after`` for 429), answer a Slack ``error`` code
(HTTP 200, ``{"ok": false, "error": …}``) or ``drop`` the exchange; a method fault with
``events_first`` holds the method's answer until the events the call caused have reached the
apps (their first delivery attempt is over), so a test can force the race where an app hears
about its own post before ``chat.postMessage`` answers. ``times`` limits how many
matches it applies to (``None``: until removed). Matching here is pure bookkeeping; the Web API
dispatcher and the delivery engine apply the effect.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Fault", "FaultRegistry", "parse_fault"]


@dataclass
class Fault:
    id: str
    method: str | None = None
    url: str | None = None
    status: int | None = None
    latency: float = 0.0
    drop: bool = False
    times: int | None = None  # remaining applications; None: unlimited
    error: str | None = None
    retry_after: int | None = None
    events_first: bool = False
    hits: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _opt_str(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string")
    return value


def _opt_int(body: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}: expected an integer from {low} to {high}")
    return value


def parse_fault(body: Mapping[str, Any], fault_id: str) -> Fault:
    """Validate a control-API fault body; ``ValueError`` names the bad field."""
    known = {
        "method",
        "url",
        "status",
        "latency",
        "drop",
        "times",
        "error",
        "retry_after",
        "events_first",
    }
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown field (allowed: {', '.join(sorted(known))})")
    method = _opt_str(body, "method")
    url = _opt_str(body, "url")
    if (method is None) == (url is None):
        raise ValueError("method: give exactly one of method or url")
    latency = body.get("latency", 0.0)
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not 0 <= latency <= 300:
        raise ValueError("latency: expected seconds from 0 to 300")
    drop = body.get("drop", False)
    if not isinstance(drop, bool):
        raise ValueError("drop: expected true or false")
    events_first = body.get("events_first", False)
    if not isinstance(events_first, bool):
        raise ValueError("events_first: expected true or false")
    if events_first and method is None:
        raise ValueError("events_first: only for a method fault")
    fault = Fault(
        id=fault_id,
        method=method,
        url=url,
        status=_opt_int(body, "status", 100, 599),
        latency=float(latency),
        drop=drop,
        times=_opt_int(body, "times", 1, 1_000_000),
        error=_opt_str(body, "error"),
        retry_after=_opt_int(body, "retry_after", 0, 86_400),
        events_first=events_first,
    )
    if not (fault.status or fault.error or fault.drop or fault.latency or fault.events_first):
        raise ValueError(
            "status: give at least one of status, error, drop, latency or events_first"
        )
    return fault


@dataclass
class FaultRegistry:
    """The active faults, in the order they were added (the first match wins)."""

    faults: list[Fault] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, body: Mapping[str, Any]) -> Fault:
        fault = parse_fault(body, f"fault-{next(self._ids)}")
        self.faults.append(fault)
        return fault

    def remove(self, fault_id: str) -> bool:
        before = len(self.faults)
        self.faults = [f for f in self.faults if f.id != fault_id]
        return len(self.faults) != before

    def clear(self) -> None:
        self.faults.clear()

    def _take(self, fault: Fault) -> Fault:
        fault.hits += 1
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        return fault

    def match_method(self, name: str) -> Fault | None:
        """The first fault for Web API method ``name``, counted as applied once."""
        if not self.faults:  # the hot path: no faults configured
            return None
        for fault in self.faults:
            if fault.method is not None and (
                fault.method == name or fnmatch.fnmatchcase(name, fault.method)
            ):
                return self._take(fault)
        return None

    def match_url(self, url: str) -> Fault | None:
        """The first fault whose ``url`` is a prefix of ``url``, counted as applied once."""
        if not self.faults:
            return None
        for fault in self.faults:
            if fault.url is not None and url.startswith(fault.url):
                return self._take(fault)
        return None
