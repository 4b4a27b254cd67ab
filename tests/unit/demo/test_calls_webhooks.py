"""The Calls service's webhooks, in process: /call as command.matched or as a plain
command.invoked answers through the response_url; workspace.* webhooks grant and forget."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from slackbridge.demo.calls import WEBHOOK_PATH, create_calls_app
from slackbridge.demo.calls.config import DEMO_ACCOUNTS
from slackbridge.product.signing import generate_secret, sign_headers

SECRET = generate_secret()
ACME = {"team_id": "T0ACME0001"}


class FakeApi:
    """The gateway's product API, recording what the service queues."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content) if request.content else {}
        self.requests.append((request.url.path, body))
        return httpx.Response(202, json={"id": f"msg_{len(self.requests)}", "status": "queued"})


async def _send(client: httpx.AsyncClient, n: int, kind: str, data: dict[str, Any]) -> Any:
    body = orjson.dumps({"type": kind, "timestamp": "2026-12-05T10:00:00Z", "data": data})
    headers = sign_headers(SECRET, f"msg_{kind}_{n}", int(time.time()), body)
    answer = await client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["outcome"]


async def test_call_answers_ephemerally_and_grants_come_and_go() -> None:
    api = FakeApi()
    app = create_calls_app(
        "http://gateway.test",
        "sbk_test",
        SECRET,
        DEMO_ACCOUNTS,
        public_url="http://calls.test",
        transport=httpx.MockTransport(api),
    )
    where = {"workspace": ACME, "channel": {"id": "D0ACME0001", "kind": "im"}}
    who = {"user": {"id": "U0ACME0002"}, "response_url": "https://hooks.slack.com/commands/1"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://calls.test") as client:
        invoked = {**where, **who, "command": "/call", "text": ""}
        assert await _send(client, 1, "command.invoked", invoked) == "link"
        other = {**where, **who, "command": "/other", "text": ""}
        assert await _send(client, 2, "command.invoked", other) == "ignored"
        matched = {**where, **who, "command": "call", "arguments": {"who": []}, "source": "slash"}
        assert await _send(client, 3, "command.matched", matched) == "link"
        await app.state.calls.drain()

        installed = {"workspace": ACME, "installer": {"id": "U0ACME0002"}, "user_scopes": ["x"]}
        assert await _send(client, 4, "workspace.installed", installed) == "granted"
        bot_only = {"workspace": ACME, "installer": {"id": "U0ACME0003"}, "user_scopes": []}
        assert await _send(client, 5, "workspace.installed", bot_only) == "installed"
        state = (await client.get("/api/state")).json()
        assert state["grants"] == [{"team_id": "T0ACME0001", "user_id": "U0ACME0002"}]
        assert state["outstanding_keys"] == 2
        gone = {"workspace": ACME, "reason": "app_uninstalled"}
        assert await _send(client, 6, "workspace.uninstalled", gone) == "forgotten"
        assert (await client.get("/api/state")).json()["grants"] == []

    answers = [body for path, body in api.requests if path.endswith("/responses")]
    assert len(answers) == 2
    for body in answers:
        assert body["response_type"] == "ephemeral"
        assert body["response_url"] == "https://hooks.slack.com/commands/1"
        assert "<http://calls.test/join/" in body["text"] and "within 10 minutes" in body["text"]
