"""One write path: every queue write of a process goes through one group-committing writer.

SQLite lets one transaction write at a time. When the ingress, the inbox worker, the delivery
worker and the sender each wrote in transactions of their own, they queued for that lock inside
SQLite's busy handler (which serves nobody in order): the ingress's commit waited behind a
worker's transaction until Slack's request timed out, and a worker that waited too long met
``database is locked``. Here every write is a *job*, a plain function of a SQLAlchemy
:class:`~sqlalchemy.engine.Connection` that runs its statements and returns a result; jobs from
every part of the process are queued, and one flusher runs them in batches, one transaction per
batch, on the engine's :class:`Connector`. Nothing in the process then competes for the lock,
and a batch's commit (and on PostgreSQL its round trip) is shared by everything in it.

- Jobs run in the order they were submitted, except that *urgent* ones (the ingress's inbox
  rows: Slack is waiting for the ack) go before the others waiting. On a ``concurrent``
  connector (PostgreSQL) the urgent jobs have batches of their own, and so has a *step* (a
  lane runner's settle-and-next; each runner waits for its own, so steps need no order among
  the other jobs) when no other step is waiting or being run: it then never waits behind a batch
  of the inbox worker's (its statements and its commit), which made a hot lane's every event
  wait for two commits, and it runs without a transaction of its own: each of its statements
  commits by itself (a step is one statement as a rule, and its fallback's two, a settle and
  then a lease, need not commit together), which spares it two round trips: a hot lane's
  case. The steps of many busy lanes join the ordinary batches instead, and share their
  commit: a stream of lone steps' commits beside them cost the ingress's acks more than it
  gave. Elsewhere a step is an ordinary job.
- An urgent job that runs a single statement (``single``: the ingress's inbox rows, one
  ``INSERT`` on PostgreSQL), alone in its batch on a ``concurrent`` connector, commits by
  itself too: one round trip instead of three (BEGIN, the statement, COMMIT). Each round trip
  waits for a turn of a busy event loop, and Slack's ack waits for all of them.
- On SQLite a batch stops taking jobs once it has run for :attr:`WritePath.slice_seconds`, so
  that a long backlog of worker jobs never holds the event loop (the SQLite connector runs
  batches on the loop's thread) for more than a couple of milliseconds at a time. A
  ``concurrent`` connector (PostgreSQL) awaits the driver at every statement, so the loop is
  never held: a batch there takes every job waiting (up to :attr:`WritePath.max_jobs`). A cut
  for time there only multiplied the commits (a statement's round trip is a fair share of
  2 ms: batches of two or three jobs, five commits an event) without letting anything in
  sooner: the jobs cut off wait for the next batch anyway.
- Jobs that can run together (a :class:`Combinable` job: the lane steps of many lanes, on
  PostgreSQL) share one statement within a batch where the connector runs no cut for time: a
  batch of a busy gateway holds a step of each of dozens of lanes, and each statement's round
  trip, run one after the other on the batch's one connection, is what a batch takes; the
  batches of the queue's other jobs wait behind it. The group runs where its first job stands
  (jobs of a batch need no order among the steps, see above). If it raises, the batch is rolled
  back and run again with the group's jobs each on its own, so that a failing job still fails
  alone.
- A job that raises fails alone: the batch is rolled back, the job's caller gets the error, and
  the others run again in the next batch. Jobs are therefore written to be run again: pure
  functions of the database, their effect visible only through what they return.
- A batch the store itself can't commit (the file is locked by another process for longer than
  the busy timeout, the server is down) fails every job in it with that error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Connection

__all__ = ["Combinable", "Connector", "Job", "WritePath"]

T = TypeVar("T")
R = TypeVar("R")
Job = Callable[[Connection], T]
_log = logging.getLogger("slackbridge.store")


class Connector(Protocol):
    """One engine's way of running a batch: ``batch(connection)`` inside one transaction.

    ``concurrent``: whether two batches may run at once (PostgreSQL: row locks, several
    connections); the urgent jobs then get a flusher of their own and never wait behind a
    batch of the others. SQLite has one writer: one batch at a time."""

    concurrent: bool

    async def commit(self, batch: Callable[[Connection], R]) -> R:
        """Run ``batch`` in a new transaction and commit it (roll it back if it raises)."""
        ...

    async def commit_each(self, batch: Callable[[Connection], R]) -> R:
        """Run ``batch`` with each statement committed by itself where the engine allows it
        (PostgreSQL: a lone lane step, without BEGIN and COMMIT); elsewhere as :meth:`commit`."""
        ...

    async def close(self) -> None:
        """Release the connection (a later commit opens it again)."""
        ...


class Combinable(Protocol):
    """A job that may run in one go with the jobs of its batch of the same
    :attr:`write_group` (the write path reads that attribute of any job)."""

    #: Jobs of one group (not None) may run together; None: this one runs alone.
    write_group: Hashable | None

    def __call__(self, conn: Connection) -> Any:
        """Run alone."""
        ...

    def run_together(self, conn: Connection, jobs: Sequence[Any]) -> list[Any] | None:
        """Run ``jobs`` (this one first, all of its group) and return their results in their
        order; None if they can't run together on ``conn`` (each then runs alone)."""
        ...


