"""Every error the API answers: the right status, the stable code, the one JSON shape."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from slackbridge.store.repositories.api_keys import ApiKeysRepository
from tests.integration.gateway.api.conftest import ACME, ALICE, GENERAL, SUPPORT, ApiStack


def _error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


async def _fault(stack: ApiStack, **fault: Any) -> None:
    async with httpx.AsyncClient(base_url=stack.emulator.url) as control:
        answer = await control.post("/_emulator/faults", json=fault)
    assert answer.status_code == 200, answer.text


async def test_authentication(stack: ApiStack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway.url + "/api/v1") as anonymous:
        missing = await anonymous.get("/workspaces")
        _error(missing, 401, "missing_api_key")
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = await anonymous.get("/workspaces", headers={"Authorization": "Bearer sbk_nope"})
        _error(wrong, 401, "invalid_api_key")
        basic = await anonymous.get("/workspaces", headers={"Authorization": "Basic eDp5"})
        _error(basic, 401, "missing_api_key")
        keys = ApiKeysRepository(stack.gateway.gateway.db, stack.gateway.gateway.keyring)
        created = await keys.create("helpdesk")
        stored = {"Authorization": f"Bearer {created.secret}"}
        assert (await anonymous.get("/workspaces", headers=stored)).status_code == 200
        await keys.revoke(created.key.prefix)
        _error(await anonymous.get("/workspaces", headers=stored), 401, "invalid_api_key")


async def test_routing_errors(stack: ApiStack) -> None:
    _error(await stack.api.get("/nowhere"), 404, "not_found")
    _error(await stack.api.put("/messages"), 405, "method_not_allowed")


async def test_validation_errors_name_the_field(stack: ApiStack) -> None:
    no_text = await stack.api.post("/messages", json={"workspace": ACME, "channel": GENERAL})
    assert "text, blocks or attachments" in _error(no_text, 422, "invalid_request")["message"]
    bad_channel = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": "#general", "text": "x"}
    )
    error = _error(bad_channel, 422, "invalid_request")
    assert error["details"][0]["field"] == "channel"
    unknown = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": GENERAL, "text": "x", "colour": "red"}
    )
    assert _error(unknown, 422, "invalid_request")["details"][0]["field"] == "colour"
    both = await stack.api.post(
        "/messages",
        json={
            "workspace": ACME,
            "channel": GENERAL,
            "text": "x",
            "thread_ts": "1700000000.000100",
            "reply_to": "msg_abc",
        },
    )
    _error(both, 422, "invalid_request")
    not_json = await stack.api.post(
        "/messages", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    _error(not_json, 422, "invalid_request")
    bad_key = await stack.api.post(
        "/messages",
        json={"workspace": ACME, "channel": GENERAL, "text": "x"},
        headers={"Idempotency-Key": "has spaces"},
    )
    assert _error(bad_key, 422, "invalid_request")["details"][0]["field"] == "Idempotency-Key"
    bad_id = await stack.api.get("/messages/not-an-id")
    _error(bad_id, 422, "invalid_request")


async def test_unknown_workspace_and_message(stack: ApiStack) -> None:
    unknown = await stack.api.post(
        "/messages", json={"workspace": "T0NOSUCH00", "channel": GENERAL, "text": "x"}
    )
    _error(unknown, 404, "workspace_not_found")
    _error(await stack.api.get("/messages/msg_doesnotexist"), 404, "message_not_found")
    update = await stack.api.post(
        "/messages/update", json={"message_id": "msg_doesnotexist", "text": "x"}
    )
    _error(update, 404, "message_not_found")
    _error(await stack.api.get("/workspaces/T0NOSUCH00"), 404, "workspace_not_found")
    _error(await stack.api.delete("/workspaces/T0NOSUCH00"), 404, "workspace_not_found")
    _error(
        await stack.api.get("/workspaces/T0NOSUCH00/users/U0ACME0001"), 404, "workspace_not_found"
    )
    _error(await stack.api.post("/slack/T0NOSUCH00/auth.test", json={}), 404, "workspace_not_found")


async def test_references_to_other_operations(stack: ApiStack) -> None:
    posted = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": SUPPORT, "text": "root"}
    )
    root = posted.json()["id"]
    elsewhere = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": GENERAL, "text": "r", "reply_to": root}
    )
    assert "another channel" in _error(elsewhere, 422, "invalid_request")["message"]
    ephemeral = await stack.api.post(
        "/messages/ephemeral",
        json={"workspace": ACME, "channel": SUPPORT, "user": ALICE, "text": "e"},
    )
    not_a_post = await stack.api.post(
        "/messages/update", json={"message_id": ephemeral.json()["id"], "text": "x"}
    )
    _error(not_a_post, 422, "invalid_request")
    other_team = await stack.api.post(
        "/messages/delete", json={"message_id": root, "workspace": "T0GLBX0001"}
    )
    _error(other_team, 404, "message_not_found")


async def test_file_upload_errors(stack: ApiStack) -> None:
    wrong_type = await stack.api.post(
        "/files", content=b"hello", headers={"Content-Type": "text/plain"}
    )
    _error(wrong_type, 415, "unsupported_media_type")
    no_file = await stack.api.post(
        "/files",
        data={"workspace": ACME, "channel": GENERAL},
        files={"attachment": ("a.txt", b"x")},
    )
    _error(no_file, 422, "invalid_request")
    too_big = await stack.api.post(
        "/files",
        data={"workspace": ACME, "channel": GENERAL},
        files={"file": ("big.bin", b"\0" * (10 * 1024 * 1024 + 1))},
    )
    _error(too_big, 413, "payload_too_large")
    bad_base64 = await stack.api.post(
        "/files",
        json={"workspace": ACME, "filename": "a.txt", "content_base64": "a"},
    )
    _error(bad_base64, 422, "invalid_request")
    no_channel = await stack.api.post(
        "/files",
        json={
            "workspace": ACME,
            "filename": "a.txt",
            "thread_ts": "1700000000.000100",
            "content_base64": base64.b64encode(b"x").decode(),
        },
    )
    _error(no_channel, 422, "invalid_request")


async def test_synchronous_calls_report_slack_trouble(stack: ApiStack) -> None:
    user = f"/workspaces/{ACME}/users/{ALICE}"
    await _fault(stack, method="users.info", status=500, times=1)
    _error(await stack.api.get(user, params={"refresh": "true"}), 503, "slack_unavailable")
    await _fault(stack, method="users.info", status=429, retry_after=30, times=1)
    limited = await stack.api.get(user, params={"refresh": "true"})
    _error(limited, 429, "rate_limited")
    assert 25 <= int(limited.headers["retry-after"]) <= 30
    # The lane stays blocked for the Retry-After without asking Slack again.
    _error(await stack.api.get(user, params={"refresh": "true"}), 429, "rate_limited")
    trigger = await stack.api.post(
        "/views/open", json={"workspace": ACME, "trigger_id": "12.34.nope", "view": {}}
    )
    error = _error(trigger, 422, "slack_error")
    assert error["details"][0]["slack_error"] == "invalid_trigger_id"


async def test_token_death_disconnects_the_workspace(stack: ApiStack) -> None:
    await _fault(stack, method="chat.postMessage", error="invalid_auth", times=1)
    queued = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": GENERAL, "text": "doomed"}
    )
    status = await stack.wait_status(queued.json()["id"])
    assert (status["status"], status["error"]["code"]) == ("failed", "workspace_disconnected")
    await stack.product.wait_for(lambda p: bool(p.of_type("workspace.disconnected")))
    # The outcome webhook travels in the operation's own lane: it may come after the other.
    await stack.product.wait_for(lambda p: p.outcome_of(queued.json()["id"]) is not None)
    event = stack.product.outcome_of(queued.json()["id"])
    assert event is not None and event["type"] == "message.failed"
    after = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": GENERAL, "text": "later"}
    )
    _error(after, 503, "workspace_disconnected")
    workspace = await stack.api.get(f"/workspaces/{ACME}")
    assert workspace.json()["status"] == "disconnected"


async def test_uninstalled_workspace(stack: ApiStack) -> None:
    app_id = (await stack.api.get(f"/workspaces/{ACME}")).json()["app_id"]
    async with httpx.AsyncClient(base_url=stack.emulator.url) as control:
        answer = await control.post(f"/_emulator/apps/{app_id}/uninstall", json={"team_id": ACME})
    assert answer.status_code == 200, answer.text
    await stack.product.wait_for(lambda p: bool(p.of_type("workspace.uninstalled")))
    after = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": GENERAL, "text": "too late"}
    )
    _error(after, 503, "workspace_uninstalled")


async def test_the_pass_through_shares_the_rate_limiter(stack: ApiStack) -> None:
    await _fault(stack, method="conversations.info", status=429, retry_after=30, times=1)
    path = f"/slack/{ACME}/conversations.info"
    limited = await stack.api.post(path, json={"channel": GENERAL})
    _error(limited, 429, "rate_limited")
    assert 25 <= int(limited.headers["retry-after"]) <= 30
    calls = len(stack.emulator.calls_to("conversations.info"))
    # Held back by the limiter for the Retry-After, without asking Slack again ...
    _error(await stack.api.post(path, json={"channel": GENERAL}), 429, "rate_limited")
    assert len(stack.emulator.calls_to("conversations.info")) == calls
    # ... while other methods of the workspace go on.
    other = await stack.api.post(f"/slack/{ACME}/conversations.list", json={"limit": 1})
    assert other.status_code == 200 and other.json()["ok"] is True, other.text
