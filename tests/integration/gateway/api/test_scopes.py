"""API key scopes: what a key may do (read, write, admin), in which workspaces, and whose
operations it sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from slackbridge.store.repositories.api_keys import ApiKeyScope, ApiKeysRepository
from tests.integration.gateway.api.conftest import (
    ACME,
    GENERAL,
    ApiStack,
    ProductServer,
    start_stack,
)
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.stack import browser, install_via_browser

GLOBEX, ERIN, GLOBEX_GENERAL = "T0GLBX0001", "U0GLBX0001", "C0GLBX0GEN"
GLOBEX_REF = "account-globex"


@pytest.fixture
async def two(gateway_factory: GatewayFactory, product: ProductServer) -> AsyncIterator[ApiStack]:
    """Acme (no ref) and Globex (installed with the product's ref ``account-globex``)."""
    s = await start_stack(gateway_factory, product)
    async with browser() as b:
        page = await install_via_browser(b, s.gateway, GLOBEX, ERIN, ref=GLOBEX_REF)
    assert page.status_code == 200, page.text
    async with s.api:
        yield s


@asynccontextmanager
async def _key(
    stack: ApiStack,
    permissions: str = "read,write",
    *,
    teams: tuple[str, ...] = (),
    refs: tuple[str, ...] = (),
) -> AsyncIterator[httpx.AsyncClient]:
    """A client using a new stored key with this scope."""
    gw = stack.gateway.gateway
    scope = ApiKeyScope(
        permissions=frozenset(permissions.split(",")), team_ids=teams, product_refs=refs
    )
    created = await ApiKeysRepository(gw.db, gw.keyring).create("test", scope)
    async with httpx.AsyncClient(
        base_url=stack.gateway.url + "/api/v1",
        headers={"Authorization": f"Bearer {created.secret}"},
        timeout=30.0,
    ) as client:
        yield client


def _error(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code, error
    return str(error["message"])


async def _post(api: httpx.AsyncClient, team: str = ACME, channel: str = GENERAL) -> str:
    answer = await api.post("/messages", json={"workspace": team, "channel": channel, "text": "x"})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


async def test_a_key_sees_and_changes_only_its_own_operations(stack: ApiStack) -> None:
    async with (
        _key(stack) as mine,
        _key(stack) as other,
        _key(stack, "read,write,admin") as admin,
    ):
        message_id = await _post(mine)
        ref = {"message_id": message_id}
        # Another key can't read, edit, delete or reply to it: the id is as good as unknown.
        _error(await other.get(f"/messages/{message_id}"), 404, "message_not_found")
        _error(
            await other.post("/messages/update", json={**ref, "text": "y"}),
            404,
            "message_not_found",
        )
        _error(await other.post("/messages/delete", json=ref), 404, "message_not_found")
        reply = {"workspace": ACME, "channel": GENERAL, "text": "r", "reply_to": message_id}
        _error(await other.post("/messages", json=reply), 404, "message_not_found")
        _error(await other.post("/messages/permalink", json=ref), 404, "message_not_found")

        assert (await mine.get(f"/messages/{message_id}")).status_code == 200
        assert (await admin.get(f"/messages/{message_id}")).status_code == 200
        # SLACKBRIDGE_API_KEYS has every permission: it sees every operation.
        assert (await stack.api.get(f"/messages/{message_id}")).status_code == 200
        sent = await stack.wait_status(message_id)
        assert sent["status"] == "sent"
        edited = await mine.post("/messages/update", json={**ref, "text": "edited"})
        assert edited.status_code == 202, edited.text
        deleted = await admin.post("/messages/delete", json=ref)
        assert deleted.status_code == 202, deleted.text
        # The admin's deletion is the admin's operation; the first key doesn't see it.
        _error(await mine.get(f"/messages/{deleted.json()['id']}"), 404, "message_not_found")
        for done in (edited.json()["id"], deleted.json()["id"]):
            assert (await stack.wait_status(done))["status"] == "sent"


async def test_permissions_gate_reads_writes_and_removal(stack: ApiStack) -> None:
    async with (
        _key(stack, "read") as reader,
        _key(stack, "write") as writer,
        _key(stack, "read,write") as worker,
        _key(stack, "admin") as admin,
    ):
        assert (await reader.get("/workspaces")).status_code == 200
        message = _error(await reader.post("/messages", json={}), 403, "permission_denied")
        assert "'write'" in message and "--scope" in message
        _error(await reader.post(f"/slack/{ACME}/auth.test", json={}), 403, "permission_denied")
        _error(await writer.get(f"/workspaces/{ACME}"), 403, "permission_denied")
        message_id = await _post(writer)
        _error(await writer.get(f"/messages/{message_id}"), 403, "permission_denied")

        _error(await worker.delete(f"/workspaces/{ACME}"), 403, "permission_denied")
        assert (await worker.get(f"/workspaces/{ACME}")).json()["status"] == "active"
        # admin includes read and write.
        assert (await admin.get(f"/messages/{message_id}")).status_code == 200
        removed = await admin.delete(f"/workspaces/{ACME}")
        assert removed.status_code == 200, removed.text
        assert [w["status"] for w in removed.json()["workspaces"]] == ["removed"]


async def test_a_key_limited_to_workspaces(two: ApiStack) -> None:
    async with _key(two, teams=(ACME,)) as acme, _key(two, "admin", teams=(ACME,)) as acme_admin:
        listed = (await acme.get("/workspaces")).json()["workspaces"]
        assert [w["team_id"] for w in listed] == [ACME]
        assert (await acme.get(f"/workspaces/{ACME}")).status_code == 200
        _error(await acme.get(f"/workspaces/{GLOBEX}"), 403, "workspace_forbidden")
        # A workspace slackbridge doesn't know answers the same: nothing to probe.
        _error(await acme.get("/workspaces/T0NOSUCH00"), 403, "workspace_forbidden")
        globex_post = {"workspace": GLOBEX, "channel": GLOBEX_GENERAL, "text": "x"}
        _error(await acme.post("/messages", json=globex_post), 403, "workspace_forbidden")
        _error(await acme.get(f"/workspaces/{GLOBEX}/users/{ERIN}"), 403, "workspace_forbidden")
        _error(await acme.post(f"/slack/{GLOBEX}/auth.test", json={}), 403, "workspace_forbidden")
        by_ts = {"workspace": GLOBEX, "channel": GLOBEX_GENERAL, "ts": "1700000000.000100"}
        _error(await acme.post("/messages/delete", json=by_ts), 403, "workspace_forbidden")
        assert (await acme.post(f"/slack/{ACME}/auth.test", json={})).json()["ok"] is True
        await _post(acme)

        # An admin key limited to Acme sees nothing of Globex, not even others' operations.
        globex_message = await _post(two.api, GLOBEX, GLOBEX_GENERAL)
        _error(await acme_admin.get(f"/messages/{globex_message}"), 404, "message_not_found")
        _error(await acme_admin.delete(f"/workspaces/{GLOBEX}"), 403, "workspace_forbidden")
        assert (await two.api.get(f"/workspaces/{GLOBEX}")).json()["status"] == "active"


async def test_a_key_limited_to_install_refs(two: ApiStack) -> None:
    async with _key(two, refs=(GLOBEX_REF,)) as globex:
        listed = (await globex.get("/workspaces")).json()["workspaces"]
        assert [w["team_id"] for w in listed] == [GLOBEX]
        await _post(globex, GLOBEX, GLOBEX_GENERAL)
        _error(
            await globex.post(
                "/messages", json={"workspace": ACME, "channel": GENERAL, "text": "x"}
            ),
            403,
            "workspace_forbidden",
        )
        # Install links only for its own refs, so what it installs stays in its scope.
        link = await globex.post("/workspaces/install-url", json={"product_ref": GLOBEX_REF})
        assert link.status_code == 200
        assert parse_qs(urlsplit(link.json()["url"]).query)["ref"] == [GLOBEX_REF]
        for body in ({"product_ref": "account-other"}, {}):
            _error(
                await globex.post("/workspaces/install-url", json=body), 403, "workspace_forbidden"
            )


async def test_a_limited_key_learns_nothing_of_another_workspaces_conversation(
    two: ApiStack,
) -> None:
    acme = {"workspace": ACME, "mode": "still", "channel": GENERAL, "card": {"text": "secret"}}
    created = await two.api.put("/conversations/shared-key", json=acme)
    assert created.status_code == 201, created.text
    async with _key(two, teams=(GLOBEX,)) as globex:
        mine = {"workspace": GLOBEX, "mode": "still", "channel": GLOBEX_GENERAL}
        taken = await globex.put("/conversations/shared-key", json={**mine, "card": {"text": "x"}})
        message = _error(taken, 409, "conversation_conflict")
        assert ACME not in message and "still" not in message and GENERAL not in message
        _error(await globex.get("/conversations/shared-key"), 404, "conversation_not_found")
        post = {"id": "m1", "author": {"persona": {"name": "x"}}, "text": "hi"}
        answer = await globex.post("/conversations/shared-key/messages", json=post)
        _error(answer, 404, "conversation_not_found")
        closing = await globex.post("/conversations/shared-key/close", json={})
        _error(closing, 404, "conversation_not_found")
        listed = await globex.get("/conversations")
        assert listed.status_code == 200 and listed.json()["conversations"] == []
        _error(await globex.get(f"/conversations?workspace={ACME}"), 403, "workspace_forbidden")
