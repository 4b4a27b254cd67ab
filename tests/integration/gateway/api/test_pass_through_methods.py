"""The pass-through's method denylist holds whatever the method name's case, and keeps
Enterprise Grid ``admin.*`` methods out unless a setting lets them in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.gateway.api.conftest import ACME, ApiStack, ProductServer, start_stack
from tests.integration.gateway.conftest import GatewayFactory


async def _call(stack: ApiStack, method: str) -> httpx.Response:
    """Call ``method`` through the pass-through; fail if a refused call reached Slack anyway."""
    before = len(stack.emulator.calls)
    answer = await stack.api.post(f"/slack/{ACME}/{method}", json={})
    if answer.status_code != 200:
        reached = [c.method for c in stack.emulator.calls[before:]]
        assert reached == [], f"{reached} reached Slack"
    return answer


@pytest.mark.parametrize(
    "method",
    [
        "Auth.revoke",
        "AUTH.REVOKE",
        "auth.Revoke",
        "auth.rEVOKE",
        "Apps.uninstall",
        "OAuth.v2.access",
    ],
)
async def test_denied_methods_are_refused_in_any_case(stack: ApiStack, method: str) -> None:
    answer = await _call(stack, method)
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "method_forbidden"
    workspace = await stack.api.get(f"/workspaces/{ACME}")
    assert workspace.json()["status"] == "active"


async def test_names_not_spelled_as_slack_spells_them_are_refused(stack: ApiStack) -> None:
    answer = await _call(stack, "Conversations.list")
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert "case-sensitive" in error["message"] and "chat.postMessage" in error["message"]
    fine = await stack.api.post(f"/slack/{ACME}/conversations.list", json={"limit": 1})
    assert fine.status_code == 200 and fine.json()["ok"] is True


@pytest.mark.parametrize("method", ["admin.conversations.search", "Admin.users.list"])
async def test_admin_methods_are_refused_by_default(stack: ApiStack, method: str) -> None:
    answer = await _call(stack, method)
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["code"] == "method_forbidden"
    assert "SLACKBRIDGE_PASS_THROUGH_ADMIN_METHODS" in error["message"]


@pytest.fixture
async def admin_stack(
    gateway_factory: GatewayFactory, product: ProductServer
) -> AsyncIterator[ApiStack]:
    s = await start_stack(gateway_factory, product, pass_through_admin_methods=True)
    async with s.api:
        yield s


async def test_the_setting_lets_admin_methods_through(admin_stack: ApiStack) -> None:
    answer = await admin_stack.api.post(
        f"/slack/{ACME}/admin.conversations.search", json={"query": "x"}
    )
    # Slack (here the emulator) answers for itself: the gateway let the call through.
    assert answer.status_code == 200, answer.text
    assert len(admin_stack.emulator.calls_to("admin.conversations.search")) == 1
    still = await _call(admin_stack, "ADMIN.conversations.search")
    assert still.status_code == 422  # the setting admits admin.*, not misspellings of it
