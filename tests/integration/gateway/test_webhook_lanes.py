"""Webhook lanes and request slots: on PostgreSQL more lanes run than requests go out at once.

``SLACKBRIDGE_WEBHOOK_CONCURRENCY`` caps the requests in flight to the product; the delivery
worker runs (on PostgreSQL) up to ``LANES_PER_REQUEST`` times as many lanes, a lane holding a
request slot only while its request is out (between two requests it waits for its outcome's
write); on SQLite one lane per slot. The product must never see more requests at once than the
setting, every webhook still arrives, and each channel's webhooks arrive in order. A lane that
waited for a slot renews its lease before its request, and sends nothing for a row whose lease
ran out and another worker took.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from slackbridge.product.endpoints import sync_endpoints
from slackbridge.product.signing import generate_secret
from slackbridge.product.webhooks import (
    LANES_PER_REQUEST,
    SERIAL_LANES_PER_REQUEST,
    DeliveryWorker,
    lanes_per_request,
)
from slackbridge.runtime import Gateway
from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.repositories.deliveries import DeliveriesRepository, NewDelivery
from tests.conftest import _pg_url, fresh_pg_schema

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


@contextlib.asynccontextmanager
async def _gateway(
    tmp_path: Path, product: _Product, *, postgres: bool = False, **settings: Any
) -> AsyncIterator[Gateway]:
    """A gateway's resources (no server) whose webhooks go to ``product``, its store on a
    SQLite file (or in a fresh PostgreSQL schema)."""
    async with contextlib.AsyncExitStack() as stack:
        if postgres:
            url = _pg_url()
            schema = await stack.enter_async_context(fresh_pg_schema(url))
            settings |= {"database_url": url, "database_schema": schema}
        yield await stack.enter_async_context(_resources(tmp_path, product, **settings))


@contextlib.asynccontextmanager
async def _resources(tmp_path: Path, product: _Product, **settings: Any) -> AsyncIterator[Gateway]:
    transport = httpx.MockTransport(product.handle)
    config = Settings(
        data_dir=tmp_path,
        webhook_url="https://product.test/hook",
        webhook_secret=generate_secret(),
        **settings,
    )
    db = open_database(config.effective_database_url, schema=config.database_schema)
    await upgrade_database(db)
    gateway = Gateway(
        settings=config,
        db=db,
        keyring=Keyring.load(None, tmp_path),
        http=httpx.AsyncClient(transport=transport),
        http_transport=transport,
    )
    try:
        yield gateway
    finally:
        await gateway.http.aclose()
        await db.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_requests_in_flight_stay_within_the_setting_while_more_lanes_run(
    tmp_path: Path, engine: str
) -> None:
    """On PostgreSQL more lanes run than requests go out; on SQLite (one writer, committing on
    the event loop's thread) one lane per request: either way the product sees at most the
    setting's requests at once, and every channel's webhooks in order."""
    product = _Product()
    postgres = engine == "postgres"
    async with _gateway(tmp_path, product, postgres=postgres, webhook_concurrency=SLOTS) as gateway:
        assert lanes_per_request(gateway) == (
            LANES_PER_REQUEST if postgres else SERIAL_LANES_PER_REQUEST
        )
        await _run_all(gateway, product)

    assert product.most_out == SLOTS  # the slots were used, and never more than them
    if postgres:
        assert LANES_PER_REQUEST > 1
        assert product.most_lanes > SLOTS  # while more lanes ran, waiting for a slot
    else:
        assert SERIAL_LANES_PER_REQUEST == 1
        assert product.most_lanes == SLOTS  # a lane per slot
    for channel in range(CHANNELS):
        numbers = [n for c, n in product.received if c == f"C{channel}"]
        assert numbers == list(range(PER_CHANNEL)), (channel, numbers)


async def _run_all(gateway: Gateway, product: _Product) -> None:
    """Queue the deliveries and run the delivery worker until the product has them all."""
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
        product.repo = DeliveriesRepository(gateway.db, gateway.keyring)
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


async def test_a_runner_renews_a_short_lease_before_its_request_and_skips_a_row_not_its_own(
    tmp_path: Path,
) -> None:
    """A runner that waited for a slot may find its lease nearly gone: it renews it before the
    request; if it ran out and another worker took the row, it sends nothing."""
    product = _Product()
    async with _gateway(tmp_path, product) as gateway:
        (endpoint,) = await sync_endpoints(gateway)
        repo = DeliveriesRepository(gateway.db, gateway.keyring)
        await repo.enqueue(
            [
                NewDelivery(
                    webhook_id=f"msg_{n}",
                    endpoint_id=endpoint.id,
                    event_type="message.posted",
                    payload=orjson.dumps({"channel": f"C{n}", "n": n}).decode(),
                    ordering_key=f"T1:C{n}",
                )
                for n in range(2)
            ]
        )
        worker = DeliveryWorker(gateway, resolver=_resolve)
        owner = f"webhooks:{gateway.instance_id}"[:64]
        short, gone = await repo.claim(owner, lease_seconds=1.0)  # 1 s left: under a request
        assert await worker.deliver(short) is None
        stored = await repo.get_by_webhook_id(short.webhook_id)
        assert stored is not None and stored.status == "delivered"
        assert product.received == [("C0", 0)]

        # ``gone``'s lease ran out (it is put in the past) and another worker took the row.
        assert await repo.extend([gone.id], owner, -1.0) == 1
        (taken,) = await repo.claim("another-gateway", lease_seconds=60.0)
        assert taken.id == gone.id
        assert await worker.deliver(gone) is None
        assert product.received == [("C0", 0)]  # nothing sent for a row that is not ours
        stored = await repo.get_by_webhook_id(gone.webhook_id)
        assert stored is not None and stored.lease_owner == "another-gateway"


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_a_late_event_loop_never_leaves_fewer_lanes_than_request_slots(
    tmp_path: Path, engine: str
) -> None:
    """While the event loop runs late the lanes are halved, down to one per request slot (on
    SQLite, where a slot has one lane, they stay as many); on time again, they come back."""
    product = _Product()
    async with _gateway(
        tmp_path, product, postgres=engine == "postgres", webhook_concurrency=SLOTS
    ) as gateway:
        worker = DeliveryWorker(gateway, resolver=_resolve)
        most = SLOTS * lanes_per_request(gateway)
        assert worker.lanes == most
        for _ in range(10):
            worker.adjust_lanes(late=1.0)
        assert worker.lanes == SLOTS
        for _ in range(most):
            worker.adjust_lanes(late=0.0)
        assert worker.lanes == most
