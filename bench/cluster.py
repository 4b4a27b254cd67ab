"""Benchmark: 1, 2 and 3 gateways on one PostgreSQL behind a round-robin proxy.

For each size, on a fresh schema: ``slackbridge serve`` processes (the same keys and
configuration) behind a small TCP proxy that spreads connections in turn (as a load balancer
would), the emulator and a product that answers every webhook 200 (both in this process):

- **ingress**: signed ``message`` events flat out through the proxy from ``--concurrency``
  keep-alive connections for ``--seconds``: acks/s; then until the product has every acked event
  (``message.posted``): delivered/s (first request to last arrival) and the gateways' CPU per
  event (user + system seconds of every gateway process over the whole phase, per event);
- **outbound**: the product posts ``--messages`` messages to each of ``--channels`` channels
  through the proxy (one lane per channel, in order); the rate at which the backlog left when
  the product has queued everything reaches the emulator (so that the product's own posting
  speed is not what is measured), as a share of what Slack allows (1 message/s per channel,
  under the workspace's 600/min), the 429s the emulator answered (target: none, and at least
  95%), and whether every channel got every message exactly once, in order.

The load generator, the proxy, the emulator and the product share the machine with the
gateways, so the figures are a floor. With ``--record`` the result is written as the
"## Cluster" section of bench/RESULTS.md, with the load average before and after (other work on
the machine shows there).

    .venv/bin/python bench/cluster.py [--postgres-url URL] [--sizes 1,2,3] [--seconds 10]
        [--channels 8] [--messages 80] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from _support import cpu_seconds, free_port, load_line, machine, read_response, record_section
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.conftest import fresh_pg_schema
from tests.support.cluster import GatewayProcess, RoundRobinProxy, cluster_env, seed_database
from tests.support.servers import serve_asgi
from tests.support.stack import run_emulator

from slackbridge.client import Slackbridge
from slackbridge.emulator.ops_channels import create_channel, join_channel
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import EmulatorState, Signal
from slackbridge.emulator.testing import install_app_for_tests
from slackbridge.store.crypto import generate_key

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Cluster"
TARGET = 0.95
ACME, ALICE = "T0ACME0001", "U0ACME0001"
API_KEY = "sbk_bench_" + "c" * 32
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Outcome:
    size: int
    acks: int
    ack_seconds: float
    errors: int
    delivered: int
    delivered_seconds: float
    cpu_seconds: float
    posts: int
    steady_rate: float
    nominal_rate: float
    ratelimited: int
    complete: bool
    submit_seconds: float
    load_before: str
    load_after: str

    @property
    def ack_rate(self) -> float:
        return self.acks / self.ack_seconds if self.ack_seconds else 0.0

    @property
    def delivered_rate(self) -> float:
        return self.delivered / self.delivered_seconds if self.delivered_seconds else 0.0

    @property
    def cpu_ms_per_event(self) -> float:
        return 1000 * self.cpu_seconds / self.delivered if self.delivered else 0.0

    @property
    def share(self) -> float:
        return self.steady_rate / self.nominal_rate if self.nominal_rate else 0.0


class _Product:
    """Answers every webhook 200 and counts ``message.posted`` (with the last arrival time)."""

    def __init__(self) -> None:
        self.posted = 0
        self.last = 0.0

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        if b'"message.posted"' in body:
            self.posted += 1
            self.last = time.time()
        return Response(status_code=200)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hooks", self.hook, methods=["POST"])])


class _Arrivals:
    """When each of the bot's posts reached the emulator, per channel."""

    def __init__(self, state: EmulatorState, bot_id: str) -> None:
        self.by_channel: dict[str, list[float]] = {}
        self._bot_id = bot_id
        state.listeners.append(self._heard)

    def _heard(self, signal: Signal) -> None:
        data = signal.data
        if signal.kind == "message" and data.get("bot_id") == self._bot_id and not data["subtype"]:
            self.by_channel.setdefault(signal.channel_id or "", []).append(time.time())

    def steady_rate(self, skip: int = 3, after: float = 0.0) -> float:
        """Messages/s summed over channels, each from its ``skip``-th arrival after ``after``
        on (the bursts spent, and the product's posting no longer the limit)."""
        total = 0.0
        for all_times in self.by_channel.values():
            times = [t for t in all_times if t >= after]
            if len(times) > skip + 1 and times[-1] > times[skip]:
                total += (len(times) - 1 - skip) / (times[-1] - times[skip])
        return total


