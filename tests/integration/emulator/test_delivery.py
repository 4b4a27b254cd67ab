"""Events API delivery: signed requests, Slack's retries and their headers, the delivery log."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.responses import Response

from slackbridge.emulator import create_app
from slackbridge.emulator.delivery import USER_AGENT
from slackbridge.emulator.outbound import Outbound
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import TestInstall, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL
from tests.integration.emulator.receiver import RECEIVER_URL, Received, Receiver
from tests.support.servers import free_port, serve_asgi

EVENTS_URL = f"{RECEIVER_URL}/slack/events"


def _install(state: EmulatorState, url: str = EVENTS_URL) -> TestInstall:
    app = make_test_app(state, event_request_url=url, bot_events=["message.channels"])
    return install_app_for_tests(state, ACME, app=app, channels=["general"])


@contextlib.asynccontextmanager
async def _running(state: EmulatorState, receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    """The emulator (in process) delivering to ``receiver`` (in process)."""
    state.speed = 200.0  # retries come after 0 / 0.3 / 1.5 s
    # Answers may take their time (a loaded machine must not turn them into timeouts); the
    # timeout test shortens this and answers never.
    state.ack_timeout = 10.0
    app = create_app(state, delivery_transport=receiver.transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://emulator.test"
        ) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def emu(
    state: EmulatorState, receiver: Receiver, inst: TestInstall
) -> AsyncIterator[httpx.AsyncClient]:
    async with _running(state, receiver) as client:
        yield client


@pytest.fixture
def inst(state: EmulatorState) -> TestInstall:
    """An app subscribed to message.channels, in #general (installed before delivery starts)."""
    return _install(state)


def _outbound(client: httpx.AsyncClient) -> Outbound:
    out: Outbound = client.app.state.outbound  # type: ignore[attr-defined]
    return out


async def _say(client: httpx.AsyncClient, text: str = "hello") -> str:
    response = await client.post(
        "/_emulator/messages",
        json={"team_id": ACME, "channel_id": GENERAL, "user_id": ALICE, "text": text},
    )
    assert response.status_code == 200, response.text
    ts: str = response.json()["ts"]
    return ts


async def test_event_is_signed_like_slack(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver
) -> None:
    ts = await _say(emu)
    await _outbound(emu).wait_idle()
    (got,) = receiver.received
    assert got.path == "/slack/events"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == USER_AGENT
    assert "x-slack-retry-num" not in got.headers
    verifier = SignatureVerifier(inst.app.signing_secret)
    assert verifier.is_valid_request(got.body, got.headers)
    assert abs(int(got.headers["x-slack-request-timestamp"]) - time.time()) < 5
    body = got.json()
    assert body["event"]["ts"] == ts and body["api_app_id"] == inst.app.id

    listed = (await emu.get("/_emulator/deliveries", params={"app_id": inst.app.id})).json()
    (delivery,) = listed["deliveries"]
    assert delivery["status"] == "delivered" and delivery["kind"] == "event"
    assert delivery["event_id"] == body["event_id"] and delivery["url"] == EVENTS_URL
    assert delivery["attempts"][0]["status"] == 200 and delivery["attempts"][0]["error"] is None


