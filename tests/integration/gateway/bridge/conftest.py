"""Fixtures for the bridge's inbound tests: the API stack (gateway, emulator, a recording
product, an API key) with the bot in #support, where the conversations live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.gateway.api.conftest import (
    ALICE,
    SUPPORT,
    ApiStack,
    ProductServer,
    start_stack,
)
from tests.integration.gateway.api.conftest import product as product
from tests.integration.gateway.conftest import GatewayFactory


async def act(stack: ApiStack, path: str, **body: Any) -> dict[str, Any]:
    """POST to the emulator's control API as a person; asserts success."""
    async with httpx.AsyncClient(timeout=20.0) as client:
        response = await client.post(f"{stack.emulator.url}/_emulator/{path}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def invite_bot(stack: ApiStack, channel_id: str) -> None:
    from slackbridge.slack.workspaces.tokens import bot_token

    creds = await bot_token(stack.gateway.gateway, stack.team_id)
    await act(
        stack,
        "conversations/invite",
        channel_id=channel_id,
        user_id=ALICE,
        users=[creds.bot_user_id],
    )


@pytest.fixture
async def stack(gateway_factory: GatewayFactory, product: ProductServer) -> AsyncIterator[ApiStack]:
    s = await start_stack(gateway_factory, product)
    await invite_bot(s, SUPPORT)
    async with s.api:
        yield s
