"""A stand-in for an app's HTTP endpoints: records what the emulator sends and answers as told.

Pass ``Receiver().transport`` to ``create_app(delivery_transport=…)`` to keep everything in
process, or serve ``Receiver().app`` on a loopback port for real HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slackbridge.emulator import create_app
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import emulator_client

__all__ = ["Received", "Receiver", "emulator_delivering_to", "heard_events"]

RECEIVER_URL = "http://app.test"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def payload(self) -> Any:
        """The ``payload=`` field of an interactivity request, decoded."""
        return orjson.loads(self.form()["payload"])


Responder = Callable[[Received], Awaitable[Response]]


async def _ok(_: Received) -> Response:
    return Response(status_code=200)


class Receiver:
    """Records every POST; ``respond`` decides each answer (default: 200, empty body)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.respond: Responder = _ok
        self._changed = asyncio.Event()
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        self.transport = httpx.ASGITransport(app=self.app)

    async def _handle(self, request: Request) -> Response:
        got = Received(request.url.path, dict(request.headers), await request.body())
        self.received.append(got)
        self._changed.set()
        return await self.respond(got)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, count: int, path: str | None = None, within: float = 5.0) -> None:
        """Wait until ``count`` requests (to ``path``) have arrived, or fail after ``within`` s."""
        deadline = time.monotonic() + within
        while len(self.on(path) if path else self.received) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"only {len(self.received)} requests arrived: {self.received}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue


@asynccontextmanager
async def emulator_delivering_to(
    state: EmulatorState, receiver: Receiver
) -> AsyncIterator[httpx.AsyncClient]:
    """The emulator on ``state``, in process, delivering to ``receiver`` (also in process); the
    client's ``app`` is the emulator's app (for ``app.state.outbound``)."""
    app = create_app(state, delivery_transport=receiver.transport)
    async with emulator_client(app, base_url="http://emu.test") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def heard_events(emu: httpx.AsyncClient, receiver: Receiver) -> list[dict[str, Any]]:
    """The events ``receiver`` got at ``/events``, once every delivery under way is done."""
    await emu.app.state.outbound.wait_idle()  # type: ignore[attr-defined]
    return [r.json()["event"] for r in receiver.on("/events")]
