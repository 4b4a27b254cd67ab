"""/api/{method}: arguments, authentication, scopes and Slack's error envelopes."""

from __future__ import annotations

import httpx
import orjson
import pytest

from slackbridge.emulator.state import AppToken, EmulatorState
from slackbridge.emulator.testing import TestInstall, install_app_for_tests
from slackbridge.emulator.webapi.registry import REGISTRY, CallContext, MethodSpec
from tests.integration.emulator.helpers import ACME, GENERAL, call


async def test_unknown_method(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat.doesNotExist")
    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "error": "unknown_method",
        "req_method": "chat.doesNotExist",
    }


async def test_token_errors(client: httpx.AsyncClient, bot: TestInstall) -> None:
    assert (await call(client, "users.list"))["error"] == "not_authed"
    assert (await call(client, "users.list", "xoxb-nope"))["error"] == "invalid_auth"


async def test_token_in_query_or_form(client: httpx.AsyncClient, bot: TestInstall) -> None:
    by_query = await client.get("/api/team.info", params={"token": bot.bot_token})
    assert by_query.json()["team"]["id"] == ACME
    by_form = await client.post("/api/team.info", data={"token": bot.bot_token})
    assert by_form.json()["ok"] is True


async def test_json_body_needs_bearer_header(client: httpx.AsyncClient, bot: TestInstall) -> None:
    body = {"channel": GENERAL, "text": "hi", "token": bot.bot_token}
    headers = {"Content-Type": "application/json; charset=utf-8"}
    in_body = await client.post("/api/chat.postMessage", content=_json(body), headers=headers)
    assert in_body.json()["error"] == "not_authed"
    with_header = await client.post(
        "/api/chat.postMessage",
        content=_json(body),
        headers={**headers, "Authorization": f"Bearer {bot.bot_token}"},
    )
    assert with_header.json()["ok"] is True
    assert "warning" not in with_header.json()


async def test_json_without_charset_warns(client: httpx.AsyncClient, bot: TestInstall) -> None:
    response = await client.post(
        "/api/chat.postMessage",
        json={"channel": GENERAL, "text": "hi"},
        headers=bot.bot_headers,
    )
    body = response.json()
    assert body["ok"] is True
    assert body["warning"] == "missing_charset"
    assert body["response_metadata"]["warnings"] == ["missing_charset"]


@pytest.mark.parametrize(
    ("content", "content_type", "error"),
    [
        (b"{nope", "application/json; charset=utf-8", "invalid_json"),
        (b"[1, 2]", "application/json; charset=utf-8", "json_not_object"),
        (b"<a/>", "application/xml", "invalid_post_type"),
    ],
)
async def test_bad_bodies(
    client: httpx.AsyncClient, bot: TestInstall, content: bytes, content_type: str, error: str
) -> None:
    response = await client.post(
        "/api/chat.postMessage",
        content=content,
        headers={**bot.bot_headers, "Content-Type": content_type},
    )
    assert response.status_code == 200
    assert response.json()["error"] == error


async def test_body_without_content_type(client: httpx.AsyncClient, bot: TestInstall) -> None:
    response = await client.post(
        "/api/chat.postMessage", content=b"channel=x", headers=bot.bot_headers
    )
    assert response.json()["error"] == "missing_post_type"


async def test_multipart_form(client: httpx.AsyncClient, bot: TestInstall) -> None:
    response = await client.post(
        "/api/chat.postMessage",
        data={"channel": GENERAL, "text": "multi"},
        files={"unused": ("a.txt", b"x")},
        headers=bot.bot_headers,
    )
    assert response.json()["message"]["text"] == "multi"


async def test_missing_scope(client: httpx.AsyncClient, state: EmulatorState) -> None:
    inst = install_app_for_tests(state, ACME, ["chat:write"])
    body = await call(client, "users.list", inst.bot_token)
    assert body == {
        "ok": False,
        "error": "missing_scope",
        "needed": "users:read",
        "provided": "chat:write",
    }


async def test_revoked_expired_and_uninstalled(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    token = state.tokens[bot.bot_token]
    token.revoked = True
    assert (await call(client, "team.info", bot.bot_token))["error"] == "token_revoked"
    token.revoked = False
    token.expires_at = state.now() - 1
    assert (await call(client, "team.info", bot.bot_token))["error"] == "token_expired"
    token.expires_at = None
    bot.installation.status = "uninstalled"
    assert (await call(client, "team.info", bot.bot_token))["error"] == "account_inactive"
    assert (await call(client, "team.info", bot.user_token))["error"] == "token_revoked"


async def test_wrong_token_types(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    state.app_tokens["xapp-1-test"] = AppToken("xapp-1-test", bot.app.id, ["connections:write"])
    assert (await call(client, "team.info", "xapp-1-test"))["error"] == "not_allowed_token_type"
    config = await call(client, "team.info", state.configuration_token)
    assert config["error"] == "not_allowed_token_type"


async def test_unexpected_failure_is_internal_error(
    client: httpx.AsyncClient, bot: TestInstall, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: CallContext) -> dict[str, object]:
        raise RuntimeError("boom")

    monkeypatch.setitem(REGISTRY, "test.broken", MethodSpec("test.broken", broken, 4, (), "token"))
    response = await client.post("/api/test.broken", headers=bot.bot_headers)
    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": "internal_error"}


def _json(data: object) -> bytes:
    return orjson.dumps(data)


async def test_malformed_multipart(client: httpx.AsyncClient, bot: TestInstall) -> None:
    response = await client.post(
        "/api/chat.postMessage",
        content=b"--nope\r\ngarbage",
        headers={**bot.bot_headers, "Content-Type": "multipart/form-data"},
    )
    assert response.status_code == 200
    assert response.json()["error"] == "invalid_form_data"


async def test_api_test_echoes_its_arguments(client: httpx.AsyncClient) -> None:
    assert await call(client, "api.test") == {"ok": True}
    assert await call(client, "api.test", foo="bar") == {"ok": True, "args": {"foo": "bar"}}
    failed = await call(client, "api.test", error="my_error", foo="bar")
    assert failed == {"ok": False, "error": "my_error", "args": {"error": "my_error", "foo": "bar"}}
