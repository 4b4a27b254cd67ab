"""Group commit: inbox rows from concurrent requests written in one transaction.

Each request submits its row and awaits its own future, which resolves only once the transaction
holding the row has committed (or fails with the error). Rows that arrive while a commit is in
flight wait for the next one, so under load each commit carries many rows and durability costs
one write per batch instead of one per request. A short window before each commit gathers
requests that arrive together even when the store is idle.

When a batch fails, its rows are retried one by one, so that one bad row cannot take the others
down with it. A row not committed within its deadline fails its future (one watchdog checks all
deadlines, rather than a timer per request): the request answers 503 (see
``slack/inbound/ingress.py``),
Slack retries, and the inbox's unique key absorbs the retry if the row did land after all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from slackbridge.metrics import INGRESS_BATCH_ROWS, INGRESS_COMMIT_SECONDS

__all__ = ["CommitUnavailable", "GroupCommitter"]

_log = logging.getLogger("slackbridge.ingress")

Row = TypeVar("Row")
Result = TypeVar("Result")


class CommitUnavailable(Exception):
    """The row was not committed in time (or the store failed); answer so that Slack retries."""


class GroupCommitter(Generic[Row, Result]):
    """Collects rows and writes them in batches with ``write`` (one transaction per call), which
    returns one result per row, in order (e.g. whether the row was new or a duplicate).

    ``run`` is the committing loop (a supervised gateway worker); :meth:`commit` is what request
    handlers call.
    """

    name = "ingress-group-commit"

    def __init__(
        self,
        write: Callable[[Sequence[Row]], Awaitable[Sequence[Result]]],
        *,
        window: float = 0.002,
        max_batch: int = 500,
    ) -> None:
        self._write = write
        self._window = window
        self._max_batch = max_batch
        self._pending: list[_Waiting[Row, Result]] = []
        self._inflight: list[_Waiting[Row, Result]] = []
        self._arrived = asyncio.Event()
        self._running = False

    def submit(self, row: Row, within: float) -> asyncio.Future[Result]:
        """Queue ``row`` for the next commit; the future resolves (with the row's result) once
        it is committed, or fails with :class:`CommitUnavailable` once ``within`` seconds have
        passed without that."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        # A caller that went away no longer awaits the future: mark its error as seen.
        future.add_done_callback(_consume)
        if not self._running:
            future.set_exception(CommitUnavailable("the inbox committer is not running"))
            return future
        self._pending.append(_Waiting(row, future, time.monotonic() + within))
        self._arrived.set()
        return future

    async def commit(self, row: Row, within: float) -> Result:
        """Submit ``row`` and wait until it is committed; returns its result.
        :class:`CommitUnavailable` when the store failed or took longer than ``within`` s."""
        return await self.submit(row, within)

    async def run(self, stop: asyncio.Event) -> None:
        """Commit batches until ``stop`` is set, then commit what is still waiting."""
        stopping = asyncio.create_task(stop.wait())
        watchdog = asyncio.create_task(self._watch())
        self._running = True
        try:
            while not stop.is_set():
                if not self._pending:
                    self._arrived.clear()
                    arrived = asyncio.create_task(self._arrived.wait())
                    await asyncio.wait({arrived, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    arrived.cancel()
                    continue
                if self._window > 0 and len(self._pending) < self._max_batch:
                    await asyncio.sleep(self._window)
                await self._commit_next()
            while self._pending:
                await self._commit_next()
        finally:
            self._running = False
            for task in (stopping, watchdog):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _watch(self) -> None:
        """Fail the rows whose deadline passed (one timer for all, not one per request)."""
        while True:
            await asyncio.sleep(_TICK)
            now = time.monotonic()
            for waiting in (*self._inflight, *self._pending):
                if waiting.deadline < now and not waiting.future.done():
                    waiting.future.set_exception(_late())

    async def _commit_next(self) -> None:
        batch = self._pending[: self._max_batch]
        del self._pending[: len(batch)]
        self._inflight = batch
        started = time.perf_counter()
        try:
            await self._write_batch(batch)
        finally:
            self._inflight = []
            INGRESS_COMMIT_SECONDS.observe(time.perf_counter() - started)

    async def _write_batch(self, batch: list[_Waiting[Row, Result]]) -> None:
        try:
            results = await self._write([waiting.row for waiting in batch])
        except Exception as exc:
            if len(batch) == 1:
                _log.warning("inbox commit failed: %r", exc)
                _fail(batch[0].future, exc)
                return
            _log.warning("inbox batch of %d failed (%r); writing rows one by one", len(batch), exc)
            for waiting in batch:
                try:
                    (result,) = await self._write([waiting.row])
                except Exception as one:
                    _fail(waiting.future, one)
                else:
                    _resolve(waiting, result, time.monotonic())
            return
        INGRESS_BATCH_ROWS.observe(len(batch))
        now = time.monotonic()
        for waiting, result in zip(batch, results, strict=True):
            _resolve(waiting, result, now)


class _Waiting(NamedTuple, Generic[Row, Result]):
    row: Row
    future: asyncio.Future[Result]
    deadline: float  # time.monotonic()


_TICK = 0.05  # seconds between deadline checks


def _late() -> CommitUnavailable:
    return CommitUnavailable("the inbox commit took too long")


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _resolve(waiting: _Waiting[Row, Result], result: Result, now: float) -> None:
    # A row committed after its deadline is answered as late all the same: the caller may
    # already have given up, and a retry of it is absorbed by the inbox's unique key.
    if waiting.future.done():
        return
    if now > waiting.deadline:
        waiting.future.set_exception(_late())
    else:
        waiting.future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(CommitUnavailable(f"inbox commit failed: {error!r}"))
