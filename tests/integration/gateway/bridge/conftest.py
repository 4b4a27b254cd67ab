"""Fixtures for the bridge's tests: the API stack (gateway + emulator + a recording product) and
helpers that wait for a conversation or a message to settle; ``inbound``: the same stack with the
bot in #support (where Slack's events for the inbound tests come from), ``act`` to do things in
Slack as a person."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.gateway.api.conftest import (
    ALICE,
    SUPPORT,
    ApiStack,
    ProductServer,
    product,
    start_stack,
)
from tests.integration.gateway.conftest import GatewayFactory

__all__ = ["act", "invite_bot", "product", "wait_conversation", "wait_message"]


@pytest.fixture
async def stack(gateway_factory: GatewayFactory, product: ProductServer) -> AsyncIterator[ApiStack]:
    s = await start_stack(gateway_factory, product)
    async with s.api:
        yield s


async def _poll(stack: ApiStack, path: str, done: Any, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        answer = await stack.api.get(path)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if done(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} is still {body}")
        await asyncio.sleep(0.05)


async def wait_conversation(
    stack: ApiStack, key: str, states: tuple[str, ...] = ("open", "failed"), within: float = 20
) -> dict[str, Any]:
    """Poll ``GET /conversations/{key}`` until its state is one of ``states``."""
    return await _poll(stack, f"/conversations/{key}", lambda b: b["state"] in states, within)


async def wait_message(
    stack: ApiStack, key: str, message_id: str, within: float = 20
) -> dict[str, Any]:
    """Poll the message until it is sent or failed."""
    return await _poll(
        stack,
        f"/conversations/{key}/messages/{message_id}",
        lambda b: b["state"] in ("sent", "failed"),
        within,
    )


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
async def inbound(
    gateway_factory: GatewayFactory, product: ProductServer
) -> AsyncIterator[ApiStack]:
    """The API stack with the bot a member of #support."""
    s = await start_stack(gateway_factory, product)
    await invite_bot(s, SUPPORT)
    async with s.api:
        yield s
