"""A product test endpoint: records every webhook slackbridge sends and checks its signature.

::

    async with run_product(secret) as product:
        ...  # point SLACKBRIDGE_WEBHOOK_URL at product.hook_url
        hook = await product.wait_for(lambda h: h.type == "message.posted")

``product.down = True`` makes it answer 503 (an endpoint that is down); ``product.answers``
maps a webhook type to the JSON a *synchronous* call gets back (``product.sync_url``), with an
optional delay (``product.sync_delay``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slackbridge.product.signing import WebhookVerificationError, verify_webhook
from tests.support.servers import RunningServer, serve_asgi

__all__ = ["Hook", "Product", "run_product"]


@dataclass(frozen=True)
class Hook:
    """One webhook as the product received it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    at: float

    @property
    def json(self) -> dict[str, Any]:
        value = orjson.loads(self.body)
        assert isinstance(value, dict)
        return value

    @property
    def type(self) -> str:
        return str(self.json["type"])

    @property
    def data(self) -> dict[str, Any]:
        data = self.json["data"]
        assert isinstance(data, dict)
        return data

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Product:
    secret: str
    server: RunningServer | None = None
    hooks: list[Hook] = field(default_factory=list)  # every request, including refused ones
    down: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    sync_delay: float = 0.0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def hook_url(self) -> str:
        return self.url + "/hooks"

    @property
    def sync_url(self) -> str:
        return self.url + "/sync"

    def accepted(self, path: str = "/hooks") -> list[Hook]:
        """Webhooks answered 2xx on ``path``, in arrival order."""
        return [
            h
            for h in self.hooks
            if h.path == path and h.verified and not h.headers.get("x-refused")
        ]

    def of_type(self, type_: str, path: str = "/hooks") -> list[Hook]:
        return [h for h in self.accepted(path) if h.type == type_]

    async def wait_for(
        self, predicate: Callable[[Hook], bool], *, within: float = 15.0, path: str = "/hooks"
    ) -> Hook:
        """The first accepted webhook matching ``predicate`` (waiting for it if needed)."""
        deadline = time.monotonic() + within
        while True:
            for hook in self.accepted(path):
                if predicate(hook):
                    return hook
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(h.path, h.json.get("type")) for h in self.hooks]
                raise AssertionError(f"no matching webhook within {within}s; got {seen}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def wait_refused(self, count: int, *, within: float = 20.0) -> list[Hook]:
        """Wait until ``count`` requests were refused (the endpoint was down); returns them."""
        deadline = time.monotonic() + within
        while True:
            refused = [h for h in self.hooks if h.headers.get("x-refused")]
            if len(refused) >= count:
                return refused
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"only {len(refused)} of {count} refusals within {within}s")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def wait_count(
        self,
        count: int,
        predicate: Callable[[Hook], bool] = lambda h: True,
        *,
        within: float = 20.0,
        path: str = "/hooks",
        distinct: bool = False,
    ) -> list[Hook]:
        """Wait until ``count`` accepted webhooks (``distinct``: webhook-ids) match
        ``predicate``; returns every matching webhook."""
        deadline = time.monotonic() + within
        while True:
            found = [h for h in self.accepted(path) if predicate(h)]
            if len({h.webhook_id for h in found} if distinct else found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"only {len(found)} of {count} webhooks within {within}s")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            verify_webhook(self.secret, headers, body)
            verified = True
        except WebhookVerificationError:
            verified = False
        refused = self.down or not verified
        if refused:
            headers["x-refused"] = "1"
        self.hooks.append(Hook(request.url.path, headers, body, verified, time.monotonic()))
        self._arrived.set()
        if not verified:
            return Response("bad signature", status_code=400)
        if self.down:
            return Response("down for maintenance", status_code=503)
        if request.url.path == "/sync":
            if self.sync_delay:
                await asyncio.sleep(self.sync_delay)
            answer = self.answers.get(str(orjson.loads(body).get("type")))
            if answer is None:
                return Response(status_code=204)
            return Response(orjson.dumps(answer), media_type="application/json")
        return Response(status_code=204)


@contextlib.asynccontextmanager
async def run_product(secret: str) -> AsyncIterator[Product]:
    """Serve a recording product on a loopback port."""
    product = Product(secret)
    app = Starlette(
        routes=[
            Route("/hooks", product._receive, methods=["POST"]),
            Route("/sync", product._receive, methods=["POST"]),
        ]
    )
    async with serve_asgi(app) as server:
        product.server = server
        yield product
