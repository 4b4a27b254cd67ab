"""/readyz shows what this gateway holds in the cluster (leases with fences, wake-ups)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from slackbridge.cluster import singleton
from slackbridge.server import Gateway, create_app
from slackbridge.settings import Settings
from tests.support.servers import serve_asgi


async def test_readyz_lists_the_leases_this_gateway_holds(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, public_url="http://127.0.0.1:1", apps=[], webhooks=[])
    ready: list[Gateway] = []
    app = create_app(
        settings,
        parts=("slackbridge.cluster", "slackbridge.compose_inbox"),
        on_ready=ready.append,
    )
    async with serve_asgi(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        deadline = time.monotonic() + 30
        while True:
            cluster = (await client.get("/readyz")).json()["checks"]["cluster"]
            if cluster["leases"]:
                break
            assert time.monotonic() < deadline, cluster
            await asyncio.sleep(0.05)
        assert cluster["ok"] is True
        assert cluster["leases"] == [{"name": "retention", "fence": 1}]
        assert cluster["wakeups"] == "in process"
        assert cluster["rate_limits"] == "this process"
        gateway = ready[0]
        stop = asyncio.Event()
        async with singleton(gateway, "catch-up", stop) as held:
            assert held is not None and held.fence == 1
            cluster = (await client.get("/readyz")).json()["checks"]["cluster"]
            assert {"name": "catch-up", "fence": 1} in cluster["leases"]
        cluster = (await client.get("/readyz")).json()["checks"]["cluster"]
        assert {"name": "catch-up", "fence": 1} not in cluster["leases"]
