"""Slack's retries are absorbed; a product endpoint that is down gets everything, in order."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client import REGISTRY

from slackbridge.store.repositories.inbox import InboxRepository
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import (
    ALICE,
    BOB,
    GENERAL,
    STAFF,
    Bridge,
    start_bridge,
)
from tests.support.product import Product
from tests.support.stack import EmulatorServer


async def _deliveries(bridge: Bridge, **params: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{bridge.emulator.url}/_emulator/deliveries", params=params)
    found: list[dict[str, Any]] = answer.json()["deliveries"]
    return found


def _duplicates() -> float:
    value = REGISTRY.get_sample_value(
        "slackbridge_ingress_requests_total", {"route": "events", "outcome": "duplicate"}
    )
    return value or 0.0


async def test_a_timed_out_first_attempt_is_retried_and_its_retry_headers_kept(
    bridge: Bridge,
) -> None:
    events_url = bridge.gw.url + "/slack/events"
    bridge.emulator.state.ack_timeout = 1.0  # Slack waits 1 s for the ack (instead of 3 s)
    await bridge.act("faults", url=events_url, latency=1.5, times=1)  # the first attempt: late
    posted = await bridge.act("messages", channel_id=GENERAL, user_id=ALICE, text="slow link")
    hook = await bridge.product.wait_for(
        lambda h: h.type == "message.posted" and h.data["ts"] == posted["ts"]
    )
    event_id = hook.data["raw"]["event_id"]
    (delivery,) = [d for d in await _deliveries(bridge, kind="event") if d["event_id"] == event_id]
    assert [a["error"] for a in delivery["attempts"]] == ["http_timeout", None]
    row = await InboxRepository(bridge.gw.gateway.db, bridge.gw.gateway.keyring).get_by_key(
        f"ev:{bridge.app.app_id}:{event_id}"
    )
    assert row is not None
    assert row.headers["retry_num"] == 1
    assert row.headers["retry_reason"] == "http_timeout"
    await bridge.settled()
    assert (
        len([h for h in bridge.product.of_type("message.posted") if h.data["ts"] == posted["ts"]])
        == 1
    )


async def test_every_retry_of_a_slow_ack_is_absorbed(
    gateway_factory: GatewayFactory, emulator: EmulatorServer, product: Product
) -> None:
    # A first ack takes >= 0.1 s (a long group-commit window) while Slack waits only 0.03 s, so
    # Slack times out and retries even though the gateway stored the event the first time. A
    # retry that arrives while that commit is open waits for it too (and times out again); one
    # that arrives after it is answered at once as a duplicate. Which happens depends on how the
    # machine schedules the two processes, so both are accepted; what may never happen is a
    # second webhook.
    bridge = await start_bridge(gateway_factory, emulator, product, ingress_group_commit_ms=100)
    before = _duplicates()
    emulator.state.speed = 100.0  # retries after 0 s, 0.6 s and 3 s
    emulator.state.ack_timeout = 0.03
    posted = await bridge.act("messages", channel_id=GENERAL, user_id=ALICE, text="again?")
    await bridge.settled(within=30)
    hooks = [h for h in product.of_type("message.posted") if h.data["ts"] == posted["ts"]]
    assert len(hooks) == 1
    event_id = hooks[0].data["raw"]["event_id"]
    (delivery,) = [d for d in await _deliveries(bridge, kind="event") if d["event_id"] == event_id]
    attempts = delivery["attempts"]
    assert [a["retry_num"] for a in attempts] == list(range(len(attempts)))
    assert 2 <= len(attempts) <= 4
    assert {a["error"] for a in attempts[:-1]} == {"http_timeout"}
    if len(attempts) < 4:  # Slack stopped retrying because a retry was acked in time
        assert attempts[-1]["error"] is None
    assert _duplicates() - before >= 1  # retries did reach the gateway and were absorbed


async def test_endpoint_down_for_a_while_gets_everything_in_channel_order(bridge: Bridge) -> None:
    product = bridge.product
    await product.wait_for(lambda h: h.type == "workspace.installed")
    await bridge.invite_bot(STAFF)
    await bridge.settled()
    product.down = True
    sent: dict[str, list[str]] = {GENERAL: [], STAFF: []}
    for i in range(6):
        for channel in (GENERAL, STAFF):
            posted = await bridge.act(
                "messages", channel_id=channel, user_id=BOB, text=f"{channel} #{i}"
            )
            sent[channel].append(posted["ts"])
            # Slack's order is the order the gateway received them in: one at a time here.
            await bridge.delivered()
    # Several attempts fail (the endpoint answers 503, retried with backoff) before it is back.
    refused = await product.wait_refused(6)
    # Only the head of each channel's lane is tried while the endpoint is down.
    assert {h.data["ts"] for h in refused} == {sent[GENERAL][0], sent[STAFF][0]}
    product.down = False
    await bridge.settled(within=60)
    for channel, order in sent.items():
        got = [
            h.data["ts"]
            for h in product.of_type("message.posted")
            if h.data["channel"]["id"] == channel
        ]
        assert got == order
    ids = [h.webhook_id for h in product.accepted()]
    assert len(ids) == len(set(ids))
