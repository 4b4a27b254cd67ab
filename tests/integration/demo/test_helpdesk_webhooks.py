"""The Helpdesk's webhook endpoint: only correctly signed slackbridge webhooks get in, once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from slackbridge.demo.helpdesk import WEBHOOK_PATH, Helpdesk, create_helpdesk_app
from slackbridge.product.signing import generate_secret, sign_headers
from tests.integration.demo.helpdesk_bodies import TEAM, message_posted

SECRET = generate_secret()


class _Api:
    """Stands in for slackbridge's API: records calls, answers like the pass-through."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        payload = orjson.loads(request.content) if request.content else {}
        self.calls.append((request.url.path, payload))
        if request.url.path.endswith("/conversations.info"):
            return httpx.Response(200, json={"ok": True, "channel": {"name": "support"}})
        return httpx.Response(200, json={"ok": True})


@pytest.fixture
async def setup() -> AsyncIterator[tuple[httpx.AsyncClient, Helpdesk, _Api]]:
    api = _Api()
    app = create_helpdesk_app(
        "http://slackbridge.test", "sbk_test", SECRET, transport=httpx.MockTransport(api)
    )
    helpdesk: Helpdesk = app.state.helpdesk
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://helpdesk.test") as client:
        yield client, helpdesk, api
    await helpdesk.close()


async def _send(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(
        WEBHOOK_PATH, content=body, headers={**headers, "content-type": "application/json"}
    )


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "no signature", "stale timestamp", "other webhook id"],
)
async def test_badly_signed_webhooks_are_refused_and_change_nothing(
    setup: tuple[httpx.AsyncClient, Helpdesk, _Api], tamper: str
) -> None:
    client, helpdesk, api = setup
    body = message_posted()
    now = int(time.time())
    headers = sign_headers(SECRET, "msg_1", now, body)
    if tamper == "wrong secret":
        headers = sign_headers(generate_secret(), "msg_1", now, body)
    elif tamper == "changed body":
        body = body.replace(b"jammed", b"fine!!")
    elif tamper == "no signature":
        del headers["webhook-signature"]
    elif tamper == "stale timestamp":
        headers = sign_headers(SECRET, "msg_1", now - 3600, body)
    else:
        headers["webhook-id"] = "msg_2"

    response = await _send(client, body, headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert helpdesk.desk.tickets == {}
    assert api.calls == []


async def test_a_signed_body_that_is_not_a_webhook_is_a_400(
    setup: tuple[httpx.AsyncClient, Helpdesk, _Api],
) -> None:
    client, helpdesk, _api = setup
    body = b'{"hello": "world"}'
    response = await _send(client, body, sign_headers(SECRET, "msg_1", int(time.time()), body))
    assert response.status_code == 400
    assert helpdesk.desk.tickets == {}


async def test_a_signed_question_opens_one_ticket_and_is_acknowledged_through_the_api(
    setup: tuple[httpx.AsyncClient, Helpdesk, _Api],
) -> None:
    client, helpdesk, api = setup
    body = message_posted()
    headers = sign_headers(SECRET, "msg_1", int(time.time()), body)

    first = await _send(client, body, headers)
    again = await _send(client, body, headers)  # slackbridge redelivers: same webhook-id
    await helpdesk.drain()

    assert first.status_code == 200 and first.json()["outcome"] == "opened"
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert list(helpdesk.desk.tickets) == [1]
    ticket = helpdesk.desk.tickets[1]
    assert (ticket.acknowledged, ticket.channel_name) == (True, "support")
    assert api.calls == [
        (
            f"/api/v1/slack/{TEAM}/reactions.add",
            {"channel": "C0ACME0SUP", "timestamp": "1700000000.000100", "name": "eyes"},
        ),
        (f"/api/v1/slack/{TEAM}/conversations.info", {"channel": "C0ACME0SUP"}),
    ]


async def test_the_page_and_health(setup: tuple[httpx.AsyncClient, Helpdesk, _Api]) -> None:
    client, _helpdesk, _api = setup
    page = await client.get("/")
    assert page.status_code == 200
    assert "<title>Helpdesk</title>" in page.text
    assert (await client.get("/healthz")).json() == {"ok": True}
