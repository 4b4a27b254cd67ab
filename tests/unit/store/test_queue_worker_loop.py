"""The queue worker's loop with a handler in memory: when a finished unit starts a claim."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from slackbridge.store.queue_worker import QueueWorker, WorkerPolicy
from slackbridge.store.wakeups import LocalWakeups


class _Handler:
    def __init__(self, rows: list[str], *, more: bool, left: Sequence[str] = ()) -> None:
        self.rows = rows
        self.more = more
        self.left = list(left)  # rows a unit leaves due (e.g. the rest of a lane)
        self.claims = 0
        self.handled: list[str] = []
        self.claimed = asyncio.Event()
        self.finished = asyncio.Event()

    async def claim(self, limit: int) -> Sequence[str]:
        self.claims += 1
        taken, self.rows = self.rows[:limit], self.rows[limit:]
        self.claimed.set()
        return taken

    async def handle(self, items: Sequence[str]) -> bool:
        self.handled.extend(items)
        self.rows.extend(self.left)
        self.left = []
        self.finished.set()
        return self.more

    async def extend(self, items: Sequence[str]) -> None:
        """Not used here."""

    async def give_back(self, items: Sequence[str]) -> None:
        """Not used here."""


@asynccontextmanager
async def _running(handler: _Handler, wakeups: LocalWakeups, units: int) -> AsyncIterator[None]:
    # An hour's poll: every claim after the first is started by a unit or a wake-up.
    policy = WorkerPolicy("q", poll_seconds=3600, units=units)
    stop = asyncio.Event()
    task = asyncio.create_task(QueueWorker(handler, policy, wakeups).run(stop))
    try:
        yield
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task


async def _settle() -> None:
    """Let every ready callback and task step run (no I/O here: a fixed number suffices)."""
    for _ in range(50):
        await asyncio.sleep(0)


async def _until(event: asyncio.Event) -> None:
    async with asyncio.timeout(10):
        await event.wait()
    event.clear()


async def test_a_unit_that_ran_dry_starts_no_claim_but_a_wake_up_does() -> None:
    handler, wakeups = _Handler(["a"], more=False), LocalWakeups()
    async with _running(handler, wakeups, units=2):
        await _until(handler.finished)
        await _settle()
        assert handler.claims == 2  # "a", then one that found nothing; none after "a" ended
        handler.claimed.clear()
        handler.rows.append("b")
        wakeups.signal("q")
        await _until(handler.finished)
    assert handler.handled == ["a", "b"]


async def test_a_unit_that_handed_rows_back_starts_a_claim() -> None:
    handler = _Handler(["a"], more=True, left=["b"])  # e.g. a lane whose turn ended
    async with _running(handler, LocalWakeups(), units=2):
        await _until(handler.finished)
        await _until(handler.finished)
    assert handler.handled == ["a", "b"]


async def test_without_rows_handed_back_the_same_unit_waits() -> None:
    handler = _Handler(["a"], more=False, left=["b"])
    async with _running(handler, LocalWakeups(), units=2):
        await _until(handler.finished)
        await _settle()
    assert handler.handled == ["a"]  # "b" waits for a wake-up or the poll


async def test_when_every_unit_was_busy_a_finished_one_starts_a_claim() -> None:
    handler = _Handler(["a", "b", "c"], more=False)
    async with _running(handler, LocalWakeups(), units=1):
        for _ in range(3):
            await _until(handler.finished)
    assert handler.handled == ["a", "b", "c"]
