"""Fixtures for the bridge's tests: the API stack (gateway + emulator + a recording product) and
helpers that wait for a conversation or a message to settle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.gateway.api.conftest import ApiStack, ProductServer, product, start_stack
from tests.integration.gateway.conftest import GatewayFactory

__all__ = ["product", "wait_conversation", "wait_message"]


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
