"""Fixtures for the product API tests: a product that records webhooks, and a gateway with the
default app installed into Acme, an API key and the product's webhook URL configured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slackbridge.product.signing import generate_secret, verify_webhook
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.servers import serve_asgi
from tests.support.stack import EmulatorServer, GatewayServer, browser, install_via_browser

ACME, ALICE, BOB = "T0ACME0001", "U0ACME0001", "U0ACME0002"
GENERAL, SUPPORT, STAFF = "C0ACME0GEN", "C0ACME0SUP", "G0ACME0STF"
API_KEY = "sbk_test_" + "k" * 32


@dataclass
class ProductServer:
    """The product's webhook endpoint: records every verified webhook body, in arrival order."""

    url: str
    secret: str
    events: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def of_type(self, *types: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] in types]

    async def wait_for(self, ready: Callable[[ProductServer], bool], within: float = 20.0) -> None:
        """Wait until ``ready(self)`` holds (checked on every webhook), or fail."""
        deadline = time.monotonic() + within
        while not ready(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; webhooks so far: {self.events[-5:]}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
            except TimeoutError:
                continue

    def outcome_of(self, message_id: str) -> dict[str, Any] | None:
        for event in self.of_type("message.delivered", "message.failed"):
            if event["data"]["message"]["id"] == message_id:
                return event
        return None


@pytest.fixture
async def product() -> AsyncIterator[ProductServer]:
    recorder = ProductServer(url="", secret=generate_secret())

    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            event = verify_webhook(recorder.secret, request.headers, body)
        except Exception:
            recorder.rejected += 1
            return Response(status_code=400)
        recorder.events.append(event)
        recorder.changed.set()
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hooks", receive, methods=["POST"])])
    async with serve_asgi(app) as server:
        recorder.url = server.url + "/hooks"
        yield recorder


@dataclass
class ApiStack:
    gateway: GatewayServer
    emulator: EmulatorServer
    product: ProductServer
    api: httpx.AsyncClient
    team_id: str = ACME

    async def wait_status(
        self, message_id: str, statuses: tuple[str, ...] = ("sent", "failed"), within: float = 20
    ) -> dict[str, Any]:
        """Poll ``GET /messages/{id}`` until its status is one of ``statuses``."""
        deadline = time.monotonic() + within
        while True:
            answer = await self.api.get(f"/messages/{message_id}")
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            if body["status"] in statuses:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{message_id} is still {body}")
            await asyncio.sleep(0.05)


async def start_stack(
    gateway_factory: GatewayFactory, product: ProductServer, **settings: Any
) -> ApiStack:
    """A gateway with the default app installed into Acme by alice."""
    values: dict[str, Any] = {
        "api_keys": API_KEY,
        "webhook_url": product.url,
        "webhook_secret": product.secret,
        "outbox_retry_scale": 0.02,
        "webhook_retry_scale": 0.02,
        **settings,
    }
    gw = await gateway_factory(**values)
    await gw.provision(user_scopes=["chat:write"])
    async with browser() as b:
        page = await install_via_browser(b, gw, ACME, ALICE)
    assert page.status_code == 200, page.text
    await product.wait_for(lambda p: bool(p.of_type("workspace.installed")))
    api = httpx.AsyncClient(
        base_url=gw.url + "/api/v1",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=30.0,
    )
    return ApiStack(gateway=gw, emulator=gw.emulator, product=product, api=api)


@pytest.fixture
async def stack(gateway_factory: GatewayFactory, product: ProductServer) -> AsyncIterator[ApiStack]:
    s = await start_stack(gateway_factory, product)
    async with s.api:
        yield s
