"""Wake-ups: a queue's worker hears that rows were added instead of waiting for its next poll.

The code that inserts rows into a queue calls :meth:`Wakeups.signal` with the queue's name after
its transaction committed; the queue's worker, when it found nothing to do, calls
:meth:`Wakeups.wait`, which returns as soon as the queue is signalled, or after ``timeout``
seconds (the poll: rows that became due by time, or were inserted by another process that
signals elsewhere, are found then).

A wake-up is a hint, never the only way a row is found: a lost signal delays a row by one poll
at most, and a spurious one costs one empty claim. So an implementation may merge signals, and
:meth:`Wakeups.wait` returns at once when the queue was signalled since the previous ``wait``
of that queue returned (a signal sent while the worker was busy claiming is not missed).

:class:`LocalWakeups` serves one process (asyncio events); a PostgreSQL implementation of the
same Protocol (LISTEN/NOTIFY) carries signals between gateways sharing a database.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

__all__ = ["LocalWakeups", "Wakeups"]


class Wakeups(Protocol):
    """Signals that a queue has new rows, and waits for them (see the module docstring)."""

    def signal(self, queue: str) -> None:
        """Rows were added to ``queue`` (committed): wake its worker."""

    async def wait(self, queue: str, timeout: float) -> None:  # noqa: ASYNC109 (the port)
        """Return when ``queue`` is signalled (or was since the last wait returned), or after
        ``timeout`` seconds. Cancelling a wait loses no signal."""


class LocalWakeups:
    """In-process wake-ups: one asyncio event per queue, cleared when a wait returns."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def _event(self, queue: str) -> asyncio.Event:
        event = self._events.get(queue)
        if event is None:
            event = self._events[queue] = asyncio.Event()
        return event

    def signal(self, queue: str) -> None:
        self._event(queue).set()

    async def wait(self, queue: str, timeout: float) -> None:  # noqa: ASYNC109 (the port)
        event = self._event(queue)
        if not event.is_set() and timeout > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await event.wait()
        # Cleared only on return (not when cancelled), and then the caller looks at the queue:
        # every signal sent before this point is covered by that look.
        event.clear()

    def signal_all(self) -> None:
        """Wake every queue's worker (e.g. when the process stops)."""
        for event in self._events.values():
            event.set()
