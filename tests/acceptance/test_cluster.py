"""Three gateways on one PostgreSQL behind a round-robin proxy, two of them SIGKILLed in turn.

The emulator streams messages (Slack sends each as an event to the proxy, retrying while no
gateway answers) while the product posts to 8 channels through the proxy. The holder of the
retention lease is SIGKILLed mid-stream and restarted, then a holder of a Socket Mode slot.
Afterwards: every event reached the product exactly once (by webhook-id), every channel holds
exactly the product's messages in order, the emulator never answered 429 (so no channel or
method bucket was exceeded), the Socket Mode app never had more connections than its cap, and
each retention period ran in exactly one gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from slackbridge.client import Slackbridge
from slackbridge.emulator.ops_channels import create_channel, join_channel
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.testing import install_app_for_tests, make_test_app
from slackbridge.store.crypto import generate_key
from tests.conftest import PG_URL_ENV, fresh_pg_schema
from tests.support.cluster import GatewayProcess, RoundRobinProxy, cluster_env, seed_database
from tests.support.product import Product, run_product
from tests.support.servers import free_port
from tests.support.stack import EmulatorServer, run_emulator

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get(PG_URL_ENV),
        reason="several gateways need PostgreSQL: set SLACKBRIDGE_TEST_DATABASE_URL",
    ),
]

SECRET = "whsec_" + "Y2x1c3Rlci10ZXN0LXNlY3JldC1mb3Itd2ViaG9va3Mh"
API_KEY = "sbk_cluster_" + "c" * 32
ACME, ALICE, GENERAL = "T0ACME0001", "U0ACME0001", "C0ACME0GEN"
EVENTS = 90
CHANNELS = 8
PER_CHANNEL = 12
SOCKET_CAP = 2
RETENTION_EVERY = 2.0


class _SocketWatch:
    """Polls the emulator's open Socket Mode connections of one app; keeps the most seen."""

    def __init__(self, emulator_url: str, app_id: str) -> None:
        self.url = f"{emulator_url}/_emulator/socket/connections"
        self.app_id = app_id
        self.most = 0
        self.samples = 0

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    answer = await client.get(self.url, params={"app_id": self.app_id})
                    self.most = max(self.most, len(answer.json()["connections"]))
                    self.samples += 1
                await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _cluster(env: dict[str, str], logs: Path, count: int) -> AsyncIterator[list[Any]]:
    gateways = [GatewayProcess(env, free_port(), logs / f"gateway{i}.log") for i in range(count)]
    try:
        yield gateways
    finally:
        await asyncio.gather(*(g.stop() for g in gateways))


async def _post_event(client: httpx.AsyncClient, emulator_url: str, text: str) -> str:
    answer = await client.post(
        emulator_url + "/_emulator/messages",
        json={"channel_id": GENERAL, "user_id": ALICE, "text": text},
    )
    assert answer.status_code == 200, answer.text
    ts: str = answer.json()["ts"]
    return ts


async def _holder_of(gateways: list[GatewayProcess], prefix: str, *, within: float = 60) -> Any:
    """The running gateway holding a lease whose name starts with ``prefix``."""
    deadline = time.monotonic() + within
    while True:
        for gateway in gateways:
            if any(name.startswith(prefix) for name in await gateway.leases()):
                return gateway
        assert time.monotonic() < deadline, f"nobody holds {prefix}"
        await asyncio.sleep(0.1)


async def _post_lane(sb: Slackbridge, channel: str, texts: list[str]) -> None:
    """Post ``texts`` in order; a request cut by a killed gateway is sent again with the same
    Idempotency-Key (the proxy picks a live gateway)."""
    for text in texts:
        deadline = time.monotonic() + 60
        while True:
            try:
                await sb.messages.post(ACME, channel, text, idempotency_key=text)
                break
            except Exception:
                assert time.monotonic() < deadline, f"{text} could not be queued"
                await asyncio.sleep(0.2)


