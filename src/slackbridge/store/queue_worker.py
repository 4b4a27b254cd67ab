"""One worker loop for every queue: claim, hand to the queue's handler, wait for a wake-up.

Each queue (inbox, webhook deliveries, outbox) supplies a :class:`QueueHandler`: how it claims
rows (its lane and claim policy: a batch, the heads of lanes, rows handed over in memory) and
how it handles what it claimed (and settles it through :class:`~slackbridge.store.queue.Queue`).
The :class:`QueueWorker` does the rest, the same way for all:

- it keeps at most ``units`` units of work in flight, each a task handling ``per_unit`` claimed
  rows (one row, or a batch), and claims only for the free units;
- when a claim took rows and units are still free it claims again at once (more may be due);
  otherwise it waits for the first of: the queue's wake-up (:mod:`slackbridge.store.wakeups`,
  signalled by the code that inserts rows), stop, ``poll_seconds`` (rows that became due by
  time, or whose lease expired after a crash), or a unit finishing *when that may let it claim
  something*: every unit was busy at the last claim (rows may have waited for room), or the
  handler says it left rows due (:meth:`QueueHandler.handle` returns True). A unit that simply
  ran out of work does not start a claim: under load, claims that find nothing would cost more
  CPU than the work (measured: a claim per finished lane runner was a third of the delivery
  worker's CPU);
- it tells the handler (:attr:`QueueWorker.woken`) whether the coming claim follows a sign
  that rows are due (a wake-up, a unit asking for a claim, a claim that took rows) or only the
  poll (or the start): a handler may skip a cheap look for due rows before the former (on
  SQLite, the look is a read session whose hops to the driver's thread wait for the event
  loop, measured 5 to 15 ms under the bridge bench, on every message's path);
- with ``heartbeat_seconds``, it renews the leases of the rows in flight that often
  (:meth:`QueueHandler.extend`), for handlers whose work may outlast a lease;
- on stop, units in flight get ``grace_seconds`` to finish, then are cancelled (a handler
  hands its row back when cancelled), and :meth:`QueueHandler.give_back` releases what is left;
- a failing claim is reported (``on_health``) and retried at the next poll: the worker never
  crashes on a database hiccup, and rows are never lost (their leases expire).

The handlers' retry timing is :mod:`slackbridge.store.queue_policy` (pure).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from slackbridge.store.wakeups import Wakeups

__all__ = ["QueueHandler", "QueueWorker", "WorkerPolicy"]

_log = logging.getLogger("slackbridge.queue")

T = TypeVar("T")


class QueueHandler(Protocol[T]):
    """What one queue gives the :class:`QueueWorker`."""

    async def claim(self, limit: int) -> Sequence[T]:
        """Lease up to ``limit`` rows that are due (in the queue's order and lane policy)."""

    async def handle(self, items: Sequence[T]) -> bool:
        """Work on claimed rows and settle them; return whether rows may be due now that only
        a claim finds (e.g. the rest of a lane handed back). An exception leaves the rows to
        their leases."""

    async def extend(self, items: Sequence[T]) -> None:
        """Renew the leases of ``items`` (only called with ``heartbeat_seconds``)."""

    async def give_back(self, items: Sequence[T]) -> None:
        """Release rows claimed but not handled (stopping)."""


@dataclass(frozen=True)
class WorkerPolicy:
    """How a :class:`QueueWorker` runs one queue (see the module docstring)."""

    queue: str  # the wake-up's name
    poll_seconds: float = 1.0
    units: int = 1
    per_unit: int = 1
    heartbeat_seconds: float | None = None
    grace_seconds: float = 3.0
    #: After a wake-up, wait this long before claiming, so that the wake-ups of a stream of
    #: inserts share one claim (at most one claim per linger per stream).
    linger_seconds: float = 0.0


class QueueWorker(Generic[T]):
    """Runs one queue's handler until stopped (see the module docstring).

    ``units`` (a callable) overrides the policy's fixed number of units in flight, read before
    every claim: the delivery worker lowers it while the event loop is late."""

    def __init__(
        self,
        handler: QueueHandler[T],
        policy: WorkerPolicy,
        wakeups: Wakeups,
        *,
        units: Callable[[], int] | None = None,
        on_health: Callable[[bool, str], None] | None = None,
    ) -> None:
        self._handler = handler
        self._policy = policy
        self._wakeups = wakeups
        self._units = units or (lambda: policy.units)
        self._on_health = on_health
        self._inflight: dict[asyncio.Task[bool], Sequence[T]] = {}
        self._stopping = False
        self._healthy: bool | None = None
        self._saturated = False  # every unit was busy after the last claim
        self._room: asyncio.Event | None = None  # a finished unit asks for a claim
        self._woken = False

    @property
    def in_flight(self) -> int:
        """Units being handled now."""
        return len(self._inflight)

    @property
    def woken(self) -> bool:
        """Whether the claim being made follows a sign that rows are due (the queue's
        wake-up, a unit asking for a claim, the previous claim taking rows) rather than the
        poll interval running out or the worker starting."""
        return self._woken

    @property
    def stopping(self) -> bool:
        """Set once stop was asked: handlers finish what they hold and take no more."""
        return self._stopping

    async def run(self, stop: asyncio.Event) -> None:
        self._stopping = False
        self._room = room = asyncio.Event()
        beat = None
        if self._policy.heartbeat_seconds:
            beat = asyncio.create_task(self._heartbeat(stop, self._policy.heartbeat_seconds))
        try:
            self._woken = False
            while not stop.is_set():
                room.clear()
                if await self._claim() and self.in_flight < self._units():
                    self._woken = True
                    continue  # more may be due right away
                self._woken = await self._wait(stop, room)
                if self._policy.linger_seconds and not room.is_set() and not stop.is_set():
                    await asyncio.sleep(self._policy.linger_seconds)
        finally:
            self._stopping = True
            if beat is not None:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat
            await self._drain()

    async def _claim(self) -> int:
        per_unit = max(1, self._policy.per_unit)
        free = self._units() - self.in_flight
        if free <= 0:
            return 0
        try:
            items = await self._handler.claim(free * per_unit)
        except Exception as exc:
            _log.exception("claiming from %s failed", self._policy.queue)
            self._health(False, f"claim failed: {exc!r}")
            return 0
        self._health(True, "")
        loop = asyncio.get_running_loop()
        for start in range(0, len(items), per_unit):
            unit = items[start : start + per_unit]
            task = loop.create_task(self._handle(unit))
            self._inflight[task] = unit
            task.add_done_callback(self._finished)
        self._saturated = self.in_flight >= self._units()
        return len(items)

    def _finished(self, task: asyncio.Task[bool]) -> None:
        self._inflight.pop(task, None)
        more = not task.cancelled() and task.result()
        if (more or self._saturated) and self._room is not None:
            self._room.set()

    async def _handle(self, unit: Sequence[T]) -> bool:
        try:
            return await self._handler.handle(unit)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Their leases expire and the rows are claimed again: nothing is lost.
            _log.exception("handling %s rows failed unexpectedly", self._policy.queue)
            return False

    def _health(self, ok: bool, detail: str) -> None:
        if self._on_health is not None and ok is not self._healthy:
            self._healthy = ok
            self._on_health(ok, detail)

    async def _wait(self, stop: asyncio.Event, room: asyncio.Event) -> bool:
        """Wait for the first signal (see the module doc); False when only the poll interval
        ran out."""
        if room.is_set():
            return True
        policy = self._policy
        # The wake-up's own timeout is a fallback: the poll is ``tick`` (so that it is told
        # apart from a wake-up).
        tick = asyncio.ensure_future(asyncio.sleep(policy.poll_seconds))
        signals: set[asyncio.Future[Any]] = {
            tick,
            asyncio.ensure_future(self._wakeups.wait(policy.queue, policy.poll_seconds + 1.0)),
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(room.wait()),
        }
        try:
            done, _pending = await asyncio.wait(signals, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for signal in signals:
                signal.cancel()
        return done != {tick}

    async def _heartbeat(self, stop: asyncio.Event, seconds: float) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)
            held = [item for unit in self._inflight.values() for item in unit]
            if held and not stop.is_set():
                try:
                    await self._handler.extend(held)
                except Exception:
                    _log.exception("renewing %s leases failed", self._policy.queue)

    async def _drain(self) -> None:
        tasks = list(self._inflight)
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=self._policy.grace_seconds)
        left = [item for task in pending for item in self._inflight.get(task, ())]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if left:
            try:
                await self._handler.give_back(left)
            except Exception as exc:
                _log.warning("could not release %s rows (%r); their leases expire", len(left), exc)
