"""The gateway is killed with SIGKILL mid-stream; after a restart nothing is lost or doubled.

The emulator posts a stream of messages (Slack sends each as an event, retrying while the
gateway is down); the gateway runs as a real ``slackbridge serve`` process and is SIGKILLed
part-way, then started again on the same data dir. The product must end up with every message
exactly once by webhook-id (it may see a webhook-id twice: at-least-once delivery).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from slackbridge.emulator.seed import build_state
from slackbridge.emulator.testing import install_app_for_tests, make_test_app
from tests.support.cluster import GatewayProcess
from tests.support.product import Product, run_product
from tests.support.servers import free_port
from tests.support.stack import run_emulator

pytestmark = pytest.mark.slow

SECRET = "whsec_" + "Y3Jhc2gtdGVzdC1zZWNyZXQtZm9yLXdlYmhvb2tzIQ=="
ACME, ALICE, GENERAL = "T0ACME0001", "U0ACME0001", "C0ACME0GEN"
MESSAGES = 120


async def _post(client: httpx.AsyncClient, emulator_url: str, text: str) -> str:
    answer = await client.post(
        emulator_url + "/_emulator/messages",
        json={"channel_id": GENERAL, "user_id": ALICE, "text": text},
    )
    assert answer.status_code == 200, answer.text
    ts: str = answer.json()["ts"]
    return ts


async def test_sigkill_mid_stream_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    # Slack's retries (now, +1 min, +5 min) run 10x faster: +6 s covers the restart. Acks get
    # Slack's real 3 s, however busy the machine.
    async with run_emulator(build_state(speed=10.0)) as emulator, run_product(SECRET) as product:
        emulator.state.ack_timeout = 3.0
        port = free_port()
        gateway_url = f"http://127.0.0.1:{port}"
        app = make_test_app(
            emulator.state,
            event_request_url=gateway_url + "/slack/events",
            bot_events=["message.channels"],
        )
        install_app_for_tests(emulator.state, ACME, app=app, channels=["general"])
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")},
            "SLACKBRIDGE_DATA_DIR": str(tmp_path / "data"),
            "SLACKBRIDGE_PUBLIC_URL": gateway_url,
            "SLACKBRIDGE_SLACK_API_URL": emulator.api_url,
            "SLACKBRIDGE_SLACK_URL": emulator.url,
            "SLACKBRIDGE_APPS": json.dumps(
                [{"name": "crash", "app_id": app.id, "signing_secret": app.signing_secret}]
            ),
            "SLACKBRIDGE_WEBHOOK_URL": product.hook_url,
            "SLACKBRIDGE_WEBHOOK_SECRET": SECRET,
            "SLACKBRIDGE_WEBHOOK_RETRY_SCALE": "0.05",
            "SLACKBRIDGE_WEBHOOK_TIMEOUT": "2",
            "SLACKBRIDGE_INBOX_LEASE_SECONDS": "2",
            "SLACKBRIDGE_LOG_LEVEL": "WARNING",
        }
        gateway = GatewayProcess(env, port, tmp_path / "gateway.log")
        try:
            await gateway.start()
            await gateway.ready()
            await _run_stream(emulator.url, gateway, product)
        finally:
            await gateway.stop()


async def _run_stream(emulator_url: str, gateway: GatewayProcess, product: Product) -> None:
    posted: list[str] = []
    async with httpx.AsyncClient(timeout=10.0) as client:
        for i in range(MESSAGES):
            if i == 40:
                # Some of the first 40 are in the pipeline now, some already delivered.
                await product.wait_count(5, within=20)
                await gateway.kill()
            if i == 70:
                await gateway.start()  # not ready yet: later events also meet a closed port
            posted.append(await _post(client, emulator_url, f"message {i}"))
        await gateway.ready()
        hooks = await product.wait_count(
            MESSAGES, lambda h: h.type == "message.posted", within=45, distinct=True
        )
        deliveries = (await client.get(emulator_url + "/_emulator/deliveries")).json()
    retried = [d for d in deliveries["deliveries"] if len(d["attempts"]) > 1]
    assert retried, "the kill interrupted nothing: no event needed a retry"
    assert not [d for d in deliveries["deliveries"] if d["status"] == "failed"]
    by_id: dict[str, str] = {}
    for hook in hooks:
        ts = hook.data["ts"]
        assert by_id.setdefault(hook.webhook_id, ts) == ts  # one id never names two messages
    delivered = sorted(by_id.values())
    assert len(by_id) == MESSAGES, "an event was delivered under two webhook-ids"
    assert delivered == sorted(posted), "an event was lost"