def _signed(port: int, secret: str, app_id: str, run: str, n: int, channels: int) -> bytes:
    now = int(time.time())
    body = json.dumps(
        {
            "team_id": ACME,
            "api_app_id": app_id,
            "type": "event_callback",
            "event_id": f"Ev{run}{n:09d}",
            "event_time": now,
            "event": {
                "type": "message",
                "channel": f"C0BENCH{n % channels:03d}",
                "channel_type": "channel",
                "user": ALICE,
                "text": f"bench {n}",
                "ts": f"{now}.{n % 1_000_000:06d}",
            },
            "authorizations": [{"team_id": ACME, "user_id": "U0BENCHBOT"}],
        },
        separators=(",", ":"),
    ).encode()
    signature = (
        "v0=" + hmac.new(secret.encode(), f"v0:{now}:".encode() + body, hashlib.sha256).hexdigest()
    )
    head = (
        "POST /slack/events HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"X-Slack-Request-Timestamp: {now}\r\n"
        f"X-Slack-Signature: {signature}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _ingress(
    port: int, secret: str, app_id: str, args: argparse.Namespace
) -> tuple[int, int, float]:
    """Flat out for ``args.seconds``: (acked, errors, seconds)."""
    run = uuid.uuid4().hex[:8]
    acked = errors = issued = 0
    start = time.perf_counter()
    deadline = start + args.seconds

    async def worker() -> None:
        nonlocal acked, errors, issued
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                n = issued
                issued += 1
                writer.write(_signed(port, secret, app_id, run, n, 64))
                status, _ = await read_response(reader)
                if status == 200:
                    acked += 1
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return acked, errors, time.perf_counter() - start


def _cpu(gateways: list[GatewayProcess]) -> float:
    total = 0.0
    for gateway in gateways:
        if gateway.process is not None:
            total += cpu_seconds(gateway.process.pid) or 0.0
    return total


@contextlib.asynccontextmanager
async def _gateways(
    env: dict[str, str], work: Path, size: int
) -> AsyncIterator[list[GatewayProcess]]:
    gateways = [GatewayProcess(env, free_port(), work / f"gateway{i}.log") for i in range(size)]
    try:
        await gateways[0].start()
        await gateways[0].ready(within=120)
        await asyncio.gather(*(g.start() for g in gateways[1:]))
        await asyncio.gather(*(g.ready(within=120) for g in gateways[1:]))
        yield gateways
    finally:
        await asyncio.gather(*(g.stop() for g in gateways))


async def _one(size: int, args: argparse.Namespace, work: Path) -> Outcome:
    product = _Product()
    async with (
        fresh_pg_schema(args.postgres_url) as schema,
        run_emulator(build_state()) as emulator,
        serve_asgi(product.app) as product_server,
    ):
        state = emulator.state
        install = install_app_for_tests(state, ACME)
        app = install.app
        keys = generate_key()
        bot_user_id = install.installation.bot_user_id
        bot_id = install.installation.bot_id
        await seed_database(
            args.postgres_url,
            schema,
            keys,
            app_name="bench",
            app_id=app.id,
            team_id=ACME,
            bot_token=install.bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
        )
        bot = state.workspaces[ACME].users[bot_user_id]
        channels = []
        for i in range(args.channels):
            channel = create_channel(state, ACME, f"bench-{size}-{i}", ALICE)
            join_channel(state, channel, bot, inviter=ALICE)
            channels.append(channel.id)
        proxy = RoundRobinProxy([])
        await proxy.start()
        env = cluster_env(
            DATABASE_URL=args.postgres_url,
            DATABASE_SCHEMA=schema,
            SECRET_KEYS=keys,
            DATA_DIR=str(work / f"data{size}"),
            PUBLIC_URL=proxy.url,
            SLACK_API_URL=emulator.api_url,
            SLACK_URL=emulator.url,
            APPS=json.dumps(
                [{"name": "bench", "app_id": app.id, "signing_secret": app.signing_secret}]
            ),
            API_KEYS=API_KEY,
            WEBHOOK_URL=product_server.url + "/hooks",
            LOG_LEVEL="WARNING",
        )
        load_before = load_line("before")
        try:
            async with _gateways(env, work, size) as gateways:
                proxy.backends = [g.port for g in gateways]
                cpu0 = _cpu(gateways)
                started = time.time()
                acks, errors, ack_seconds = await _ingress(
                    proxy.port, app.signing_secret, app.id, args
                )
                last_progress, seen = time.monotonic(), -1
                while product.posted < acks and time.monotonic() - last_progress < 30:
                    if product.posted != seen:
                        seen, last_progress = product.posted, time.monotonic()
                    await asyncio.sleep(0.2)
                cpu = _cpu(gateways) - cpu0
                delivered_seconds = product.last - started
                state.rate_limiter.reset()
                arrivals = _Arrivals(state, bot_id)
                texts = {ch: [f"{ch}-{n:04d}" for n in range(args.messages)] for ch in channels}
                async with Slackbridge(proxy.url, API_KEY) as sb:

                    async def lane(channel: str) -> None:
                        for text in texts[channel]:
                            await sb.messages.post(ACME, channel, text)

                    posting = time.time()
                    await asyncio.gather(*(lane(ch) for ch in channels))
                    posted = time.time()
                    submit_seconds = posted - posting
                    deadline = time.monotonic() + 600
                    while (
                        sum(len(t) for t in arrivals.by_channel.values())
                        < len(channels) * args.messages
                    ):
                        if time.monotonic() > deadline:
                            break
                        await asyncio.sleep(0.1)
        finally:
            await proxy.close()
        complete = all(
            [
                m.text
                for m in state.workspaces[ACME].channels[ch].messages
                if m.bot_id == bot_id and m.subtype is None
            ]
            == texts[ch]
            for ch in channels
        )
        limited = sum(int(c["limited"]) for c in state.rate_limiter.snapshot()["counters"])
        return Outcome(
            size=size,
            acks=acks,
            ack_seconds=ack_seconds,
            errors=errors,
            delivered=product.posted,
            delivered_seconds=delivered_seconds,
            cpu_seconds=cpu,
            posts=sum(len(t) for t in arrivals.by_channel.values()),
            steady_rate=arrivals.steady_rate(skip=1, after=posted),
            nominal_rate=min(args.channels * 1.0, 10.0),
            ratelimited=limited,
            complete=complete,
            submit_seconds=submit_seconds,
            load_before=load_before,
            load_after=load_line("after"),
        )


