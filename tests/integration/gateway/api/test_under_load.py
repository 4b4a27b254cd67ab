"""Everything at once under load: Slack's events in (ingress, inbox worker, webhook delivery) while
the product's messages go out (API, outbox, sender), all on one SQLite store. Nothing may meet
``database is locked``, nothing may be lost or doubled, and each lane keeps its order."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
import pytest

from slackbridge.slack.workspaces.apps import signing_secrets
from tests.integration.gateway.api.conftest import ACME, ALICE, GENERAL, SUPPORT, ApiStack

_CHANNELS = [f"C0LOAD{n:04d}" for n in range(6)]
_PER_CHANNEL = 40
_MESSAGES_PER_CHANNEL = 8


def _signed(secret: str, app_id: str | None, channel: str, n: int) -> tuple[bytes, dict[str, str]]:
    now = int(time.time())
    body = json.dumps(
        {
            "team_id": ACME,
            "api_app_id": app_id,
            "type": "event_callback",
            "event_id": f"EvLOAD{channel}{n:05d}",
            "event_time": now,
            "event": {
                "type": "message",
                "channel": channel,
                "channel_type": "channel",
                "user": ALICE,
                "text": f"load {channel} {n}",
                "ts": f"{now}.{n:06d}",
            },
        }
    ).encode()
    base = f"v0:{now}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": str(now),
        "x-slack-signature": signature,
    }
    return body, headers


async def _send_channel(
    client: httpx.AsyncClient, url: str, secret: str, app_id: str | None, channel: str
) -> None:
    # One channel's events one after the other (each acked before the next is sent), as
    # Slack does; the channels side by side.
    for n in range(_PER_CHANNEL):
        body, headers = _signed(secret, app_id, channel, n)
        answer = await client.post(url, content=body, headers=headers)
        assert answer.status_code == 200, answer.text


async def _post_messages(stack: ApiStack, channel: str) -> list[str]:
    ids = []
    for n in range(_MESSAGES_PER_CHANNEL):
        answer = await stack.api.post(
            "/messages", json={"workspace": ACME, "channel": channel, "text": f"out {n}"}
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    return ids


async def test_events_in_and_messages_out_together(
    stack: ApiStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    gateway = stack.gateway.gateway
    (_ref, app_id, secret), *_ = await signing_secrets(gateway)
    url = stack.gateway.url + "/slack/events"
    async with httpx.AsyncClient(timeout=30.0) as client:
        inbound = [_send_channel(client, url, secret, app_id, ch) for ch in _CHANNELS]
        outbound = [_post_messages(stack, ch) for ch in (GENERAL, SUPPORT)]
        results = await asyncio.gather(*inbound, *outbound)
    message_ids: list[list[str]] = [r for r in results if r is not None]

    def posted(product: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in product.of_type("message.posted")
            if str(e["data"].get("channel", {}).get("id", "")).startswith("C0LOAD")
        ]

    total = len(_CHANNELS) * _PER_CHANNEL
    await stack.product.wait_for(lambda p: len(posted(p)) >= total, within=120)
    for ids in message_ids:
        for message_id in ids:
            await stack.product.wait_for(
                lambda p, m=message_id: p.outcome_of(m) is not None, within=120
            )

    # Nothing lost, nothing doubled, each channel in the order Slack sent it.
    texts = [e["data"]["raw"]["event"]["text"] for e in posted(stack.product)]
    assert len(texts) == total == len(set(texts))
    for channel in _CHANNELS:
        ours = [int(t.split()[-1]) for t in texts if t.split()[1] == channel]
        assert ours == list(range(_PER_CHANNEL)), channel

    # The product's messages: all delivered, each channel's in the order they were accepted.
    for channel, ids in zip((GENERAL, SUPPORT), message_ids, strict=True):
        outcomes = [stack.product.outcome_of(m) for m in ids]
        assert all(o is not None and o["type"] == "message.delivered" for o in outcomes)
        stamps = [float(o["data"]["message"]["ts"]) for o in outcomes if o is not None]
        assert stamps == sorted(stamps), channel
        history = stack.emulator.state.workspaces[ACME].channels[channel]
        sent = [m.text for m in history.messages if m.text.startswith("out ")]
        assert sent == [f"out {n}" for n in range(_MESSAGES_PER_CHANNEL)]

    assert not [r for r in caplog.records if "database is locked" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
