"""GET /_emulator/ratelimits/report: per workspace and bucket, the peak calls and the 429s, so an
acceptance test can assert "no bucket exceeded, zero 429s"."""

from __future__ import annotations

import httpx

from slackbridge.emulator import create_app
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.testing import emulator_client, install_app_for_tests
from tests.integration.emulator.helpers import ACME, GENERAL, GLOBEX


async def _post(client: httpx.AsyncClient, token: str, channel: str) -> int:
    response = await client.post(
        "/api/chat.postMessage",
        data={"channel": channel, "text": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


async def test_report_with_limits_on() -> None:
    state = build_state(rate_limits=True)
    state.rate_limiter.clock = lambda: 1_000.0  # time stands still: no refill
    acme = install_app_for_tests(state, ACME, channels=["general"])
    globex = install_app_for_tests(state, GLOBEX, channels=["general"])
    async with emulator_client(create_app(state)) as client:
        clean = (await client.get("/_emulator/ratelimits/report")).json()
        assert clean == {
            "ok": True,
            "clean": True,
            "responses_429": 0,
            "fault_429s": 0,
            "workspaces": [],
        }
        statuses = [await _post(client, acme.bot_token, GENERAL) for _ in range(4)]
        assert statuses == [200, 200, 200, 429]  # burst 3 per channel
        assert await _post(client, globex.bot_token, "C0GLBX0GEN") == 200
        auth = await client.post("/api/auth.test", headers=acme.bot_headers)
        assert auth.status_code == 200

        report = (await client.get("/_emulator/ratelimits/report")).json()
        assert report["clean"] is False and report["responses_429"] == 1
        teams = {w["team_id"]: w for w in report["workspaces"]}
        assert teams[GLOBEX]["clean"] is True and teams[ACME]["clean"] is False
        buckets = teams[ACME]["buckets"]
        channel = next(b for b in buckets if b["scope"] == "post_channel")
        assert channel == {
            "scope": "post_channel",
            "method": "chat.postMessage",
            "app_id": acme.app.id,
            "channel_id": GENERAL,
            "calls": 4,
            "peak_per_minute": 4,
            "peak_per_second": 4,
            "per_minute": 60.0,
            "burst": 3,
            "over_limit": 1,
            "responses_429": 1,
            "exceeded": True,
        }
        tier = next(b for b in buckets if b["method"] == "auth.test")
        assert tier["scope"] == "tier4" and tier["calls"] == 1 and tier["exceeded"] is False

        only_globex = (await client.get(f"/_emulator/ratelimits/report?team_id={GLOBEX}")).json()
        assert [w["team_id"] for w in only_globex["workspaces"]] == [GLOBEX]
        missing = await client.get("/_emulator/ratelimits/report?team_id=T0NOPE")
        assert missing.status_code == 404

        await client.post("/_emulator/ratelimits", json={"reset": True})
        assert (await client.get("/_emulator/ratelimits/report")).json()["workspaces"] == []


async def test_report_with_limits_off_and_fault_429s() -> None:
    state = build_state(rate_limits=False)
    state.rate_limiter.clock = lambda: 1_000.0
    acme = install_app_for_tests(state, ACME, channels=["general"])
    async with emulator_client(create_app(state)) as client:
        statuses = [await _post(client, acme.bot_token, GENERAL) for _ in range(4)]
        assert statuses == [200] * 4  # not enforced...
        report = (await client.get("/_emulator/ratelimits/report")).json()
        # ...but the report knows the channel's bucket was exceeded.
        assert report["responses_429"] == 0 and report["clean"] is False
        channel = next(
            b for b in report["workspaces"][0]["buckets"] if b["scope"] == "post_channel"
        )
        assert channel["over_limit"] == 1 and channel["exceeded"] is True

        await client.post("/_emulator/ratelimits", json={"reset": True})
        await client.post(
            "/_emulator/faults", json={"method": "users.list", "status": 429, "times": 1}
        )
        faulted = await client.post("/api/users.list", headers=acme.bot_headers)
        assert faulted.status_code == 429
        report = (await client.get("/_emulator/ratelimits/report")).json()
        assert report["fault_429s"] == 1 and report["responses_429"] == 1
        assert report["clean"] is False
