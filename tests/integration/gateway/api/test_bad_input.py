"""Malformed, mistyped, oversized and misrouted requests: each gets the API's error shape with
the right status, never a 5xx or a framework's own answer."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from slackbridge.api.schemas_ops import MAX_BODY_BYTES, MAX_UPLOAD_BODY_BYTES
from tests.integration.gateway.api.conftest import ACME, API_KEY, GENERAL
from tests.integration.gateway.conftest import GatewayFactory


@pytest.fixture
async def api(gateway_factory: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a gateway with an API key and no workspace (none is needed to be refused)."""
    gw = await gateway_factory(api_keys=API_KEY)
    async with httpx.AsyncClient(
        base_url=gw.url + "/api/v1", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60
    ) as client:
        yield client


def _error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def _post(text_len: int) -> bytes:
    return (
        b'{"workspace": "T0ACME0001", "channel": "C0ACME0GEN", "text": "' + b"x" * text_len + b'"}'
    )


async def test_a_body_over_the_limit_is_413_before_it_is_read(api: httpx.AsyncClient) -> None:
    declared = await api.post(
        "/messages", content=_post(MAX_BODY_BYTES), headers={"Content-Type": "application/json"}
    )
    error = _error(declared, 413, "payload_too_large")
    assert str(MAX_BODY_BYTES) in error["message"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        body = _post(MAX_BODY_BYTES)
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    streamed = await api.post(
        "/messages", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _error(streamed, 413, "payload_too_large")
    for path in ("/views/update", f"/slack/{ACME}/chat.postMessage", "/responses"):
        big = await api.post(
            path, content=_post(MAX_BODY_BYTES), headers={"Content-Type": "application/json"}
        )
        _error(big, 413, "payload_too_large")
    # Just under the limit the body is read and judged on its content instead.
    _error(
        await api.post(
            "/messages", content=_post(50_000), headers={"Content-Type": "application/json"}
        ),
        422,
        "invalid_request",
    )


async def test_uploads_have_a_limit_of_their_own(api: httpx.AsyncClient) -> None:
    two_mib = base64.b64encode(b"\0" * 2 * 1024 * 1024).decode()
    body = {"workspace": "T0NOSUCH00", "filename": "a.bin", "content_base64": two_mib}
    # Over the 1 MiB of other routes, under the upload limit: read, and refused for the team.
    _error(await api.post("/files", json=body), 404, "workspace_not_found")
    huge = b"{" + b" " * MAX_UPLOAD_BODY_BYTES + b"}"
    _error(
        await api.post("/files", content=huge, headers={"Content-Type": "application/json"}),
        413,
        "payload_too_large",
    )


async def test_malformed_json_says_so(api: httpx.AsyncClient) -> None:
    for raw in (b'{"workspace": 5', b"nope", b'{"a": 1,}', b"\xff\xfe"):
        answer = await api.post(
            "/messages", content=raw, headers={"Content-Type": "application/json"}
        )
        error = _error(answer, 422, "invalid_request")
        assert error["details"][0]["field"] == "body", error
        assert "not valid JSON" in error["message"] or "body" in error["message"], error
    not_json = await api.post(
        "/messages", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in _error(not_json, 422, "invalid_request")["message"]
    for body in ([1, 2], "text", 5, None):
        answer = await api.post("/messages", json=body)
        error = _error(answer, 422, "invalid_request")
        assert "JSON object" in error["message"], error
    plain = await api.post("/messages", content=b"hello", headers={"Content-Type": "text/plain"})
    assert "JSON object" in _error(plain, 422, "invalid_request")["message"]
    passthrough = await api.post(f"/slack/{ACME}/auth.test", json=[1])
    _error(passthrough, 422, "invalid_request")


async def test_wrong_types_name_each_field(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/messages", json={"workspace": 5, "channel": ["C1"], "text": {"a": 1}, "mrkdwn": "maybe"}
    )
    error = _error(answer, 422, "invalid_request")
    assert {d["field"] for d in error["details"]} >= {"workspace", "channel", "text", "mrkdwn"}
    query = await api.get("/workspaces", params={"status": "sleeping"})
    assert _error(query, 422, "invalid_request")["details"][0]["field"] == "status"
    refresh = await api.get(f"/workspaces/{ACME}/users/U0ACME0001", params={"refresh": "often"})
    assert _error(refresh, 422, "invalid_request")["details"][0]["field"] == "refresh"
    view = await api.post("/views/open", json={"workspace": ACME, "trigger_id": 5, "view": []})
    assert {d["field"] for d in _error(view, 422, "invalid_request")["details"]} == {
        "trigger_id",
        "view",
    }
    ephemeral = await api.post(
        "/messages/ephemeral",
        json={"workspace": ACME, "channel": GENERAL, "user": "alice", "text": "x"},
    )
    assert _error(ephemeral, 422, "invalid_request")["details"][0]["field"] == "user"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/nowhere"),
        ("POST", "/nowhere"),
        ("GET", "/messages/msg_abc/extra"),
        ("DELETE", "/slack/T0ACME0001"),
        ("GET", "/workspaces/T0ACME0001/users/U0ACME0001/more"),
        ("GET", "/%0A"),
        ("GET", "/openapi.json/x"),
    ],
)
async def test_unknown_routes_are_404_in_the_error_shape(
    api: httpx.AsyncClient, method: str, path: str
) -> None:
    _error(await api.request(method, path), 404, "not_found")
    async with httpx.AsyncClient(base_url=str(api.base_url)) as anonymous:
        _error(await anonymous.request(method, path), 404, "not_found")


async def test_a_known_route_with_the_wrong_method_is_405(api: httpx.AsyncClient) -> None:
    for method, path in (
        ("DELETE", "/messages"),
        ("PUT", "/messages"),
        ("GET", "/files"),
        ("GET", "/views/open"),
    ):
        _error(await api.request(method, path), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "url",
    [
        "http://[x",  # urlsplit raises ValueError on it (found by schemathesis)
        "http://hooks.slack.com:port/commands/T1/1/a",
        "http://hooks.slack.com/commands/T1/1/abc",  # not https
        "https://hooks.slack.com/services/T1/B1/secret",  # an incoming webhook, not a response_url
    ],
)
async def test_a_response_url_that_is_not_slacks_is_refused_with_a_reason(
    api: httpx.AsyncClient, url: str
) -> None:
    answer = await api.post(
        "/responses", json={"workspace": ACME, "response_url": url, "text": "hi"}
    )
    _error(answer, 403, "response_url_forbidden")
