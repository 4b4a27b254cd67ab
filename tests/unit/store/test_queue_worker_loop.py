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


class _Observed(_Handler):
    """Notes, at each claim, whether the worker said it was woken."""

    def __init__(self) -> None:
        super().__init__([], more=False)
        self.worker: QueueWorker[str] | None = None
        self.woken: list[bool] = []

    async def claim(self, limit: int) -> Sequence[str]:
        assert self.worker is not None
        self.woken.append(self.worker.woken)
        return await super().claim(limit)


async def _observed(poll_seconds: float, claims: int, signal: bool) -> list[bool]:
    handler, wakeups = _Observed(), LocalWakeups()
    worker = QueueWorker(handler, WorkerPolicy("q", poll_seconds=poll_seconds), wakeups)
    handler.worker = worker
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(10):
            while handler.claims < claims:
                await _until(handler.claimed)
                if signal and handler.claims < claims:
                    handler.rows.append("row")
                    wakeups.signal("q")
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task
    return handler.woken


async def test_a_claim_after_a_wake_up_or_taken_rows_is_told_it_was_woken() -> None:
    # An hour's poll: only the start, the wake-ups and the rows they add start claims.
    woken = await _observed(3600, claims=5, signal=True)
    # The start; then after each wake-up a claim (woken) taking the row, and the claim it
    # starts at once (rows were taken, so still woken).
    assert woken[0] is False
    assert all(woken[1:]) and len(woken) >= 5


async def test_a_claim_after_the_poll_interval_is_not_told_it_was_woken() -> None:
    woken = await _observed(0.01, claims=3, signal=False)
    assert woken[:3] == [False, False, False]
