"""Wake-ups between gateways sharing a PostgreSQL database: LISTEN/NOTIFY.

:class:`PgWakeups` implements :class:`~slackbridge.store.wakeups.Wakeups`. ``signal(queue)``
wakes this process's worker at once (in memory) and sends ``NOTIFY`` on one channel with the
queue's name as payload, so every other gateway's worker for that queue looks too. ``wait``
is the in-process wait: remote signals land in the same events.

Where ``signal`` is called matters: after the rows' transaction committed, never inside it.
The NOTIFY goes out on a connection of its own (the listening one), outside any transaction,
so a worker woken by it always finds the rows. Signals are merged: a burst of inserts into one
queue sends one NOTIFY per queue per round trip.

The listening connection is kept alive with a ping and reconnected with backoff (jittered,
up to 10 s). While it is down no remote signal arrives, and workers find rows by their poll
(the ``timeout`` of ``wait``) as before; when it is back every queue is woken once, for
whatever was signalled meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from slackbridge.store.wakeups import LocalWakeups

#: Jitter from a generator of this module's own: the global one belongs to whoever else
#: draws from it (a property test's data generation, for one).
_JITTER = random.Random()

__all__ = ["PgWakeups", "channel_name", "dsn_of"]

_log = logging.getLogger("slackbridge.wakeups")

_PING_SECONDS = 5.0
_BACKOFF_MIN = 0.2
_BACKOFF_MAX = 10.0

Connect = Callable[[str], Awaitable[Any]]


def dsn_of(url: URL) -> str:
    """The libpq-style DSN asyncpg takes, from the store's SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def channel_name(schema: str | None) -> str:
    """One NOTIFY channel per deployment (its schema, when it has one of its own)."""
    return f"slackbridge_wakeups_{schema}"[:63] if schema else "slackbridge_wakeups"


async def _connect(dsn: str) -> Any:
    return await asyncpg.connect(dsn, server_settings={"application_name": "slackbridge-wakeups"})


class PgWakeups:
    """LISTEN/NOTIFY wake-ups (see the module docstring). ``start`` before use, ``close`` after.

    ``on_remote`` is called with the queue's name for each signal from another process (by
    default the queue's in-process wait is woken).
    """

    def __init__(
        self,
        dsn: str,
        *,
        channel: str = "slackbridge_wakeups",
        origin: str = "",
        connect: Connect = _connect,
        on_remote: Callable[[str], None] | None = None,
    ) -> None:
        self._dsn = dsn
        self.channel = channel
        self.origin = origin or f"{random.getrandbits(64):016x}"
        self._connect = connect
        self._local = LocalWakeups()
        self._on_remote = on_remote or self._local.signal
        self._pending: set[str] = set()
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._known: set[str] = set()
        #: Whether the listening connection is up (signals from other processes arrive).
        self.connected = False
        self.received = 0
        self.sent = 0

    # --- the Wakeups Protocol ----------------------------------------------------------------

    def signal(self, queue: str) -> None:
        """Rows were committed to ``queue``: wake it here, and NOTIFY the other processes."""
        self._known.add(queue)
        self._local.signal(queue)
        self.publish(queue)

    async def wait(self, queue: str, timeout: float) -> None:  # noqa: ASYNC109 (the Protocol's)
        self._known.add(queue)
        await self._local.wait(queue, timeout)

    # --- the rest ----------------------------------------------------------------------------

    def publish(self, queue: str) -> None:
        """Only the NOTIFY part of :meth:`signal` (the caller woke its own process already)."""
        self._pending.add(queue)
        self._kick.set()

    def signal_all(self) -> None:
        self._local.signal_all()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="pg-wakeups")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.connected = False
        self._local.signal_all()

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        origin, _, queue = payload.rpartition(":")  # origins may hold colons, queues not
        if origin == self.origin or not queue:
            return
        self.received += 1
        self._known.add(queue)
        self._on_remote(queue)

    async def _run(self) -> None:
        delay = _BACKOFF_MIN
        while True:
            conn: Any = None
            try:
                conn = await self._connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(self.channel, self._heard)
                self.connected = True
                delay = _BACKOFF_MIN
                _log.info("listening for wake-ups on %s", self.channel)
                # Whatever was signalled while we were away: look at every queue once.
                for queue in sorted(self._known):
                    self._on_remote(queue)
                await self._serve(conn, lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning(
                    "wake-ups connection lost (%r); polling meanwhile, retrying in %.1fs",
                    exc,
                    delay,
                )
            finally:
                self.connected = False
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(_close(conn))
            await asyncio.sleep(delay * _JITTER.uniform(0.8, 1.2))
            delay = min(delay * 2, _BACKOFF_MAX)

    async def _serve(self, conn: Any, lost: asyncio.Event) -> None:
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_PING_SECONDS):
                    await self._kick.wait()
            self._kick.clear()
            if lost.is_set():
                break
            pending, self._pending = self._pending, set()
            if not pending:
                await conn.execute("SELECT 1")  # the ping: a dead connection raises here
                continue
            try:
                for queue in sorted(pending):
                    await conn.execute(
                        "SELECT pg_notify($1, $2)", self.channel, f"{self.origin}:{queue}"
                    )
                    self.sent += 1
            except BaseException:
                self._pending |= pending  # sent again on the next connection
                raise
        raise ConnectionError("the wake-ups connection closed")


async def _close(conn: Any) -> None:
    try:
        await asyncio.wait_for(conn.close(), 2.0)
    except Exception:
        conn.terminate()
