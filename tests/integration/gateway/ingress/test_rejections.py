"""Requests that must be refused: nothing is stored, the answer is short and clear."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from slackbridge.settings import SlackAppConfig
from slackbridge.store.repositories.inbox import InboxRepository
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import SECRET, settled
from tests.integration.gateway.ingress.direct import APP_ID, SIGNING, event_body, signed
from tests.support.product import Product
from tests.support.stack import GatewayServer

VTOKEN = "legacy-verification-token"


@pytest.fixture
async def direct(
    gateway_factory: GatewayFactory, product: Product
) -> AsyncIterator[tuple[GatewayServer, httpx.AsyncClient]]:
    """A gateway with an app configured by settings (no install needed to receive)."""
    gw = await gateway_factory(
        apps=[
            SlackAppConfig(
                name="direct",
                app_id=APP_ID,
                signing_secret=SIGNING,
                verification_token=VTOKEN,
                outgoing_webhooks=True,
            )
        ],
        webhook_url=product.hook_url,
        webhook_secret=SECRET,
        ingress_max_body_bytes=4096,
    )
    async with httpx.AsyncClient(base_url=gw.url, timeout=10.0) as client:
        yield gw, client


async def _stored(gw: GatewayServer) -> int:
    counts = await InboxRepository(gw.gateway.db, gw.gateway.keyring).counts()
    return sum(counts.values())


def _clear(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert fragment in response.text
    assert "Traceback" not in response.text
    assert len(response.text) < 200


async def test_forged_stale_and_unsigned_requests_are_401(
    direct: tuple[GatewayServer, httpx.AsyncClient],
) -> None:
    gw, client = direct
    body = event_body()
    forged = await client.post("/slack/events", content=body, headers=signed(body, secret="x"))
    _clear(forged, 401, "signature does not match")
    stale = await client.post(
        "/slack/events", content=body, headers=signed(body, at=int(time.time()) - 301)
    )
    _clear(stale, 401, "5-minute window")
    unsigned = await client.post("/slack/events", content=body)
    _clear(unsigned, 401, "missing")
    tampered = await client.post(
        "/slack/events", content=body.replace(b"hi", b"ho"), headers=signed(body)
    )
    _clear(tampered, 401, "signature does not match")
    form = b"command=%2Fbridge&team_id=T0ACME0001"
    command = await client.post("/slack/commands", content=form, headers=signed(form, secret="y"))
    _clear(command, 401, "signature")
    assert await _stored(gw) == 0


async def test_oversized_and_malformed_requests(
    direct: tuple[GatewayServer, httpx.AsyncClient],
) -> None:
    gw, client = direct
    big = event_body(text="x" * 5000)
    oversized = await client.post("/slack/events", content=big, headers=signed(big))
    _clear(oversized, 413, "4096-byte limit")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for _ in range(10):
            yield b"x" * 1000

    streamed = await client.post("/slack/events", content=chunks(), headers=signed(b""))
    _clear(streamed, 413, "limit")

    for path, body in [
        ("/slack/events", b"{oops"),
        ("/slack/events", b'{"type": "event_callback"}'),
        ("/slack/commands", b"text=no+command"),
        ("/slack/interactivity", b"payload=not-json"),
    ]:
        response = await client.post(path, content=body, headers=signed(body))
        assert response.status_code == 400, (path, response.text)
        assert "Traceback" not in response.text
    assert await _stored(gw) == 0


async def test_handshakes_are_answered_and_not_stored(
    direct: tuple[GatewayServer, httpx.AsyncClient],
) -> None:
    gw, client = direct
    body = orjson.dumps({"type": "url_verification", "token": "t", "challenge": "c-42"})
    answer = await client.post("/slack/events", content=body, headers=signed(body))
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "c-42"}
    forged = await client.post("/slack/events", content=body, headers=signed(body, secret="z"))
    assert forged.status_code == 401
    ssl = await client.post("/slack/commands", content=b"ssl_check=1&token=whatever")
    assert ssl.status_code == 200
    assert ssl.content == b""
    assert await _stored(gw) == 0


async def test_legacy_outgoing_webhooks_are_checked_by_token(
    direct: tuple[GatewayServer, httpx.AsyncClient], product: Product
) -> None:
    gw, client = direct
    form: dict[str, Any] = {
        "team_id": "T0ACME0001",
        "channel_id": "C0ACME0GEN",
        "channel_name": "general",
        "timestamp": "1700000000.000100",
        "user_id": "U0ACME0002",
        "user_name": "bob",
        "text": "deploy: now",
        "trigger_word": "deploy:",
    }
    wrong = await client.post("/slack/outgoing", data={**form, "token": "nope"})
    _clear(wrong, 401, "verification token")
    missing = await client.post("/slack/outgoing", data=form)
    _clear(missing, 401, "verification token")
    assert await _stored(gw) == 0
    ok = await client.post("/slack/outgoing", data={**form, "token": VTOKEN})
    assert ok.status_code == 200
    hook = await product.wait_for(lambda h: h.type == "message.posted")
    assert hook.data["source"] == "outgoing_webhook"
    assert hook.data["trigger_word"] == "deploy:"
    assert hook.data["user"] == {"id": "U0ACME0002", "name": "bob"}  # no install: no lookup
    assert "token" not in hook.data["raw"]


async def test_slack_retries_of_one_event_are_stored_and_delivered_once(
    direct: tuple[GatewayServer, httpx.AsyncClient], product: Product
) -> None:
    gw, client = direct
    body = event_body("Ev0RETRY01")
    first = await client.post("/slack/events", content=body, headers=signed(body))
    retry = await client.post(
        "/slack/events",
        content=body,
        headers=signed(body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}),
    )
    assert (first.status_code, retry.status_code) == (200, 200)
    form = urlencode({"command": "/bridge", "team_id": "T0ACME0001", "trigger_id": "1.2"}).encode()
    for _ in range(2):
        again = await client.post("/slack/commands", content=form, headers=signed(form))
        assert again.status_code == 200
        assert again.content == b""  # commands are acked at once, empty
    assert await _stored(gw) == 2
    await settled(gw.gateway)
    assert len(product.of_type("message.posted")) == 1
    assert len(product.of_type("command.invoked")) == 1


async def test_answer_503_when_the_inbox_cannot_commit_in_time(
    gateway_factory: GatewayFactory,
) -> None:
    gw = await gateway_factory(
        apps=[SlackAppConfig(name="direct", app_id=APP_ID, signing_secret=SIGNING)],
        ingress_commit_timeout=0.0,
    )
    body = event_body("Ev0SLOW001")
    async with httpx.AsyncClient(base_url=gw.url) as client:
        response = await client.post("/slack/events", content=body, headers=signed(body))
    _clear(response, 503, "retry later")


async def test_a_payload_that_cannot_be_normalized_is_set_aside(
    direct: tuple[GatewayServer, httpx.AsyncClient], product: Product
) -> None:
    gw, client = direct
    odd = orjson.dumps({"type": "block_actions", "team": "T0ACME0001", "user": "U0ACME0001"})
    form = urlencode({"payload": odd.decode()}).encode()
    answer = await client.post("/slack/interactivity", content=form, headers=signed(form))
    assert answer.status_code == 200  # well-formed enough to store: Slack must not retry it
    body = event_body("Ev0AFTER01", text="still flowing")
    assert (
        await client.post("/slack/events", content=body, headers=signed(body))
    ).status_code == 200
    await product.wait_for(lambda h: h.data.get("text") == "still flowing")
    await settled(gw.gateway)
    counts = await InboxRepository(gw.gateway.db, gw.gateway.keyring).counts()
    assert counts["failed"] == 1 and counts["done"] == 1
