"""Web API rate limits: tiers, chat.postMessage per channel and per workspace, the control API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from slackbridge.emulator import create_app
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import TestInstall, emulator_client, install_app_for_tests
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL, SUPPORT


@pytest.fixture
def limited() -> EmulatorState:
    state = build_state(rate_limits=True)
    # Time stands still: no bucket refills between calls, however slow the machine is.
    state.rate_limiter.clock = lambda: 1_000.0
    return state


@pytest.fixture
async def limited_client(limited: EmulatorState) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_client(create_app(limited)) as c:
        yield c


@pytest.fixture
def app_install(limited: EmulatorState) -> TestInstall:
    return install_app_for_tests(limited, ACME, channels=["general", "support"])


async def _post(client: httpx.AsyncClient, inst: TestInstall, channel: str) -> httpx.Response:
    return await client.post(
        "/api/chat.postMessage",
        data={"channel": channel, "text": "x"},
        headers=inst.bot_headers,
    )


async def test_post_message_per_channel_burst_then_429(
    limited_client: httpx.AsyncClient, app_install: TestInstall
) -> None:
    statuses = [(await _post(limited_client, app_install, GENERAL)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    over = await _post(limited_client, app_install, GENERAL)
    assert over.status_code == 429
    assert over.json() == {"ok": False, "error": "ratelimited"}
    retry_after = over.headers["Retry-After"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    # The same channel by name shares the bucket; another channel has its own.
    assert (await _post(limited_client, app_install, "#general")).status_code == 429
    assert (await _post(limited_client, app_install, SUPPORT)).status_code == 200


async def test_post_limits_are_per_app(
    limited_client: httpx.AsyncClient, app_install: TestInstall, limited: EmulatorState
) -> None:
    other = install_app_for_tests(limited, ACME, channels=["general"])
    for _ in range(3):
        await _post(limited_client, app_install, GENERAL)
    assert (await _post(limited_client, app_install, GENERAL)).status_code == 429
    assert (await _post(limited_client, other, GENERAL)).status_code == 200


async def test_workspace_ceiling(limited_client: httpx.AsyncClient, limited: EmulatorState) -> None:
    set_limits = await limited_client.post(
        "/_emulator/ratelimits",
        json={"overrides": {"post_workspace": {"per_minute": 60, "burst": 4}}},
    )
    assert set_limits.status_code == 200
    inst = install_app_for_tests(limited, ACME, ["chat:write", "chat:write.public"])
    channels = [GENERAL, SUPPORT]
    for i in range(4):
        assert (await _post(limited_client, inst, channels[i % 2])).status_code == 200
    # Both channels still have room of their own, but the workspace is out.
    assert (await _post(limited_client, inst, GENERAL)).status_code == 429
    snapshot = (await limited_client.get("/_emulator/ratelimits")).json()
    workspace = [c for c in snapshot["counters"] if c["scope"] == "post_workspace"]
    assert workspace[0]["allowed"] == 4 and workspace[0]["limited"] == 1


async def test_tier_limit_per_method(
    limited_client: httpx.AsyncClient, app_install: TestInstall
) -> None:
    await limited_client.post(
        "/_emulator/ratelimits", json={"overrides": {"users.info": {"per_minute": 2, "burst": 2}}}
    )
    answers = [
        await limited_client.post(
            "/api/users.info", data={"user": ALICE}, headers=app_install.bot_headers
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) == 30
    # Other methods of the same tier are counted separately.
    team = await limited_client.post("/api/team.info", headers=app_install.bot_headers)
    assert team.status_code == 200


async def test_disable_and_reset_through_control_api(
    limited_client: httpx.AsyncClient, app_install: TestInstall
) -> None:
    for _ in range(3):
        await _post(limited_client, app_install, GENERAL)
    assert (await _post(limited_client, app_install, GENERAL)).status_code == 429
    off = await limited_client.post("/_emulator/ratelimits", json={"enabled": False})
    assert off.json()["enabled"] is False
    assert (await _post(limited_client, app_install, GENERAL)).status_code == 200
    on = await limited_client.post("/_emulator/ratelimits", json={"enabled": True, "reset": True})
    assert on.json()["counters"] == []
    assert (await _post(limited_client, app_install, GENERAL)).status_code == 200


async def test_bad_rate_limit_settings(limited_client: httpx.AsyncClient) -> None:
    bad = await limited_client.post(
        "/_emulator/ratelimits", json={"overrides": {"tier2": {"per_minute": "lots"}}}
    )
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("overrides.tier2.per_minute")
    unknown = await limited_client.post("/_emulator/ratelimits", json={"speed": 3})
    assert unknown.status_code == 400 and "speed" in unknown.json()["detail"]


async def test_create_app_without_rate_limits() -> None:
    state = build_state(rate_limits=False)
    inst = install_app_for_tests(state, ACME, channels=["general"])
    async with emulator_client(create_app(state)) as client:
        statuses = {(await _post(client, inst, GENERAL)).status_code for _ in range(10)}
    assert statuses == {200}
