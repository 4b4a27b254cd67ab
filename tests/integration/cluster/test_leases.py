"""Leases with fencing, the elector and the workers it runs: on SQLite (one process, in
memory) and on PostgreSQL (shared by every process)."""

from __future__ import annotations

import asyncio
import time

from slackbridge.store.db import Database
from slackbridge.store.elector import Elector, PeriodicSingleton, SingletonWorker
from slackbridge.store.leases import leases_for


async def _eventually(check: object, *, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check() if callable(check) else check
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_one_holder_and_the_fence_moves_with_the_holder(database: Database) -> None:
    leases = leases_for(database)
    a = await leases.acquire("retention", "a", 30)
    assert a is not None and a.fence == 1
    assert await leases.acquire("retention", "b", 30) is None
    assert await leases.acquire("retention", "a", 30) == a  # ours already: same fence
    assert await leases.renew(a, 30)
    assert await leases.holders("ret") == {"retention": "a"}
    await leases.release(a)
    b = await leases.acquire("retention", "b", 30)
    assert b is not None and b.fence == 2
    assert not await leases.renew(a, 30)  # a's belief is stale: its fence no longer matches
    assert await leases.holders("retention") == {"retention": "b"}


async def test_an_expired_lease_is_taken_over(database: Database) -> None:
    leases = leases_for(database)
    a = await leases.acquire("catch-up", "a", 0.2)
    assert a is not None

    async def taken() -> bool:
        return await leases.acquire("catch-up", "b", 30) is not None

    await _eventually(taken)
    assert await leases.holders("catch-up") == {"catch-up": "b"}


async def test_a_period_is_claimed_once_and_only_by_the_holder(database: Database) -> None:
    leases = leases_for(database)
    a = await leases.acquire("retention", "a", 30)
    assert a is not None
    first = await leases.claim_period(a, "retention", 3600)
    assert first.period is not None and 0 < first.next_in <= 3600
    assert (await leases.claim_period(a, "retention", 3600)).period is None
    await leases.release(a)
    b = await leases.acquire("retention", "b", 30)
    assert b is not None
    # A takeover within the same period does not run it again.
    assert (await leases.claim_period(b, "retention", 3600)).period is None
    # The replaced holder can't claim anything (its fence is stale).
    assert (await leases.claim_period(a, "other-job", 3600)).period is None
    assert (await leases.claim_period(b, "other-job", 3600)).period is not None


async def test_slots_bound_the_holders(database: Database) -> None:
    leases = leases_for(database)
    electors = [Elector(leases, f"p{i}", ttl=30) for i in range(3)]
    stop = asyncio.Event()
    async with (
        electors[0].hold("socket:A1", stop, slots=2) as first,
        electors[1].hold("socket:A1", stop, slots=2) as second,
    ):
        assert first is not None and second is not None
        assert {first.name, second.name} == {"socket:A1#0", "socket:A1#1"}
        assert await electors[2].try_acquire("socket:A1", slots=2) is None
        assert electors[0].held() == {first.name: first.fence}
        stop.set()
        async with electors[2].hold("socket:A1", stop, slots=2) as third:
            assert third is None  # stopped while waiting
    # Released on the way out: the third takes a slot at once.
    assert await electors[2].try_acquire("socket:A1", slots=2) is not None


class _Recorder:
    def __init__(self, name: str, running: list[str]) -> None:
        self.name = "job"
        self._me = name
        self._running = running

    async def run(self, stop: asyncio.Event) -> None:
        self._running.append(self._me)
        try:
            await stop.wait()
        finally:
            self._running.remove(self._me)


async def test_a_dead_holders_worker_moves_to_another_process(database: Database) -> None:
    leases = leases_for(database)
    running: list[str] = []
    stop = asyncio.Event()
    a = SingletonWorker(Elector(leases, "a", ttl=0.6), _Recorder("a", running), lease="job")
    b = SingletonWorker(Elector(leases, "b", ttl=0.6), _Recorder("b", running), lease="job")
    task_a = asyncio.create_task(a.run(stop))
    await _eventually(lambda: running == ["a"])
    task_b = asyncio.create_task(b.run(stop))
    # a dies without a word: its task is cancelled, the lease is not released.
    a.elector.leases = _Frozen()  # type: ignore[assignment]
    task_a.cancel()
    await asyncio.gather(task_a, return_exceptions=True)
    await _eventually(lambda: running == ["b"])
    stop.set()
    await task_b
    assert running == []


class _Frozen:
    """Leases of a process that is gone: nothing it says reaches the database."""

    async def release(self, lease: object) -> None:
        return None

    async def renew(self, lease: object, ttl: float) -> bool:
        raise ConnectionError("gone")


async def test_a_periodic_job_runs_once_per_period_across_processes(database: Database) -> None:
    leases = leases_for(database)
    periods: list[int] = []
    stop = asyncio.Event()

    def job_for(elector: Elector) -> PeriodicSingleton:
        async def job() -> None:
            periods.append(int(time.time() // 0.5))

        return PeriodicSingleton(elector, "retention", 0.5, job)

    workers = [job_for(Elector(leases, name, ttl=5)) for name in ("a", "b", "c")]
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    await _eventually(lambda: len(periods) >= 4)
    stop.set()
    await asyncio.gather(*tasks)
    assert len(periods) == len(set(periods))
    assert sum(1 for w in workers if w.runs) == 1  # one holder did all of it