async def _wait_channels(
    emulator: EmulatorServer, texts: dict[str, list[str]], bot_id: str, within: float = 180
) -> None:
    deadline = time.monotonic() + within
    total = sum(len(t) for t in texts.values())
    while True:
        count = sum(len(_posted(emulator, ch, bot_id)) for ch in texts)
        if count >= total:
            return
        assert time.monotonic() < deadline, f"only {count} of {total} posts reached Slack"
        await asyncio.sleep(0.1)


def _posted(emulator: EmulatorServer, channel: str, bot_id: str) -> list[str]:
    messages = emulator.state.workspaces[ACME].channels[channel].messages
    return [m.text for m in messages if m.bot_id == bot_id and m.subtype is None]


def _retention_runs(logs: Path) -> list[int]:
    found: list[int] = []
    for log in sorted(logs.glob("gateway*.log")):
        found += [
            int(p)
            for p in re.findall(r"cluster: retention: running for period (\d+)", log.read_text())
        ]
    return found


async def test_three_gateways_two_killed_lose_double_and_reorder_nothing(tmp_path: Path) -> None:
    url = os.environ[PG_URL_ENV]
    async with (
        fresh_pg_schema(url) as schema,
        run_emulator(build_state(speed=10.0)) as emulator,
        run_product(SECRET) as product,
    ):
        emulator.state.ack_timeout = 3.0
        proxy = RoundRobinProxy([])
        await proxy.start()
        try:
            await _run(tmp_path, url, schema, emulator, product, proxy)
        finally:
            await proxy.close()


