"""The workspaces edge's own Web API calls take their place in the gateway's rate limiter.

Installing (``oauth.v2.access``, ``auth.test``), removing (``auth.revoke``) and
:func:`call_as_bot` ask the ``reserve_call`` port before calling Slack, so they are counted in
the same per-workspace buckets as the outbox's calls, and wait when those are spent.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from slackbridge.slack.outbound.web_api import outbound_of
from slackbridge.slack.workspaces.lifecycle import remove_workspace
from slackbridge.slack.workspaces.tokens import call_as_bot
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.install.test_lifecycle import ACME, ALICE, INSTALL_PARTS, _install
from tests.support.stack import GatewayServer


def _recording(gw: GatewayServer) -> list[tuple[str, str]]:
    """Record every reservation the gateway's ports make, then make it as composed."""
    seen: list[tuple[str, str]] = []
    gateway = gw.gateway
    reserve = gateway.ports.reserve_call

    async def recorded(key: str, method: str, max_wait: float) -> float:
        seen.append((key, method))
        return await reserve(key, method, max_wait)

    gateway.ports = dataclasses.replace(gateway.ports, reserve_call=recorded)
    return seen


async def test_install_and_removal_take_the_limiter_first(
    gateway_factory: GatewayFactory,
) -> None:
    gw = await gateway_factory(parts=INSTALL_PARTS)
    await gw.provision()
    seen = _recording(gw)
    await _install(gw, ACME, ALICE)
    assert ("auth.test" in [m for _k, m in seen]) and (ACME, "auth.test") in seen
    assert [m for _k, m in seen].count("oauth.v2.access") == 1

    await call_as_bot(gw.gateway, ACME, "auth.test")
    assert seen[-1] == (ACME, "auth.test")

    (result,) = await remove_workspace(gw.gateway, ACME, actor="test")
    assert result.revoked
    assert seen[-1] == (ACME, "auth.revoke")


async def test_a_spent_budget_holds_the_call_back(
    gateway_factory: GatewayFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = await gateway_factory(parts=INSTALL_PARTS)
    await gw.provision()
    await _install(gw, ACME, ALICE)
    outbound = outbound_of(gw.gateway)
    # The limiter says auth.test must wait: the call waits (up to the edge's bound) before Slack.
    waits: list[float] = []
    real = outbound.acquire

    async def spent(team_id: str, method: str, channel: str | None, *, max_wait: float) -> float:
        if method == "auth.test" and not waits:
            waits.append(max_wait)
            await asyncio.sleep(0.2)  # what a limiter that must hold the call does
        return await real(team_id, method, channel, max_wait=max_wait)

    monkeypatch.setattr(outbound, "acquire", spent)
    before = len(gw.emulator.calls_to("auth.test"))
    started = asyncio.get_running_loop().time()
    await call_as_bot(gw.gateway, ACME, "auth.test")
    assert waits and waits[0] > 0  # it asked the limiter, allowing a wait
    assert asyncio.get_running_loop().time() - started >= 0.2
    assert len(gw.emulator.calls_to("auth.test")) == before + 1
