"""The emulator on a real loopback port, for the official Slack clients to talk to.

Conformance tests use slack_sdk and slack_bolt exactly as an app would against Slack, with only
the base URLs changed. Every server here listens on 127.0.0.1 and stops with its test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from slackbridge.emulator import create_app
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import EmulatorState
from tests.support.servers import serve_asgi

ACME = "T0ACME0001"
ALICE, BOB, CAROL = "U0ACME0001", "U0ACME0002", "U0ACME0003"
GENERAL, SUPPORT, STAFF = "C0ACME0GEN", "C0ACME0SUP", "G0ACME0STF"

# slack_sdk's AsyncWebClient sends client credentials (oauth.v2.access) with aiohttp's BasicAuth,
# which aiohttp 3.12+ deprecates; the SDK is what is under test here, so its warning is tolerated.
SDK_BASIC_AUTH_WARNING = "ignore:BasicAuth is deprecated:DeprecationWarning"

DEADLINE = 10.0  # seconds any single wait in these tests may take

T = TypeVar("T")


@dataclass
class Emulator:
    """A running emulator: its state, its base URL and a control-API client."""

    state: EmulatorState
    url: str
    control: httpx.AsyncClient

    @property
    def api_url(self) -> str:
        """The Web API base URL, as slack_sdk's ``base_url`` wants it (trailing slash)."""
        return f"{self.url}/api/"

    async def control_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.control.post(f"/_emulator/{path}", json=body)
        data: dict[str, Any] = response.json()
        assert response.status_code == 200, data
        return data


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    state = build_state(rate_limits=False)
    async with (
        serve_asgi(create_app(state), shutdown_timeout=3) as server,
        httpx.AsyncClient(base_url=server.url, timeout=DEADLINE) as control,
    ):
        yield Emulator(state=state, url=server.url, control=control)


async def eventually(
    probe: Callable[[], T | None] | Callable[[], Awaitable[T | None]],
    what: str,
    within: float = DEADLINE,
) -> T:
    """Poll ``probe`` until it returns something truthy, or fail saying ``what`` never happened."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.02)


async def next_item(queue: asyncio.Queue[T], what: str, within: float = DEADLINE) -> T:
    """The next item from ``queue``, or fail saying ``what`` never arrived."""
    try:
        return await asyncio.wait_for(queue.get(), within)
    except TimeoutError:
        pytest.fail(f"timed out after {within:.0f}s waiting for {what}")
