"""A sender that dies loses nothing and posts nothing twice.

* Deterministic: a post that reached Slack but was never recorded (the sender died between
  Slack's answer and the commit) is found by its marker and not posted again.
* End to end: ``slackbridge serve`` is SIGKILLed mid-stream and started again; every message
  arrives exactly once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from slackbridge.compose import PARTS
from slackbridge.emulator.ops_channels import create_channel
from slackbridge.settings import Settings, SlackAppConfig
from slackbridge.slack.outbound.outbox_ops import with_marker
from slackbridge.slack.outbound.sender import OutboxSender
from slackbridge.slack.workspaces.provision import provision_app
from slackbridge.slack.workspaces.tokens import bot_token
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import open_database
from slackbridge.store.models import OutboxRow, table_of
from slackbridge.store.models_base import utcnow
from tests.integration.gateway.api.conftest import (
    ACME,
    ALICE,
    API_KEY,
    SUPPORT,
    ProductServer,
    start_stack,
)
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.servers import free_port
from tests.support.stack import EmulatorServer, browser, install_via_browser

_OUTBOX = table_of(OutboxRow)


def _texts(emulator: EmulatorServer, channel_id: str) -> list[str]:
    channel = emulator.state.workspaces[ACME].channels[channel_id]
    return [m.text for m in channel.messages if m.subtype is None and m.bot_id]


async def _interrupted_after_slack_answered(
    gw: Any, message_id: str, channel: str, thread_ts: str | None
) -> str:
    """Do what a sender that died right after Slack's answer did: post the marked message, and
    leave the row leased to a dead owner with one attempt counted. Returns the ts."""
    creds = await bot_token(gw.gateway, ACME)
    async with httpx.AsyncClient(base_url=gw.emulator.api_url) as slack:
        answer = await slack.post(
            "chat.postMessage",
            headers={"Authorization": f"Bearer {creds.token}"},
            json={
                "channel": channel,
                "text": "only once",
                "thread_ts": thread_ts,
                "metadata": with_marker(None, message_id),
            },
        )
    assert answer.json()["ok"], answer.text
    async with gw.gateway.db.transaction() as tx:
        await tx.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.message_id == message_id)
            .values(
                status="sending",
                attempts=1,
                lease_owner="a-sender-that-died",
                lease_expires_at=utcnow() - timedelta(seconds=1),
            )
        )
    return str(answer.json()["ts"])


async def test_a_post_slack_took_before_the_crash_is_not_posted_again(
    gateway_factory: GatewayFactory, product: ProductServer
) -> None:
    without_sender = tuple(p for p in PARTS if p.name != "slackbridge.slack.outbound.sender")
    stack = await start_stack(gateway_factory, product, parts=without_sender)
    # This test posts behind the sender's back; keep the channel limit out of its way.
    stack.emulator.state.rate_limiter.configure({"post_channel": {"per_minute": 600, "burst": 20}})
    async with stack.api:
        root = await stack.api.post(
            "/messages", json={"workspace": ACME, "channel": SUPPORT, "text": "root"}
        )
        sender = OutboxSender(stack.gateway.gateway, lease_seconds=5)
        stop = asyncio.Event()
        worker = asyncio.create_task(sender.run(stop))
        try:
            root_ts = (await stack.wait_status(root.json()["id"]))["ts"]
            stop.set()
            await worker
            top = await stack.api.post(
                "/messages", json={"workspace": ACME, "channel": SUPPORT, "text": "only once"}
            )
            reply = await stack.api.post(
                "/messages",
                json={
                    "workspace": ACME,
                    "channel": SUPPORT,
                    "text": "only once",
                    "thread_ts": root_ts,
                },
            )
            top_ts = await _interrupted_after_slack_answered(
                stack.gateway, top.json()["id"], SUPPORT, None
            )
            reply_ts = await _interrupted_after_slack_answered(
                stack.gateway, reply.json()["id"], SUPPORT, root_ts
            )
            stop = asyncio.Event()
            worker = asyncio.create_task(sender.run(stop))
            top_status = await stack.wait_status(top.json()["id"])
            reply_status = await stack.wait_status(reply.json()["id"])
        finally:
            stop.set()
            await worker
    assert (top_status["status"], top_status["ts"]) == ("sent", top_ts)
    assert (reply_status["status"], reply_status["ts"]) == ("sent", reply_ts)
    channel = stack.emulator.state.workspaces[ACME].channels[SUPPORT]
    assert [m.text for m in channel.messages].count("only once") == 2  # one each, not two
    assert stack.emulator.calls_to("conversations.history")
    assert stack.emulator.calls_to("conversations.replies")
    await product.wait_for(lambda p: p.outcome_of(reply.json()["id"]) is not None)
    delivered = product.outcome_of(top.json()["id"])
    assert delivered is not None and delivered["data"]["message"]["ts"] == top_ts


@contextlib.asynccontextmanager
async def _serve(env: dict[str, str], port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    """``slackbridge serve`` in a subprocess, ready when its /healthz answers."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "slackbridge.cli",
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as client:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                assert proc.returncode is None, "slackbridge serve exited"
                assert time.monotonic() < deadline, "slackbridge serve did not start"
                await asyncio.sleep(0.1)
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@pytest.mark.slow
async def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(
    emulator: EmulatorServer, product: ProductServer, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "gateway"
    env = {
        **os.environ,
        "SLACKBRIDGE_DATA_DIR": str(data_dir),
        "SLACKBRIDGE_PUBLIC_URL": url,
        "SLACKBRIDGE_SLACK_API_URL": emulator.api_url,
        "SLACKBRIDGE_SLACK_URL": emulator.url,
        "SLACKBRIDGE_API_KEYS": API_KEY,
        "SLACKBRIDGE_WEBHOOK_URL": product.url,
        "SLACKBRIDGE_WEBHOOK_SECRET": product.secret,
        "SLACKBRIDGE_OUTBOX_LEASE_SECONDS": "3",
        "SLACKBRIDGE_OUTBOX_RETRY_SCALE": "0.02",
        "SLACKBRIDGE_WEBHOOK_RETRY_SCALE": "0.02",
        "SLACKBRIDGE_LOG_LEVEL": "WARNING",
        "SLACKBRIDGE_CONFIG": str(tmp_path / "absent.toml"),
    }
    for name in ("SLACKBRIDGE_DATABASE_URL", "SLACKBRIDGE_SECRET_KEYS"):
        env.pop(name, None)
    channels = [create_channel(emulator.state, ACME, f"crash-{i}", ALICE).id for i in range(4)]
    expected = {ch: [f"{ch}-{n:02d}" for n in range(15)] for ch in channels}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with _serve(env, port) as first:
        settings = Settings(
            data_dir=data_dir,
            public_url=url,
            slack_api_url=emulator.api_url,
            slack_url=emulator.url,
        )
        db = open_database(settings.effective_database_url)
        try:
            await provision_app(
                db,
                Keyring.load(None, data_dir),
                settings,
                SlackAppConfig(name="default"),
                emulator.configuration_token,
            )
        finally:
            await db.close()
        async with browser() as b:
            shim = SimpleNamespace(url=url, emulator=emulator)
            page = await install_via_browser(b, shim, ACME, ALICE)  # type: ignore[arg-type]
            assert page.status_code == 200, page.text
        ids: list[str] = []
        async with httpx.AsyncClient(base_url=url + "/api/v1", headers=headers) as api:
            for n in range(15):
                for ch in channels:
                    answer = await api.post(
                        "/messages",
                        json={"workspace": ACME, "channel": ch, "text": expected[ch][n]},
                    )
                    assert answer.status_code == 202, answer.text
                    ids.append(answer.json()["id"])
        await product.wait_for(lambda p: len(p.of_type("message.delivered")) >= 12, within=30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    delivered_before = {e["data"]["message"]["id"] for e in product.of_type("message.delivered")}
    assert len(delivered_before) < len(ids), "the kill came too late to prove anything"
    async with _serve(env, port):
        await product.wait_for(
            lambda p: (
                {e["data"]["message"]["id"] for e in p.of_type("message.delivered")} >= set(ids)
            ),
            within=90,
        )
    for ch in channels:
        assert _texts(emulator, ch) == expected[ch]
    assert not product.of_type("message.failed")
