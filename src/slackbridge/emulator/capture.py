"""Holding a Web API answer until the events it caused have reached the apps.

A method fault with ``events_first`` (``faults.py``) makes the dispatcher run the method inside
:func:`capture_event_deliveries`; every event delivery queued meanwhile (``delivery.py``) adds an
:class:`asyncio.Event` that is set once its first attempt is over, and the dispatcher waits for
them before answering. This forces the race where an app hears about its own post before
``chat.postMessage`` answers, which Slack produces now and then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["capture_event_deliveries", "captured"]

_CAPTURE: ContextVar[list[asyncio.Event] | None] = ContextVar("emulator_capture", default=None)


@contextmanager
def capture_event_deliveries() -> Iterator[list[asyncio.Event]]:
    """Collect the event deliveries queued inside the block (one event each, set when its first
    attempt is over)."""
    waiters: list[asyncio.Event] = []
    token = _CAPTURE.set(waiters)
    try:
        yield waiters
    finally:
        _CAPTURE.reset(token)


def captured() -> asyncio.Event | None:
    """A new waiter registered with the capture under way, or None outside one."""
    waiters = _CAPTURE.get()
    if waiters is None:
        return None
    waiter = asyncio.Event()
    waiters.append(waiter)
    return waiter
