"""One holder per singleton across the gateways sharing a database, and workers that run only
while they hold it.

``async with elector.hold("retention", stop) as held:`` waits until this process holds the lease
(or ``stop`` is set: then ``held`` is None), renews it every third of its time to live while the
block runs, and gives it up on the way out. ``held.lost`` is set if the lease could not be kept
(the database was unreachable until the lease ran out, or another process took it over): the
block must stop acting then. ``slots=n`` holds any one of ``name#0`` … ``name#{n-1}``: at most
``n`` holders across the cluster (Socket Mode connections of one app).

:class:`SingletonWorker` runs a gateway worker only while holding its lease, and
:class:`PeriodicSingleton` runs a job exactly once per period across the cluster.

A dead holder's lease runs out within ``ttl`` (10 s by default) and a waiting process takes it
within ``retry`` more; a holder that stops cleanly releases at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from slackbridge.store.leases import Lease, Leases

#: Jitter from a generator of this module's own: the global one belongs to whoever else
#: draws from it (a property test's data generation, for one).
_JITTER = random.Random()

__all__ = [
    "DEFAULT_TTL",
    "Elector",
    "Held",
    "PeriodicSingleton",
    "SingletonWorker",
    "run_elected",
]

_log = logging.getLogger("slackbridge.cluster")

DEFAULT_TTL = 10.0


class _Worker(Protocol):
    name: str

    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass
class Held:
    """A lease this process holds (``lost`` is set once it may no longer act on it)."""

    lease: Lease
    lost: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def name(self) -> str:
        return self.lease.name

    @property
    def fence(self) -> int:
        return self.lease.fence


class Elector:
    """Takes, keeps and gives up leases for one process (``holder``)."""

    def __init__(
        self,
        leases: Leases,
        holder: str,
        *,
        ttl: float = DEFAULT_TTL,
        retry: float | None = None,
    ) -> None:
        self.leases = leases
        self.holder = holder
        self.ttl = ttl
        self.retry = retry if retry is not None else max(0.2, ttl / 10)
        self._held: dict[str, Held] = {}

    def held(self) -> dict[str, int]:
        """The leases this process holds now: name → fence (shown in ``/readyz``)."""
        return {name: h.fence for name, h in sorted(self._held.items()) if not h.lost.is_set()}

    async def try_acquire(self, name: str, *, slots: int = 1) -> Lease | None:
        """One attempt at ``name`` (or any free slot of it); None when all are taken."""
        names = [name] if slots <= 1 else [f"{name}#{i}" for i in range(slots)]
        for candidate in names:
            if candidate in self._held:
                continue
            try:
                lease = await self.leases.acquire(candidate, self.holder, self.ttl)
            except Exception as exc:  # the database is away: try again later
                _log.warning("taking lease %s failed: %r", candidate, exc)
                return None
            if lease is not None:
                return lease
        return None

    @contextlib.asynccontextmanager
    async def hold(
        self, name: str, stop: asyncio.Event, *, slots: int = 1
    ) -> AsyncIterator[Held | None]:
        """Hold ``name`` (or one of its ``slots``) for the block; see the module docstring."""
        lease = await self.try_acquire(name, slots=slots)
        while lease is None:
            if await _wait_any((stop,), self.retry * _JITTER.uniform(0.8, 1.2)):
                yield None
                return
            lease = await self.try_acquire(name, slots=slots)
        held = Held(lease)
        self._held[lease.name] = held
        _log.info("holding %s (fence %d)", lease.name, lease.fence)
        keeper = asyncio.create_task(self._keep(held), name=f"lease:{lease.name}")
        try:
            yield held
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self._held.pop(lease.name, None)
            if not held.lost.is_set():
                try:
                    await asyncio.shield(self.leases.release(lease))
                except Exception as exc:  # it runs out by itself
                    _log.warning("releasing lease %s failed: %r", lease.name, exc)
            _log.info("released %s", lease.name)

    async def _keep(self, held: Held) -> None:
        """Renew every third of the TTL; lost when renewal says so, or when the lease would
        have run out before a renewal got through."""
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                kept = await asyncio.wait_for(
                    self.leases.renew(held.lease, self.ttl), timeout=self.ttl / 3
                )
            except Exception as exc:
                # Leave a margin for clocks and the transaction in flight: lost a bit early.
                if time.monotonic() - renewed > self.ttl * 0.8:
                    _log.warning("lease %s lost: renewal failed (%r)", held.name, exc)
                    held.lost.set()
                    return
                continue
            if not kept:
                _log.warning("lease %s lost: another process holds it now", held.name)
                held.lost.set()
                return
            renewed = time.monotonic()


async def _wait_any(events: tuple[asyncio.Event, ...], seconds: float) -> bool:
    """Whether one of ``events`` was set within ``seconds``."""
    if any(e.is_set() for e in events):
        return True
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=seconds, return_when="FIRST_COMPLETED")
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    return bool(done)


async def _run_until_lost(
    run: Callable[[asyncio.Event, Held], Awaitable[None]], stop: asyncio.Event, held: Held
) -> None:
    """Run ``run(inner_stop, held)``, setting ``inner_stop`` when ``stop`` or ``held.lost`` is."""
    inner_stop = asyncio.Event()

    async def watch() -> None:
        await _wait_any((stop, held.lost), float("inf"))
        inner_stop.set()

    watcher = asyncio.create_task(watch())
    try:
        await run(inner_stop, held)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


class SingletonWorker:
    """Runs ``inner`` only while this process holds the lease ``lease`` (or one of its
    ``slots``); when the lease is lost, ``inner`` is stopped and the lease is sought again."""

    def __init__(
        self, elector: Elector, inner: _Worker, *, lease: str | None = None, slots: int = 1
    ) -> None:
        self.elector = elector
        self.inner = inner
        self.lease = lease or inner.name
        self.slots = slots
        self.name = inner.name

    async def run(self, stop: asyncio.Event) -> None:
        await run_elected(
            self.elector,
            self.lease,
            lambda inner_stop, _held: self.inner.run(inner_stop),
            stop,
            slots=self.slots,
        )


async def run_elected(
    elector: Elector,
    lease: str,
    run: Callable[[asyncio.Event, Held], Awaitable[None]],
    stop: asyncio.Event,
    *,
    slots: int = 1,
) -> None:
    """Run ``run(inner_stop, held)`` whenever this process holds ``lease``, until ``stop``."""
    while not stop.is_set():
        async with elector.hold(lease, stop, slots=slots) as held:
            if held is None:
                return
            await _run_until_lost(run, stop, held)


class PeriodicSingleton:
    """Runs ``job`` once per period of ``every`` seconds across the cluster (a gateway worker).

    The holder of the lease ``name`` claims each period in the database (fenced) before running
    the job, so a takeover never runs a period twice; a period whose holder died mid-job is not
    repeated (the job runs again the next period: jobs here are idempotent clean-ups).
    """

    def __init__(
        self,
        elector: Elector,
        name: str,
        every: float,
        job: Callable[[], Awaitable[object]],
    ) -> None:
        self.elector = elector
        self.name = name
        self.every = every
        self.job = job
        self.runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        await run_elected(self.elector, self.name, self._while_held, stop)

    async def _while_held(self, stop: asyncio.Event, held: Held) -> None:
        while not stop.is_set():
            claim = await self.elector.leases.claim_period(held.lease, self.name, self.every)
            if claim.period is not None:
                self.runs += 1
                _log.info("%s: running for period %d", self.name, claim.period)
                await self.job()
            # Wake a little after the boundary so the database's clock is surely past it.
            await _wait_any((stop,), claim.next_in + 0.05)
