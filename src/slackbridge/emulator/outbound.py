"""Everything the emulator sends to apps, wired together for one emulator app.

:class:`Outbound` owns the delivery engine, the Socket Mode hub, the response URLs and the event
router listening on the state's bus. The emulator's ASGI app keeps one on ``app.state.outbound``
and starts/stops it in its lifespan; request handlers reach it with :func:`outbound_of`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import httpx
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from slackbridge.emulator.delivery import Deliverer
from slackbridge.emulator.events import EventRouter
from slackbridge.emulator.responses import ResponseUrls
from slackbridge.emulator.socket_mode import SocketHub
from slackbridge.emulator.state import EmulatorState

__all__ = ["Outbound", "lifespan", "outbound_of"]


class Outbound:
    """The delivery side of one emulator. ``transport`` routes its HTTP (tests pass one in)."""

    def __init__(
        self,
        state: EmulatorState,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: int = 32,
    ) -> None:
        self.state = state
        self.hub = SocketHub(state)
        self.deliverer = Deliverer(
            state, self.hub, transport=transport, max_concurrency=max_concurrency
        )
        self.responses = ResponseUrls(state)
        self.router = EventRouter(state, self.deliverer.enqueue_event, self.reset)
        self._closing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.deliverer.start()
        self.router.attach()

    async def stop(self) -> None:
        self.router.detach()
        await self.hub.close_all()
        await self.deliverer.stop()

    def reset(self) -> None:
        """Forget deliveries, queued retries, response URLs and Socket Mode connections (the
        world went back to the seed, so the apps they belonged to are gone)."""
        self.deliverer.clear()
        self.responses.clear()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # reset outside the event loop: no connection can be open
            return
        task = loop.create_task(self.hub.close_all())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def wait_idle(self) -> None:
        """Wait until every delivery, including scheduled retries, has finished."""
        await self.deliverer.wait_idle()


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """The emulator app's lifespan hook: one :class:`Outbound`, running while the app runs."""
    out = Outbound(app.state.emulator, transport=app.state.delivery_transport)
    app.state.outbound = out
    await out.start()
    try:
        yield
    finally:
        await out.stop()


def outbound_of(conn: HTTPConnection) -> Outbound:
    """The :class:`Outbound` of the emulator app serving ``conn``."""
    return cast(Outbound, conn.app.state.outbound)
