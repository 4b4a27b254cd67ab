"""The gateway's assembly: health, readiness, metrics, parts and worker supervision."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
from fastapi import APIRouter
from starlette.types import ASGIApp

from slackbridge.runtime import Gateway, Part, Readiness, Worker
from slackbridge.server import create_app
from slackbridge.settings import Settings
from slackbridge.store.repositories.inbox import InboxRepository, NewInboxItem
from tests.support.servers import serve_asgi


def settings_for(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, public_url="http://127.0.0.1:1", apps=[], webhooks=[])


class _FlakyWorker:
    name = "flaky"

    def __init__(self, part: FlakyPart, gateway: Gateway) -> None:
        self.part = part
        self.gateway = gateway

    async def run(self, stop: asyncio.Event) -> None:
        self.part.runs.append(1)
        if len(self.part.runs) == 1:
            raise RuntimeError("boom")
        self.gateway.health.report("worker:flaky", True, "recovered")
        self.part.recovered.set()
        await stop.wait()


class FlakyPart:
    """A part whose worker crashes once, then reports healthy; it also adds a route."""

    name = "tests.flaky"
    mounts: Sequence[tuple[str, ASGIApp]] = ()
    raw_routes: Mapping[str, ASGIApp] = {}

    def __init__(self) -> None:
        self.runs: list[int] = []
        self.recovered = asyncio.Event()
        self.router = APIRouter()

        @self.router.get("/part-route")
        async def part_route() -> dict[str, int]:
            return {"runs": len(self.runs)}

    async def on_startup(self, gateway: Gateway) -> None:
        return None

    def workers(self, gateway: Gateway) -> Sequence[Worker]:
        return [_FlakyWorker(self, gateway)]

    def readiness(self, gateway: Gateway) -> Readiness:
        return {}


async def test_health_readiness_and_metrics(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path), parts=())
    async with serve_asgi(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["store"] == {
            "ok": True,
            "detail": "sqlite",
            "since": ready.json()["checks"]["store"]["since"],
        }
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert "python_info" in metrics.text or "process_" in metrics.text
    # The embedded default: a SQLite file and a generated 0600 key in the data dir.
    assert (tmp_path / "slackbridge.db").exists()
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


async def test_crashed_worker_is_restarted_and_readiness_follows(
    tmp_path: Path,
) -> None:
    seen: list[Gateway] = []
    flaky = FlakyPart()
    part: Part = flaky  # a Part by its shape: no registration, no module
    app = create_app(settings_for(tmp_path), parts=[part], on_ready=seen.append)
    async with serve_asgi(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        await asyncio.wait_for(flaky.recovered.wait(), timeout=10)
        assert (await client.get("/part-route")).json() == {"runs": 2}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["worker:flaky"]["detail"] == "recovered"
        seen[0].health.report("socket:A1", False, "disconnected")
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["status"] == "unavailable"


async def test_young_collections_are_rarer_while_the_gateway_runs(tmp_path: Path) -> None:
    import gc

    from slackbridge import server

    before = gc.get_threshold()
    app = create_app(settings_for(tmp_path), parts=())
    async with app.router.lifespan_context(app):
        running = gc.get_threshold()
        assert running[0] == server._YOUNG_GC_THRESHOLD > before[0]
        assert running[1:] == before[1:]
    assert gc.get_threshold() == before  # given back at shutdown


async def test_each_queues_backlog_is_in_readiness_and_metrics(tmp_path: Path) -> None:
    ready_gateways: list[Gateway] = []
    app = create_app(settings_for(tmp_path), parts=(), on_ready=ready_gateways.append)
    async with serve_asgi(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        (gateway,) = ready_gateways
        # No worker runs (no parts): the rows wait.
        await InboxRepository(gateway.db, gateway.keyring).insert_many(
            [NewInboxItem(dedupe_key=f"k{n}", kind="events", body=b"{}") for n in range(3)]
        )
        ready = await client.get("/readyz")
        assert ready.status_code == 200  # a backlog is reported, not a reason to be unready
        queues = ready.json()["checks"]["queues"]
        assert queues["ok"] is True
        assert queues["backlog"]["inbox"]["depth"] == 3
        assert queues["backlog"]["inbox"]["oldest_seconds"] >= 0
        assert queues["backlog"]["deliveries"] == {"depth": 0, "oldest_seconds": 0.0}
        assert queues["backlog"]["outbox"] == {"depth": 0, "oldest_seconds": 0.0}
        metrics = (await client.get("/metrics")).text
        assert 'slackbridge_queue_depth{queue="inbox"} 3.0' in metrics
        assert 'slackbridge_queue_oldest_seconds{queue="deliveries"} 0.0' in metrics
