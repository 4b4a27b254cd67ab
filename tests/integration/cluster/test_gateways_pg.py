"""Two gateways on one PostgreSQL schema: a queue's wake-up reaches the other gateway, and
/readyz shows who holds what."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.stack import run_emulator, run_gateway

PARTS = ("slackbridge.cluster", "slackbridge.compose_inbox")


async def _until(check: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_wakeup_reaches_the_other_gateway(
    pg_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = pg_schema
    async with (
        run_emulator() as emulator,
        run_gateway(
            emulator, tmp_path / "a", parts=PARTS, database_url=url, database_schema=schema
        ) as a,
        run_gateway(
            emulator, tmp_path / "b", parts=PARTS, database_url=url, database_schema=schema
        ) as b,
        httpx.AsyncClient() as client,
    ):
        ready: dict[str, Any] = {}

        async def listening() -> bool:
            for name, gw in (("a", a), ("b", b)):
                ready[name] = (await client.get(gw.url + "/readyz")).json()["checks"]["cluster"]
            return all(r["wakeups"] == "listening" for r in ready.values())

        deadline = time.monotonic() + 30
        while not await listening():
            assert time.monotonic() < deadline, ready
            await asyncio.sleep(0.05)
        assert {r["rate_limits"] for r in ready.values()} == {"shared in PostgreSQL"}
        # One of the two holds retention; the other holds nothing.
        holders = [name for name, r in ready.items() if r["leases"]]
        assert len(holders) <= 1

        # Whatever b was signalled before is spent first; then only a's signal can wake it.
        await b.gateway.wakeups.wait("outbox", 0)
        woken = asyncio.ensure_future(b.gateway.wakeups.wait("outbox", 60))
        a.gateway.wakeups.signal("outbox")  # as the API does after committing a row
        await asyncio.wait_for(woken, 30)
