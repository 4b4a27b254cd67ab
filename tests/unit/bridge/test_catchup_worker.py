"""The catch-up sweeps only while it holds the cluster's lease, and stops when it loses it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

from slackbridge.bridge.catchup import CatchUp, CatchUpWorker


@dataclass
class _Held:
    lost: asyncio.Event = field(default_factory=asyncio.Event)


class _Sweeps:
    """Stands in for CatchUp: counts sweeps; a sweep can be made to hang until cancelled."""

    def __init__(self, *, hang: bool = False) -> None:
        self.started = 0
        self.cancelled = 0
        self.hang = hang
        self.running = asyncio.Event()

    async def sweep(self) -> int:
        self.started += 1
        self.running.set()
        if self.hang:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return 0


async def test_no_sweep_without_the_lease() -> None:
    sweeps = _Sweeps()
    stop = asyncio.Event()
    asked = asyncio.Event()

    @contextlib.asynccontextmanager
    async def never(stop_: asyncio.Event) -> AsyncIterator[Any]:
        asked.set()
        await stop_.wait()
        yield None

    worker = CatchUpWorker(never, cast(CatchUp, sweeps), interval=0.01)
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(asked.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sweeps.started == 0


async def test_a_lost_lease_stops_the_sweep() -> None:
    sweeps = _Sweeps(hang=True)
    stop = asyncio.Event()
    held = _Held()

    @contextlib.asynccontextmanager
    async def hold(stop_: asyncio.Event) -> AsyncIterator[Any]:
        yield held

    worker = CatchUpWorker(hold, cast(CatchUp, sweeps), interval=60)
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(sweeps.running.wait(), 5)
    held.lost.set()
    deadline = asyncio.get_running_loop().time() + 5
    while sweeps.cancelled == 0:
        assert asyncio.get_running_loop().time() < deadline, "the sweep went on without the lease"
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sweeps.started == 1