class _Pending:
    __slots__ = ("alone", "future", "job", "single")

    def __init__(self, job: Job[Any], future: asyncio.Future[Any], single: bool = False) -> None:
        self.job = job
        self.future = future
        self.single = single  # the job runs one statement
        self.alone = False  # its group failed once: it runs on its own from then on


class _GroupFailed(Exception):
    """Raised out of a batch to roll it back: the jobs at ``indexes`` failed together."""

    def __init__(self, indexes: list[int]) -> None:
        super().__init__(indexes)
        self.indexes = indexes


class _JobFailed(Exception):
    """Raised out of a batch to roll it back: job number ``index`` raised ``error``."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class WritePath:
    """Queues write jobs and commits them in batches on ``connector`` (see the module doc)."""

    def __init__(
        self,
        connector: Connector,
        *,
        slice_seconds: float | None = 0.002,
        max_jobs: int = 512,
    ) -> None:
        self.connector = connector
        # None: no cut for time (the default on a concurrent connector, see the module doc).
        self.slice_seconds = None if connector.concurrent else slice_seconds
        self.max_jobs = max_jobs
        self._urgent: deque[_Pending] = deque()
        self._normal: deque[_Pending] = deque()
        self._steps: deque[_Pending] = deque()  # only on a concurrent connector
        self._shared_steps = 0  # steps in the ordinary batches, not yet committed
        self._flushers: dict[str, asyncio.Task[None]] = {}
        self.batches = 0  # committed batches (for tests and the bench)
        self.jobs = 0  # committed jobs

    @property
    def waiting(self) -> int:
        """Jobs submitted and not yet committed."""
        return len(self._urgent) + len(self._normal) + len(self._steps)

    def submit(
        self, job: Job[T], *, urgent: bool = False, step: bool = False, single: bool = False
    ) -> asyncio.Future[T]:
        """Queue ``job``; the future resolves with its result once its batch is committed.
        ``step``: a lane runner's step; ``single``: an urgent job that runs one statement (see
        the module doc)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # One flusher for every queue, or one each where batches may run side by side.
        lane = "normal"
        if urgent:
            self._urgent.append(_Pending(job, future, single))
            lane = "urgent" if self.connector.concurrent else lane
        elif (
            step
            and self.connector.concurrent
            and not self._shared_steps
            and not self._busy("steps")
        ):
            self._steps.append(_Pending(job, future))
            lane = "steps"
        else:
            if step and self.connector.concurrent:
                self._shared_steps += 1
                future.add_done_callback(self._shared_step_done)
            self._normal.append(_Pending(job, future))
        flusher = self._flushers.get(lane)
        if flusher is None or flusher.done():
            self._flushers[lane] = loop.create_task(self._flush(lane), name="write-path")
        return future

    def _shared_step_done(self, _future: asyncio.Future[Any]) -> None:
        self._shared_steps -= 1

    def _busy(self, lane: str) -> bool:
        flusher = self._flushers.get(lane)
        return flusher is not None and not flusher.done()

    async def write(
        self, job: Job[T], *, urgent: bool = False, step: bool = False, single: bool = False
    ) -> T:
        """Run ``job`` in the next batch and return its result once committed."""
        return await self.submit(job, urgent=urgent, step=step, single=single)

    def _sources(self, lane: str) -> tuple[deque[_Pending], ...]:
        if lane == "urgent":
            return (self._urgent,)
        if lane == "steps":
            return (self._steps,)
        if self.connector.concurrent:
            return (self._normal,)
        return (self._urgent, self._normal)

    async def _flush(self, lane: str) -> None:
        # One pass of the loop first: jobs submitted by the same burst of callbacks join.
        await asyncio.sleep(0)
        sources = self._sources(lane)
        while any(sources):
            await self._commit_next(sources)
            await asyncio.sleep(0)  # let requests in between two batches

    def _take(self, sources: tuple[deque[_Pending], ...]) -> list[_Pending]:
        batch: list[_Pending] = []
        for source in sources:
            while source and len(batch) < self.max_jobs:
                pending = source.popleft()
                if not pending.future.done():  # a cancelled caller's job is skipped
                    batch.append(pending)
        return batch

    def _put_back(self, pendings: list[_Pending], sources: tuple[deque[_Pending], ...]) -> None:
        # Back to the front of the last queue taken from, in their order: they were first.
        sources[-1].extendleft(reversed(pendings))

    async def _commit_next(self, sources: tuple[deque[_Pending], ...]) -> None:
        batch = self._take(sources)
        if not batch:
            return
        ran: list[Any] = []
        slice_seconds = self.slice_seconds

        groups = _groups(batch) if slice_seconds is None else {}

        def run(conn: Connection) -> None:
            if groups:
                ran.extend(_run_grouped(conn, batch, groups))
                return
            started = time.perf_counter()
            for index, pending in enumerate(batch):
                if (
                    index
                    and slice_seconds is not None
                    and time.perf_counter() - started > slice_seconds
                ):
                    return
                try:
                    ran.append(pending.job(conn))
                except Exception as exc:
                    raise _JobFailed(index, exc) from exc

        # A lone step, or an urgent job of one statement alone in its batch: its statement
        # commits by itself, without the round trips of BEGIN and COMMIT (see the connector's
        # ``commit_each``).
        by_itself = sources[0] is self._steps or (
            len(sources) == 1 and sources[0] is self._urgent and len(batch) == 1 and batch[0].single
        )
        commit = self.connector.commit_each if by_itself else self.connector.commit
        try:
            await commit(run)
        except _JobFailed as failed:
            _settle_error(batch[failed.index].future, failed.error)
            self._put_back(batch[: failed.index] + batch[failed.index + 1 :], sources)
            return
        except _GroupFailed as failed:
            _log.warning(
                "%d write jobs run together failed (%r); running them each alone",
                len(failed.indexes),
                failed.__cause__,
            )
            for index in failed.indexes:
                batch[index].alone = True
            self._put_back(batch, sources)
            return
        except Exception as exc:
            for pending in batch:
                _settle_error(pending.future, exc)
            return
        self.batches += 1
        self.jobs += len(ran)
        for pending, result in zip(batch, ran, strict=False):
            if not pending.future.done():
                pending.future.set_result(result)
        self._put_back(batch[len(ran) :], sources)

    async def close(self) -> None:
        """Commit what is waiting, then close the connector."""
        for flusher in list(self._flushers.values()):
            if not flusher.done():
                with contextlib.suppress(Exception):
                    await flusher
        await self.connector.close()