async def test_errors_are_retried_three_times_with_headers(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    async def fail(_: Received) -> Response:
        return Response("boom", status_code=500)

    receiver.respond = fail
    await _say(emu)
    await _outbound(emu).wait_idle()
    assert len(receiver.received) == 4
    event_ids = {r.json()["event_id"] for r in receiver.received}
    assert len(event_ids) == 1  # every retry carries the same event
    retries = [
        (r.headers.get("x-slack-retry-num"), r.headers.get("x-slack-retry-reason"))
        for r in receiver.received
    ]
    assert retries == [(None, None), ("1", "http_error"), ("2", "http_error"), ("3", "http_error")]
    (delivery,) = _outbound(emu).deliverer.records(kind="event")
    assert delivery.status == "failed"
    assert [a.retry_num for a in delivery.attempts] == [0, 1, 2, 3]
    failed = (await emu.get("/_emulator/deliveries", params={"status": "failed"})).json()
    assert len(failed["deliveries"]) == 1


async def test_retry_succeeds_after_a_failure(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    async def fail_once(_: Received) -> Response:
        return Response(status_code=503 if len(receiver.received) == 1 else 200)

    receiver.respond = fail_once
    await _say(emu)
    await _outbound(emu).wait_idle()
    assert len(receiver.received) == 2
    (delivery,) = _outbound(emu).deliverer.records()
    assert delivery.status == "delivered"


async def test_no_retry_header_stops_retries(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    async def refuse(_: Received) -> Response:
        return Response(status_code=500, headers={"X-Slack-No-Retry": "1"})

    receiver.respond = refuse
    await _say(emu)
    await _outbound(emu).wait_idle()
    assert len(receiver.received) == 1
    assert _outbound(emu).deliverer.records()[0].status == "failed"


async def test_slow_answers_time_out_and_are_retried(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    async def never_first(_: Received) -> Response:
        if len(receiver.received) == 1:
            await asyncio.Event().wait()  # no answer at all: cancelled by the timeout
        return Response(status_code=200)

    state.ack_timeout = 1.0  # the retry's answer has a second to arrive
    receiver.respond = never_first
    await _say(emu)
    await _outbound(emu).wait_idle()
    assert len(receiver.received) == 2
    assert receiver.received[1].headers["x-slack-retry-reason"] == "http_timeout"
    delivery = _outbound(emu).deliverer.records()[0]
    assert [a.error for a in delivery.attempts] == ["http_timeout", None]


async def test_connection_failure_is_retried(state: EmulatorState) -> None:
    inst = _install(state, url=f"http://127.0.0.1:{free_port()}/nobody-listens")
    state.speed = 200.0
    state.ack_timeout = 10.0

    def refuse(request: httpx.Request) -> httpx.Response:
        # A refused connection, deterministically: on a loaded machine a real refusal can
        # take longer than any short timeout and be recorded as a timeout.
        raise httpx.ConnectError("connection refused", request=request)

    app = create_app(state, delivery_transport=httpx.MockTransport(refuse))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu.test") as emu:
            await _say(emu)
            await app.state.outbound.wait_idle()
            (delivery,) = app.state.outbound.deliverer.records(app_id=inst.app.id)
    assert delivery.status == "failed"
    assert [a.error for a in delivery.attempts] == ["connection_failed"] * 4


async def test_an_unusable_url_fails_the_delivery_without_crashing(
    state: EmulatorState, receiver: Receiver
) -> None:
    inst = _install(state, url="http://app.test:no-port/slack/events")
    async with _running(state, receiver) as emu:
        state.speed = 5000.0  # retries at once: nothing is sent anyway
        await _say(emu)
        await _outbound(emu).wait_idle()
        (delivery,) = _outbound(emu).deliverer.records(app_id=inst.app.id)
    assert delivery.status == "failed" and receiver.received == []
    assert [a.error for a in delivery.attempts] == ["unknown_error"] * 4


async def test_url_faults_apply_to_deliveries(
    emu: httpx.AsyncClient, state: EmulatorState, receiver: Receiver
) -> None:
    added = await emu.post("/_emulator/faults", json={"url": EVENTS_URL, "status": 502, "times": 2})
    assert added.status_code == 200, added.text
    await _say(emu)
    await _outbound(emu).wait_idle()
    # Two faulted attempts never reach the app; the third does, marked as retry 2.
    assert len(receiver.received) == 1
    assert receiver.received[0].headers["x-slack-retry-num"] == "2"
    delivery = _outbound(emu).deliverer.records()[0]
    assert [a.status for a in delivery.attempts] == [502, 502, 200]


async def test_deliveries_filters_validate(emu: httpx.AsyncClient) -> None:
    bad = await emu.get("/_emulator/deliveries", params={"kind": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_kind"
    missing = await emu.get("/_emulator/deliveries/D-nope")
    assert missing.status_code == 404


async def test_real_http_delivery(state: EmulatorState, receiver: Receiver) -> None:
    """Over a loopback port, as a deployed app would receive it."""
    async with serve_asgi(receiver.app) as app_server:
        inst = _install(state, url=f"{app_server.url}/slack/events")
        app = create_app(state, ack_timeout=10.0)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://emu.test") as emu:
                await _say(emu, "over the wire")
                await app.state.outbound.wait_idle()
    (got,) = receiver.received
    payload: dict[str, Any] = got.json()
    assert payload["event"]["text"] == "over the wire"
    assert SignatureVerifier(inst.app.signing_secret).is_valid_request(got.body, got.headers)


async def test_reset_drops_deliveries_and_pending_retries(
    emu: httpx.AsyncClient, inst: TestInstall, receiver: Receiver, state: EmulatorState
) -> None:
    async def fail(_: Received) -> Response:
        return Response(status_code=500)

    receiver.respond = fail
    state.speed = 1.0  # the second retry would wait a minute
    await _say(emu)
    await receiver.wait_for(2)  # the first attempt and the immediate retry
    reset = await emu.post("/_emulator/reset")
    assert reset.status_code == 200, reset.text
    await _outbound(emu).wait_idle()  # nothing left waiting for the minute to pass
    listed = (await emu.get("/_emulator/deliveries")).json()
    assert listed["deliveries"] == []
    assert len(receiver.received) == 2