async def _run(
    tmp_path: Path,
    url: str,
    schema: str,
    emulator: EmulatorServer,
    product: Product,
    proxy: RoundRobinProxy,
) -> None:
    state = emulator.state
    app = make_test_app(
        state, event_request_url=proxy.url + "/slack/events", bot_events=["message.channels"]
    )
    install = install_app_for_tests(state, ACME, app=app, channels=["general"])
    socket_app = make_test_app(state, name="Socket App", socket_mode=True)
    async with httpx.AsyncClient(timeout=10.0) as client:
        answer = await client.post(f"{emulator.url}/_emulator/apps/{socket_app.id}/app_tokens")
        app_token = answer.json()["token"]
    keys = generate_key()
    await seed_database(
        url,
        schema,
        keys,
        app_name="cluster",
        app_id=app.id,
        team_id=ACME,
        bot_token=install.bot_token,
        bot_user_id=install.installation.bot_user_id,
        bot_id=install.installation.bot_id,
    )
    bot = state.workspaces[ACME].users[install.installation.bot_user_id]
    channels = []
    for i in range(CHANNELS):
        channel = create_channel(state, ACME, f"cluster-{i}", ALICE)
        join_channel(state, channel, bot, inviter=ALICE)
        channels.append(channel.id)
    texts = {ch: [f"{ch}-{n:03d}" for n in range(PER_CHANNEL)] for ch in channels}
    env = cluster_env(
        DATABASE_URL=url,
        DATABASE_SCHEMA=schema,
        SECRET_KEYS=keys,
        DATA_DIR=str(tmp_path / "data"),
        PUBLIC_URL=proxy.url,
        SLACK_API_URL=emulator.api_url,
        SLACK_URL=emulator.url,
        APPS=json.dumps(
            [
                {"name": "cluster", "app_id": app.id, "signing_secret": app.signing_secret},
                {
                    "name": "socket",
                    "app_id": socket_app.id,
                    "socket_mode": True,
                    "app_token": app_token,
                },
            ]
        ),
        API_KEYS=API_KEY,
        WEBHOOK_URL=product.hook_url,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_RETRY_SCALE="0.05",
        WEBHOOK_TIMEOUT="2",
        INBOX_LEASE_SECONDS="2",
        OUTBOX_LEASE_SECONDS="10",
        SOCKET_CONNECTIONS_PER_APP=str(SOCKET_CAP),
        RETENTION_EVERY_SECONDS=str(RETENTION_EVERY),
        LOG_LEVEL="INFO",
    )
    state.rate_limiter.reset()
    async with _cluster(env, tmp_path, 3) as gateways:
        proxy.backends = [g.port for g in gateways]
        await gateways[0].start()
        await gateways[0].ready()
        await asyncio.gather(*(g.start() for g in gateways[1:]))
        await asyncio.gather(*(g.ready() for g in gateways[1:]))
        stop_watch = asyncio.Event()
        watch = _SocketWatch(emulator.url, socket_app.id)
        watcher = asyncio.create_task(watch.run(stop_watch))
        try:
            posted = await _stream(emulator, product, proxy, gateways, texts)
        finally:
            stop_watch.set()
            await watcher
        await _wait_channels(emulator, texts, install.installation.bot_id)
        hooks = await product.wait_count(
            EVENTS, lambda h: h.type == "message.posted", within=90, distinct=True
        )
        # Retention keeps running once per period after the kills.
        first_runs = len(set(_retention_runs(tmp_path)))
        deadline = time.monotonic() + 60
        while len(set(_retention_runs(tmp_path))) < first_runs + 2:
            assert time.monotonic() < deadline, "retention stopped running"
            await asyncio.sleep(0.2)
        runs = _retention_runs(tmp_path)

    # Events: every one delivered, none under two webhook-ids.
    by_id: dict[str, str] = {}
    for hook in hooks:
        ts = hook.data["ts"]
        assert by_id.setdefault(hook.webhook_id, ts) == ts
    assert len(by_id) == EVENTS, "an event was delivered under two webhook-ids"
    assert sorted(by_id.values()) == sorted(posted), "an event was lost"
    # Posts: every channel holds exactly the product's messages, in order.
    for channel, expected in texts.items():
        assert _posted(emulator, channel, install.installation.bot_id) == expected, channel
    # Slack's budgets: no bucket of the emulator ever refused a call.
    counters = state.rate_limiter.snapshot()["counters"]
    assert [c for c in counters if c["limited"]] == []
    async with httpx.AsyncClient(timeout=10.0) as client:
        report = (await client.get(f"{emulator.url}/_emulator/ratelimits/report")).json()
    assert report["responses_429"] == 0
    assert report["clean"], [b for w in report["workspaces"] for b in w["buckets"] if b["exceeded"]]
    assert (
        sum(c["allowed"] for c in counters if c["scope"] == "post_channel")
        >= CHANNELS * PER_CHANNEL
    )
    # Socket Mode: connected, and never more connections than the cap.
    assert watch.samples > 0
    assert 1 <= watch.most <= SOCKET_CAP
    # Retention: each period ran in exactly one gateway.
    assert len(runs) == len(set(runs)), f"a retention period ran twice: {sorted(runs)}"
    assert len(runs) >= 3


async def _stream(
    emulator: EmulatorServer,
    product: Product,
    proxy: RoundRobinProxy,
    gateways: list[GatewayProcess],
    texts: dict[str, list[str]],
) -> list[str]:
    """Events and posts at once; the retention holder is killed and restarted, then a Socket
    Mode slot's holder. Returns the ts of every message the emulator posted."""
    posted: list[str] = []
    # No keep-alive: each request picks a gateway anew through the proxy.
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    async with (
        Slackbridge(proxy.url, API_KEY, transport=transport) as sb,
        httpx.AsyncClient(timeout=10.0) as client,
    ):
        lanes = asyncio.gather(*(_post_lane(sb, ch, t) for ch, t in texts.items()))
        for i in range(EVENTS):
            if i == 25:
                await product.wait_count(5, within=30)
                victim = await _holder_of(gateways, "retention")
                await victim.kill()
            if i == 40:
                await victim.start()
            if i == 55:
                await victim.ready()
                others = [g for g in gateways if g is not victim]
                second = await _holder_of(others, "socket-mode:")
                await second.kill()
            if i == 70:
                await second.start()
            posted.append(await _post_event(client, emulator.url, f"event {i}"))
            await asyncio.sleep(0.05)  # a stream, not one burst: the kills land mid-way
        await lanes
        await asyncio.gather(*(g.ready() for g in gateways))
    return posted
