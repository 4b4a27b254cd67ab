"""slackbridge.client against a fake transport: requests it sends, answers it parses, errors."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from slackbridge.client import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    Slackbridge,
    SlackbridgeError,
    UnavailableError,
    WebhookVerificationError,
    parse_webhook,
)
from slackbridge.product.signing import generate_secret, sign_headers

_OPERATION = {
    "id": "msg_1",
    "operation": "chat.postMessage",
    "workspace": "T1",
    "channel": "C1",
    "thread_ts": None,
    "status": "queued",
    "ts": None,
    "error": None,
    "attempts": 0,
    "created_at": "2024-01-01T00:00:00Z",
    "sent_at": None,
    "result": {},
    "replayed": False,
}


class _Recorder:
    def __init__(self, answers: list[httpx.Response]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)


def _client(*answers: httpx.Response) -> tuple[Slackbridge, _Recorder]:
    recorder = _Recorder(list(answers))
    return Slackbridge("http://gw.test", "sbk_k", transport=httpx.MockTransport(recorder)), recorder


async def test_post_sends_only_what_was_given() -> None:
    sb, seen = _client(httpx.Response(202, json=_OPERATION))
    async with sb:
        accepted = await sb.messages.post(
            "T1",
            "C1",
            "hi",
            persona={"username": "Bot"},
            reply_to="msg_0",
            idempotency_key="k-1",
        )
    assert accepted.id == "msg_1" and accepted.status == "queued"
    (request,) = seen.requests
    assert request.url == "http://gw.test/api/v1/messages"
    assert request.headers["authorization"] == "Bearer sbk_k"
    assert request.headers["idempotency-key"] == "k-1"
    assert json.loads(request.content) == {
        "workspace": "T1",
        "channel": "C1",
        "text": "hi",
        "reply_to": "msg_0",
        "persona": {"username": "Bot"},
    }


async def test_wait_polls_until_settled() -> None:
    sb, seen = _client(
        httpx.Response(200, json={**_OPERATION, "status": "sending"}),
        httpx.Response(200, json={**_OPERATION, "status": "sent", "ts": "1.000001"}),
    )
    async with sb:
        done = await sb.messages.wait("msg_1", every=0.001)
    assert (done.status, done.ts) == ("sent", "1.000001")
    assert [r.url.path for r in seen.requests] == ["/api/v1/messages/msg_1"] * 2


async def test_wait_gives_up() -> None:
    sb, _ = _client(*[httpx.Response(200, json=_OPERATION) for _ in range(50)])
    async with sb:
        with pytest.raises(TimeoutError):
            await sb.messages.wait("msg_1", within=0.01, every=0.001)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, InvalidRequestError),
        (422, InvalidRequestError),
        (429, RateLimitedError),
        (503, UnavailableError),
    ],
)
async def test_errors_carry_the_stable_code(status: int, kind: type[SlackbridgeError]) -> None:
    body: dict[str, Any] = {"error": {"code": "some_code", "message": "what happened"}}
    sb, _ = _client(httpx.Response(status, json=body, headers={"Retry-After": "4"}))
    async with sb:
        with pytest.raises(kind) as raised:
            await sb.workspaces.list()
    assert (raised.value.status, raised.value.code) == (status, "some_code")
    assert raised.value.message == "what happened"
    assert raised.value.retry_after == 4.0


async def test_a_non_json_error_still_raises() -> None:
    sb, _ = _client(httpx.Response(502, text="bad gateway"))
    async with sb:
        with pytest.raises(UnavailableError) as raised:
            await sb.users.info("T1", "U1")
    assert raised.value.code == "http_502"


async def test_pass_through_and_base_url_forms() -> None:
    sb, seen = _client(httpx.Response(200, json={"ok": True, "channels": []}))
    async with Slackbridge("http://gw.test/api/v1/", "k", transport=sb._http._transport) as again:
        answer = await again.slack.call("T1", "conversations.list", {"limit": 2}, as_user="U1")
    await sb.aclose()
    assert answer == {"ok": True, "channels": []}
    (request,) = seen.requests
    assert request.url == "http://gw.test/api/v1/slack/T1/conversations.list?as_user=U1"


async def test_ids_stay_in_their_path_segment() -> None:
    sb, seen = _client(
        httpx.Response(404, json={"error": {"code": "workspace_not_found", "message": "no"}}),
        httpx.Response(404, json={"error": {"code": "message_not_found", "message": "no"}}),
    )
    async with sb:
        with pytest.raises(NotFoundError):
            await sb.workspaces.get("T1/../../messages?x=1")
        with pytest.raises(NotFoundError):
            await sb.messages.get("msg_1/extra")
    assert [r.url.raw_path for r in seen.requests] == [
        b"/api/v1/workspaces/T1%2F..%2F..%2Fmessages%3Fx%3D1",
        b"/api/v1/messages/msg_1%2Fextra",
    ]


async def test_queued_operations_send_their_idempotency_key() -> None:
    answers = [httpx.Response(202, json=_OPERATION) for _ in range(4)]
    sb, seen = _client(*answers)
    async with sb:
        await sb.files.upload("T1", b"x", "a.txt", idempotency_key="k1")
        await sb.views.update("T1", {"type": "modal"}, view_id="V1", idempotency_key="k2")
        await sb.views.publish("T1", "U1", {"type": "home"}, idempotency_key="k3")
        await sb.responses.send("T1", "https://hooks.slack.com/x", "hi")
    assert [r.headers.get("idempotency-key") for r in seen.requests] == ["k1", "k2", "k3", None]
    assert [r.url.path for r in seen.requests] == [
        "/api/v1/files",
        "/api/v1/views/update",
        "/api/v1/views/publish",
        "/api/v1/responses",
    ]


def test_parse_webhook_verifies_and_types() -> None:
    secret = generate_secret()
    body = json.dumps(
        {
            "type": "message.delivered",
            "timestamp": "2024-01-01T00:00:00.000Z",
            "data": {"workspace": {"team_id": "T1"}, "channel": {"id": "C1", "kind": "public"}},
        }
    ).encode()
    headers = sign_headers(secret, "msg_w", int(time.time()), body)
    event = parse_webhook(secret, headers, body)
    assert (event.type, event.team_id, event.channel_id) == ("message.delivered", "T1", "C1")
    with pytest.raises(WebhookVerificationError):
        parse_webhook(generate_secret(), headers, body)
