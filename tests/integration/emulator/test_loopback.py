"""The emulator on a real loopback port: dropped connections, latency, links from the request."""

from __future__ import annotations

import time

import httpx
import pytest

from slackbridge.emulator import create_app
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.testing import install_app_for_tests
from tests.integration.emulator.helpers import ACME, GENERAL
from tests.support.servers import serve_asgi


async def test_drop_latency_and_base_url_over_http() -> None:
    state = build_state(rate_limits=False)
    inst = install_app_for_tests(state, ACME, channels=["general"])
    async with (
        serve_asgi(create_app(state)) as server,
        httpx.AsyncClient(base_url=server.url, timeout=5) as client,
    ):
        await client.post(
            "/_emulator/faults", json={"method": "team.info", "drop": True, "times": 1}
        )
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/api/team.info", headers=inst.bot_headers)
        # The next call is served normally on a new connection.
        ok = await client.post("/api/team.info", headers=inst.bot_headers)
        assert ok.json()["ok"] is True

        await client.post(
            "/_emulator/faults", json={"method": "users.list", "latency": 0.2, "times": 1}
        )
        started = time.monotonic()
        slow = await client.post("/api/users.list", headers=inst.bot_headers)
        assert slow.json()["ok"] is True
        assert time.monotonic() - started >= 0.2

        link = await client.post(
            "/api/chat.getPermalink",
            data={"channel": GENERAL, "message_ts": state.channel(ACME, GENERAL).messages[0].ts},  # type: ignore[union-attr]
            headers=inst.bot_headers,
        )
    # Links point at wherever the emulator was reached.
    assert link.json()["permalink"].startswith(f"{server.url}/archives/{GENERAL}/p")
