"""The 2025 history limits for non-Marketplace apps: conversations.history and .replies at one
request a minute and at most 15 messages a page, switched by a setting and the control API."""

from __future__ import annotations

import httpx
from typer.testing import CliRunner

from slackbridge.emulator import create_app
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import emulator_client, install_app_for_tests
from tests.integration.emulator.helpers import ACME, GENERAL, call


def _world() -> EmulatorState:
    state = build_state(rate_limits=True)
    state.rate_limiter.clock = lambda: 1_000.0  # no refill between calls
    return state


async def _fill(client: httpx.AsyncClient, token: str) -> str:
    root = await call(client, "chat.postMessage", token, channel=GENERAL, text="root")
    for i in range(19):
        await call(client, "chat.postMessage", token, channel=GENERAL, text=f"m{i}")
        await call(
            client, "chat.postMessage", token, channel=GENERAL, text=f"r{i}", thread_ts=root["ts"]
        )
    return str(root["ts"])


async def test_non_marketplace_profile_from_create_app() -> None:
    state = _world()
    bot = install_app_for_tests(state, ACME, channels=[GENERAL])
    state.rate_limits_enabled = False  # fill the channel freely
    async with emulator_client(create_app(state, history_limits="non_marketplace")) as client:
        root = await _fill(client, bot.bot_token)
        state.rate_limits_enabled = True
        first = await call(client, "conversations.history", bot.bot_token, channel=GENERAL)
        assert len(first["messages"]) == 15 and first["has_more"] is True
        second = await client.post(
            "/api/conversations.history",
            data={"channel": GENERAL, "limit": "100"},
            headers=bot.bot_headers,
        )
        assert second.status_code == 429 and second.headers["Retry-After"] == "60"
        replies = await call(
            client, "conversations.replies", bot.bot_token, channel=GENERAL, ts=root, limit=200
        )
        # The parent leads the first page, then at most 15 replies.
        assert len(replies["messages"]) == 16 and replies["has_more"] is True
        again = await client.post(
            "/api/conversations.replies",
            data={"channel": GENERAL, "ts": root},
            headers=bot.bot_headers,
        )
        assert again.status_code == 429
        limits = (await client.get("/_emulator/ratelimits")).json()
        assert limits["history"] == "non_marketplace" and limits["history_page_max"] == 15
        assert limits["limits"]["conversations.history"] == {"per_minute": 1, "burst": 1}


async def test_switching_profiles_through_the_control_api() -> None:
    state = _world()
    bot = install_app_for_tests(state, ACME, channels=[GENERAL])
    state.rate_limits_enabled = False  # fill the channel freely
    async with emulator_client(create_app(state)) as client:
        await _fill(client, bot.bot_token)
        state.rate_limits_enabled = True
        default = await call(client, "conversations.history", bot.bot_token, channel=GENERAL)
        assert len(default["messages"]) == 21  # the bot's channel_join and 20 posts
        switched = await client.post("/_emulator/ratelimits", json={"history": "non_marketplace"})
        assert switched.status_code == 200 and switched.json()["history"] == "non_marketplace"
        capped = await call(
            client, "conversations.history", bot.bot_token, channel=GENERAL, limit=50
        )
        assert len(capped["messages"]) == 15
        limited = await client.post(
            "/api/conversations.history", data={"channel": GENERAL}, headers=bot.bot_headers
        )
        assert limited.status_code == 429
        back = await client.post(
            "/_emulator/ratelimits", json={"history": "default", "reset": True}
        )
        assert back.json()["history"] == "default" and back.json()["history_page_max"] is None
        assert "conversations.history" not in back.json()["limits"]
        full = await call(client, "conversations.history", bot.bot_token, channel=GENERAL)
        assert len(full["messages"]) == 21
        bad = await client.post("/_emulator/ratelimits", json={"history": "marketplace"})
        assert bad.status_code == 400 and "history" in bad.json()["detail"]


def test_cli_refuses_an_unknown_history_profile() -> None:
    from slackbridge.cli import app

    result = CliRunner().invoke(app, ["emulator", "--history-limits", "sometimes", "--port", "1"])
    assert result.exit_code == 2
    assert "--history-limits" in result.output