def _row(o: Outcome) -> str:
    return (
        f"| {o.size} | {o.ack_rate:,.0f} | {o.errors} | {o.delivered_rate:,.0f} "
        f"({o.delivered}/{o.acks}) | {o.cpu_ms_per_event:.2f} | {o.steady_rate:.2f} / "
        f"{o.nominal_rate:.0f} = {o.share:.0%} | {o.submit_seconds:.1f} | {o.ratelimited} | "
        f"{'yes' if o.complete else 'NO'} | {o.load_before.split(' (')[0].split()[-1]} → "
        f"{o.load_after.split(' (')[0].split()[-1]} |"
    )


def _section(outcomes: list[Outcome], args: argparse.Namespace) -> str:
    header = (
        "| gateways | acks/s | non-2xx | delivered/s (delivered/acked) | CPU ms/event | "
        "outbound msg/s (backlog drain) / allowed | API posting s | 429s | "
        "every post once, in order | load avg (1 min) |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    last = outcomes[-1]
    verdict = (
        "met" if last.share >= TARGET and last.ratelimited == 0 and last.complete else "NOT met"
    )
    return "\n".join(
        [
            SECTION,
            "",
            f"`bench/cluster.py --seconds {args.seconds} --concurrency {args.concurrency} "
            f"--channels {args.channels} --messages {args.messages}` on {machine()}, "
            f"{time.strftime('%Y-%m-%d')}. PostgreSQL on the same machine; the load generator, "
            "the proxy, the emulator and the product run in the bench's own process beside the "
            "gateways, and the two cores are shared with other work (the load averages "
            "before and after each size are in the table), so these are floors.",
            "",
            header,
            *(_row(o) for o in outcomes),
            "",
            f"Target with {last.size} gateways (at least 95% of Slack's allowed rate, no 429, "
            f"nothing lost, doubled or reordered): **{verdict}**. Ingress and delivery do not "
            "scale with processes on two shared cores: every gateway competes for the same "
            "CPU, and PostgreSQL with them; what several gateways buy here is surviving the "
            "loss of one (tests/acceptance/test_cluster.py), with Slack's budget shared, not "
            "multiplied.",
        ]
    )


async def _main(args: argparse.Namespace) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="sb-cluster-bench-") as tmp:
        for size in args.sizes:
            outcome = await _one(size, args, Path(tmp))
            print(_row(outcome), flush=True)
            outcomes.append(outcome)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SLACKBRIDGE_TEST_DATABASE_URL", DEFAULT_URL),
    )
    parser.add_argument("--sizes", default="1,2,3", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--messages", type=int, default=80)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    outcomes = asyncio.run(_main(args))
    if args.record:
        record_section(RESULTS, SECTION, _section(outcomes, args))
    last = outcomes[-1]
    return 0 if last.share >= TARGET and last.ratelimited == 0 and last.complete else 1


if __name__ == "__main__":
    sys.exit(main())
