"""Webhook lanes and request slots: more lanes run than requests go out at once.

``SLACKBRIDGE_WEBHOOK_CONCURRENCY`` caps the requests in flight to the product; the delivery
worker runs up to ``LANES_PER_REQUEST`` times as many lanes, a lane holding a request slot only
while its request is out (between two requests it waits for its outcome's write). The product
must never see more requests at once than the setting, every webhook still arrives, and each
channel's webhooks arrive in order.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson

from slackbridge.product.endpoints import sync_endpoints
from slackbridge.product.signing import generate_secret
from slackbridge.product.webhooks import LANES_PER_REQUEST, DeliveryWorker
from slackbridge.runtime import Gateway
from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.repositories.deliveries import DeliveriesRepository, NewDelivery

CHANNELS = 8
PER_CHANNEL = 3
SLOTS = 2


async def _resolve(host: str, _port: int) -> list[str]:
    assert host == "product.test"
    return ["10.1.2.3"]


class _Product:
    """An endpoint that takes a moment to answer, noting how many requests were out at once."""

    def __init__(self) -> None:
        self.repo: DeliveriesRepository | None = None
        self.out = 0
        self.most_out = 0
        self.most_lanes = 0  # deliveries leased (one per running lane) seen during a request
        self.received: list[tuple[str, int]] = []  # (channel, number) in arrival order

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.out += 1
        self.most_out = max(self.most_out, self.out)
        try:
            if self.repo is not None:
                leased = (await self.repo.counts())["delivering"]
                self.most_lanes = max(self.most_lanes, leased)
            await asyncio.sleep(0.005)  # the product's own latency (not a wait for a result)
            body = orjson.loads(request.content)
            self.received.append((body["channel"], body["n"]))
        finally:
            self.out -= 1
        return httpx.Response(200)


async def test_requests_in_flight_stay_within_the_setting_while_more_lanes_run(
    tmp_path: Path,
) -> None:
    assert LANES_PER_REQUEST > 1
    product = _Product()
    transport = httpx.MockTransport(product.handle)
    settings = Settings(
        data_dir=tmp_path,
        webhook_url="https://product.test/hook",
        webhook_secret=generate_secret(),
        webhook_concurrency=SLOTS,
    )
    db = open_database(settings.effective_database_url)
    await upgrade_database(db)
    gateway = Gateway(
        settings=settings,
        db=db,
        keyring=Keyring.load(None, tmp_path),
        http=httpx.AsyncClient(transport=transport),
        http_transport=transport,
    )
    stop = asyncio.Event()
    task: asyncio.Task[Any] | None = None
    try:
        (endpoint,) = await sync_endpoints(gateway)
        deliveries = [
            NewDelivery(
                webhook_id=f"msg_{channel}_{n}",
                endpoint_id=endpoint.id,
                event_type="message.posted",
                payload=orjson.dumps({"channel": f"C{channel}", "n": n}).decode(),
                ordering_key=f"T1:C{channel}",
            )
            for n in range(PER_CHANNEL)
            for channel in range(CHANNELS)
        ]
        product.repo = DeliveriesRepository(db, gateway.keyring)
        await product.repo.enqueue(deliveries)
        task = asyncio.create_task(DeliveryWorker(gateway, resolver=_resolve).run(stop))
        deadline = asyncio.get_running_loop().time() + 20
        while len(product.received) < len(deliveries):
            assert asyncio.get_running_loop().time() < deadline, product.received
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        if task is not None:
            await task
        await gateway.http.aclose()
        await db.close()

    assert product.most_out == SLOTS  # the slots were used, and never more than them
    assert product.most_lanes > SLOTS  # while more lanes ran, waiting for a slot
    for channel in range(CHANNELS):
        numbers = [n for c, n in product.received if c == f"C{channel}"]
        assert numbers == list(range(PER_CHANNEL)), (channel, numbers)