def _groups(batch: list[_Pending]) -> dict[int, list[int]]:
    """The groups of two jobs or more in ``batch``: the index of each group's first job, to
    the indexes of all of its jobs."""
    found: dict[Hashable, list[int]] = {}
    for index, pending in enumerate(batch):
        # An attribute read, not isinstance() of the protocol (which checks every member).
        group = getattr(pending.job, "write_group", None)
        if group is not None and not pending.alone:
            found.setdefault(group, []).append(index)
    return {indexes[0]: indexes for indexes in found.values() if len(indexes) > 1}


def _run_grouped(
    conn: Connection, batch: list[_Pending], groups: dict[int, list[int]]
) -> list[Any]:
    """Run every job of ``batch``, each group where its first job stands; the results in the
    batch's order."""
    results: dict[int, Any] = {}
    for index, pending in enumerate(batch):
        if index in results:
            continue
        members = groups.get(index)
        if members is not None:
            first: Any = pending.job
            try:
                together = first.run_together(conn, [batch[i].job for i in members])
                if together is not None:
                    results.update(zip(members, together, strict=True))
            except Exception as exc:
                raise _GroupFailed(members) from exc
            if together is not None:
                continue
            # They can't run together here: each in turn, at its own place.
        try:
            results[index] = pending.job(conn)
        except Exception as exc:
            raise _JobFailed(index, exc) from exc
    return [results[index] for index in range(len(batch))]


def _settle_error(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
