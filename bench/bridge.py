"""Benchmark: the conversation bridge both ways, with many conversations open.

In one process (the demo's stack: the emulator with Slack's rate limits on, the gateway on
SQLite, and a product that notes when each webhook arrives), the app is installed into Acme the
way a browser does it, ``--conversations`` still conversations are opened through the API (a card
each, threads spread over ``--channels`` channels), and then for ``--seconds`` messages go both
ways at ``--rate`` per second in total, half each way, each to a conversation picked at random:

- product → Slack: ``POST /api/v1/conversations/{key}/messages`` (a persona's message) through
  the client; its latency runs from the API call to the message's arrival in the emulator,
  minus the time the outbox spent waiting on the shared rate limiter for that operation (the
  sender holds a row through short waits and hands it back for long ones: both are counted, from
  the operation's own calls, by wrapping ``Attempt.call`` and ``Outbound.acquire`` here; the
  gateway behaves as it always does), and the time it queued in its lane (a conversation's
  operations go one after the other) while the operation ahead of it waited on the limiter;
- Slack → product: one of Acme's people posts in the conversation's thread (the emulator's own
  ``post_message``, so Slack sends its event); its latency runs from the post to the
  ``conversation.message.created`` webhook's arrival at the product.

It reports p50/p99 each way (and product → Slack with the limiter's wait included), how many
messages went missing, and the echoes: ``conversation.message.created`` webhooks for the bridge's
own posts (cards or product messages), which must be zero. Targets: p99 under 100 ms each way,
nothing missing, zero echoes. ``--record`` writes the "## Bridge" section of bench/RESULTS.md
with the machine's load average (its cores are shared with other work: the figures say so).

    .venv/bin/python bench/bridge.py [--conversations 200] [--rate 20] [--seconds 30]
        [--channels 40] [--quick] [--slowest N] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import io
import random
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from _support import load_line, machine, percentile, record_section
from rich.console import Console
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from slackbridge.client import Slackbridge
from slackbridge.demo.examples import Example, ProductSetup
from slackbridge.demo.stack import DemoConfig, DemoStack
from slackbridge.demo.startup import ACME, ALICE, BOB, CAROL, start_and_install
from slackbridge.demo.steps import Steps
from slackbridge.emulator.ops_channels import create_channel, join_channel
from slackbridge.emulator.ops_messages import post_message
from slackbridge.emulator.state import Signal
from slackbridge.settings import SlackAppConfig
from slackbridge.slack.outbound import outbox_ops
from slackbridge.slack.outbound.web_api import Outbound

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Bridge"
TARGET_MS = 100.0
WEBHOOK_PATH = "/webhooks/bench"
PEOPLE = (ALICE, BOB, CAROL)


# --- the limiter's wait per outbox operation (measured, behaviour unchanged) -----------------

_ROW: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_row", default=None)


@dataclass
class LimiterWaits:
    """When each outbox operation waited on the rate limiter: sleeping in ``Outbound.acquire``
    while holding its row, and handed back (``ratelimited``) until its next attempt; its lane
    and when its first attempt began, so that the time it queued in its lane behind an
    operation that was waiting on the limiter counts as the limiter's too."""

    intervals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    handed_back_at: dict[str, float] = field(default_factory=dict)
    lanes: dict[str, str] = field(default_factory=dict)  # operation → its lane
    first_attempt: dict[str, float] = field(default_factory=dict)

    def install(self) -> Callable[[], None]:
        call, acquire = outbox_ops.Attempt.call, Outbound.acquire
        waits = self

        async def timed_call(attempt: Any, *args: Any, **kwargs: Any) -> Any:
            row = str(attempt.row.message_id)
            now = time.time()
            waits.first_attempt.setdefault(row, now)
            waits.lanes.setdefault(row, str(attempt.row.lane_key or row))
            back = waits.handed_back_at.pop(row, None)
            if back is not None:
                waits.add(row, back, now)
            token = _ROW.set(row)
            try:
                outcome = await call(attempt, *args, **kwargs)
            finally:
                _ROW.reset(token)
            if getattr(outcome, "code", None) == "ratelimited":
                waits.handed_back_at[row] = time.time()
            return outcome

        async def timed_acquire(outbound: Any, *args: Any, **kwargs: Any) -> float:
            began = time.time()
            wait: float = await acquire(outbound, *args, **kwargs)
            row = _ROW.get()
            if row is not None:
                waits.add(row, began, time.time())
            return wait

        outbox_ops.Attempt.call = timed_call  # type: ignore[method-assign,assignment]
        Outbound.acquire = timed_acquire  # type: ignore[method-assign,assignment]

        def undo() -> None:
            outbox_ops.Attempt.call = call  # type: ignore[method-assign]
            Outbound.acquire = acquire  # type: ignore[method-assign]

        return undo

    def add(self, row: str, began: float, ended: float) -> None:
        if ended - began > 0.0005:
            self.intervals.setdefault(row, []).append((began, ended))

    def waited(self, row: str, queued_at: float) -> float:
        """Seconds operation ``row`` (queued at ``queued_at``) lost to the limiter: its own
        waits, and the part of its time in the lane before its first attempt during which
        another operation of the lane was waiting on the limiter."""
        own = self.intervals.get(row, [])
        spans = list(own)
        lane, first = self.lanes.get(row), self.first_attempt.get(row)
        if lane is not None and first is not None:
            for other, other_lane in self.lanes.items():
                if other != row and other_lane == lane:
                    for began, ended in self.intervals.get(other, []):
                        began, ended = max(began, queued_at), min(ended, first)
                        if ended > began:
                            spans.append((began, ended))
        return _union(spans)


def _union(spans: list[tuple[float, float]]) -> float:
    """The total length of the union of ``spans``."""
    total, reach = 0.0, float("-inf")
    for began, ended in sorted(spans):
        if ended <= reach:
            continue
        total += ended - max(began, reach)
        reach = ended
    return total


# --- the product: notes each webhook's arrival ------------------------------------------------


@dataclass
class Product:
    created: dict[str, float] = field(default_factory=dict)  # text → arrival (time.time())
    created_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)

    def app(self, setup: ProductSetup) -> Starlette:
        async def webhook(request: Request) -> Response:
            arrived = time.time()
            body = orjson.loads(await request.body())
            kind = str(body.get("type"))
            self.types[kind] = self.types.get(kind, 0) + 1
            if kind == "conversation.message.created":
                message = body["data"]["message"]
                text = str(message.get("text") or "")
                self.created.setdefault(text, arrived)
                self.created_meta[text] = message
            return JSONResponse({"ok": True})

        async def install(_request: Request) -> Response:
            async with Slackbridge(setup.gateway_url, setup.api_key) as sb:
                url = await sb.workspaces.install_url("bench")
            return RedirectResponse(url, status_code=302)

        return Starlette(
            routes=[
                Route(WEBHOOK_PATH, webhook, methods=["POST"]),
                Route("/install", install),
            ]
        )


# --- the run --------------------------------------------------------------------------------


@dataclass
class Result:
    conversations: int
    seconds: float
    sent_out: int
    sent_in: int
    out_ms: list[float]  # product → Slack, limiter wait excluded (seconds)
    out_raw_ms: list[float]  # product → Slack, limiter wait included (seconds)
    in_ms: list[float]  # Slack → product (seconds)
    missing_out: int
    missing_in: int
    echoes: int
    waited_ops: int  # operations that waited on the limiter at all
    setup_seconds: float
    #: (direction, seconds into the load, latency seconds) of every message, for --slowest
    samples: list[tuple[str, float, float]] = field(default_factory=list)

    def ok(self) -> bool:
        return (
            self.echoes == 0
            and self.missing_out == 0
            and self.missing_in == 0
            and bool(self.out_ms)
            and bool(self.in_ms)
            and percentile(self.out_ms, 99) < TARGET_MS
            and percentile(self.in_ms, 99) < TARGET_MS
        )


def _free_base() -> int:
    """A port base with three free consecutive ports."""
    for _ in range(200):
        base = random.randint(20000, 60000)
        socks = []
        try:
            for offset in range(3):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(sock)
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free ports")


async def _until(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {within:g} s")
        await asyncio.sleep(0.05)


async def _main(args: argparse.Namespace) -> Result:
    product = Product()

    async def no_walkthrough(_stack: DemoStack, _steps: Steps) -> None:
        return None

    example = Example(
        name="bench",
        title="the bench product",
        app=SlackAppConfig(name="bench", display_name="Bench"),
        webhook_path=WEBHOOK_PATH,
        create_product=product.app,
        walkthrough=no_walkthrough,
        guide=lambda _urls: [],
        gateway_settings={"log_level": "WARNING"},
    )
    waits = LimiterWaits()
    undo = waits.install()
    rng = random.Random(12)
    with tempfile.TemporaryDirectory(prefix="slackbridge-bench-bridge-") as tmp:
        stack = DemoStack(DemoConfig(port_base=_free_base(), data_dir=Path(tmp) / "demo"), example)
        try:
            stack.bind_ports()
            began = time.monotonic()
            await start_and_install(stack, Steps(Console(file=io.StringIO())))
            result = await _run(stack, product, waits, args, rng, began)
        finally:
            await stack.aclose()
            undo()
    return result


async def _run(
    stack: DemoStack,
    product: Product,
    waits: LimiterWaits,
    args: argparse.Namespace,
    rng: random.Random,
    began: float,
) -> Result:
    state = stack.emulator_state
    assert stack.workspace is not None and stack.api_key is not None
    ws = state.workspaces[ACME]
    bot = ws.users[str(stack.workspace["bot_user_id"])]
    channels = []
    for n in range(args.channels):
        channel = create_channel(state, ACME, f"bench-{n}", ALICE)
        for user in (BOB, CAROL):
            join_channel(state, channel, ws.users[user], inviter=ALICE)
        join_channel(state, channel, bot, inviter=ALICE)
        channels.append(channel)

    arrivals: dict[str, float] = {}  # text of the bridge's posts → arrival at Slack

    def heard(signal: Signal) -> None:
        if signal.kind == "message" and signal.data.get("bot_id"):
            text = str((signal.data.get("message") or {}).get("text") or "")
            arrivals.setdefault(text, time.time())

    state.listeners.append(heard)
    async with Slackbridge(stack.urls.gateway, stack.api_key, timeout=60.0) as sb:
        gate = asyncio.Semaphore(20)
        keys = [f"bench-{n:04d}" for n in range(args.conversations)]

        async def open_one(n: int, key: str) -> tuple[str, str, str]:
            async with gate:
                channel = channels[n % len(channels)]
                await sb.conversations.put(
                    key,
                    workspace=ACME,
                    mode="still",
                    channel=channel.id,
                    card={"text": f"card {key}"},
                )
                opened = await sb.conversations.wait_open(key, within=300)
            assert opened.thread_ts is not None, opened
            return key, channel.id, opened.thread_ts

        places = await asyncio.gather(*(open_one(n, k) for n, k in enumerate(keys)))
        # Warm up each person's profile in the gateway's user cache (a first author costs a
        # users.info); not measured.
        for person in PEOPLE:
            _, channel_id, thread_ts = places[0]
            post_message(
                state,
                ws.channels[channel_id],
                ws.users[person],
                text=f"hello {person}",
                thread_ts=thread_ts,
            )
        await _until(
            lambda: all(f"hello {p}" in product.created for p in PEOPLE), 30, "the warm-up"
        )
        setup_seconds = time.monotonic() - began

        out_started: dict[str, float] = {}  # text → when the API call began
        out_ops: dict[str, str] = {}  # text → operation id
        in_started: dict[str, float] = {}
        tasks: set[asyncio.Task[None]] = set()

        async def post_out(text: str, key: str, n: int) -> None:
            out_started[text] = time.time()
            answer = await sb.conversations.post(
                key, id=f"m{n}", author={"persona": {"name": "Agent"}}, text=text
            )
            out_ops[text] = str(answer.operation_id)

        total = int(args.rate * args.seconds)
        load_began = time.monotonic()
        load_began_wall = time.time()
        for n in range(total):
            delay = load_began + n / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            key, channel_id, thread_ts = rng.choice(places)
            if n % 2 == 0:
                task = asyncio.create_task(post_out(f"out-{n}", key, n))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            else:
                text = f"in-{n}"
                in_started[text] = time.time()
                post_message(
                    state,
                    ws.channels[channel_id],
                    ws.users[rng.choice(PEOPLE)],
                    text=text,
                    thread_ts=thread_ts,
                )
        load_seconds = time.monotonic() - load_began
        await asyncio.gather(*list(tasks))

        def settled() -> bool:
            return all(t in arrivals for t in out_started) and all(
                t in product.created for t in in_started
            )

        with contextlib.suppress(TimeoutError):
            await _until(settled, 120, "every message's arrival")
        await asyncio.sleep(2.0)  # echoes, if any, would come now

    own = set(arrivals) | {f"card {k}" for k in keys}
    echoes = sum(
        1
        for text, message in product.created_meta.items()
        if text in own or message.get("product_message_id")
    )
    out_ms, out_raw_ms, samples = [], [], []
    for text, started in out_started.items():
        if text in arrivals:
            raw = arrivals[text] - started
            waited = waits.waited(out_ops.get(text, ""), started)
            out_raw_ms.append(raw)
            out_ms.append(max(0.0, raw - waited))
            samples.append(("product → Slack", started - load_began_wall, out_ms[-1]))
    in_ms = []
    for text, started in in_started.items():
        if text in product.created:
            in_ms.append(product.created[text] - started)
            samples.append(("Slack → product", started - load_began_wall, in_ms[-1]))
    return Result(
        conversations=len(keys),
        seconds=load_seconds,
        sent_out=len(out_started),
        sent_in=len(in_started),
        out_ms=out_ms,
        out_raw_ms=out_raw_ms,
        in_ms=in_ms,
        missing_out=sum(1 for t in out_started if t not in arrivals),
        missing_in=sum(1 for t in in_started if t not in product.created),
        echoes=echoes,
        waited_ops=sum(
            1 for text, op in out_ops.items() if waits.waited(op, out_started[text]) > 0.001
        ),
        setup_seconds=setup_seconds,
        samples=samples,
    )


def _ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p):.1f}" if values else "n/a"


def _within(values: list[float]) -> float:
    return sum(1 for v in values if v * 1000 < TARGET_MS) / len(values) if values else 0.0


def _lines(r: Result) -> list[str]:
    return [
        f"product → Slack: {r.sent_out} sent, {r.missing_out} missing; limiter wait excluded "
        f"p50 {_ms(r.out_ms, 50)} ms, p99 {_ms(r.out_ms, 99)} ms (included: p50 "
        f"{_ms(r.out_raw_ms, 50)} ms, p99 {_ms(r.out_raw_ms, 99)} ms; {r.waited_ops} operations "
        "waited on the limiter)",
        f"Slack → product: {r.sent_in} posted, {r.missing_in} missing; webhook p50 "
        f"{_ms(r.in_ms, 50)} ms, p99 {_ms(r.in_ms, 99)} ms",
        f"echoes (conversation.message.created for the bridge's own posts): {r.echoes}",
    ]


def _section(r: Result, args: argparse.Namespace) -> str:
    verdict = "met" if r.ok() else "NOT met"
    return (
        f"{SECTION}\n\n"
        f"{r.conversations} open still conversations (threads over {args.channels} channels of "
        f"one workspace), then {r.sent_out + r.sent_in} messages in {r.seconds:.1f} s "
        f"({args.rate:g}/s in total, half each way, each to a conversation picked at random): "
        "the product posts as a persona through `POST /api/v1/conversations/{key}/messages`, "
        "and Acme's people post in the threads in the emulator. One process runs the emulator "
        "(Slack's rate limits on), the gateway (SQLite) and the product, after an install "
        "through Add to Slack. Product → Slack runs from the API call to the message's arrival "
        "in Slack, minus the time the outbox spent waiting on the rate limiter for that "
        "operation: its own waits, and its time queued in its lane (one per conversation, in "
        "order) while the operation ahead of it waited on the limiter (measured by wrapping the "
        "sender's calls, which are not changed); Slack → product from "
        "the person's post to the `conversation.message.created` webhook's arrival. An echo is "
        "a `conversation.message.created` for one of the bridge's own posts (a card or a "
        "product message). Run with `.venv/bin/python bench/bridge.py --record`.\n\n"
        "| direction | messages | missing | p50 ms | p99 ms | with limiter wait p50 / p99 ms |\n"
        "|---|---:|---:|---:|---:|---|\n"
        f"| product → Slack | {r.sent_out} | {r.missing_out} | {_ms(r.out_ms, 50)} "
        f"| {_ms(r.out_ms, 99)} | {_ms(r.out_raw_ms, 50)} / {_ms(r.out_raw_ms, 99)} "
        f"({r.waited_ops} operations waited) |\n"
        f"| Slack → product | {r.sent_in} | {r.missing_in} | {_ms(r.in_ms, 50)} "
        f"| {_ms(r.in_ms, 99)} | |\n\n"
        f"Under {TARGET_MS:.0f} ms: {_within(r.out_ms):.1%} product → Slack, "
        f"{_within(r.in_ms):.1%} Slack → product. "
        f"Echoes: {r.echoes}. Setup (start, install, {r.conversations} cards within Slack's "
        f"limits): {r.setup_seconds:.0f} s. Target: p99 under {TARGET_MS:.0f} ms each way, "
        f"nothing missing, zero echoes: {verdict}.\n\n"
        f"Machine: {machine()}; {load_line('at the end')}. Its 2 cores are shared with other "
        "engineers' work (tests, benches), so the figures carry their noise. "
        f"Recorded {time.strftime('%Y-%m-%d')}.\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="messages/s, both ways")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="20 conversations for 5 s")
    parser.add_argument(
        "--slowest", type=int, default=0, help="print the N slowest messages (when, how long)"
    )
    parser.add_argument("--record", action="store_true", help=f"write the result to {RESULTS}")
    args = parser.parse_args()
    if args.quick:
        args.conversations, args.seconds, args.channels = 20, 5.0, 10
    if not (1 <= args.conversations <= 2000 and 0 < args.rate <= 200 and args.seconds > 0):
        parser.error("--conversations 1..2000, --rate 0..200, --seconds > 0")
    if not 1 <= args.channels <= 200:
        parser.error("--channels 1..200")
    result = asyncio.run(_main(args))
    for line in _lines(result):
        print(line)
    for direction, at, took in sorted(result.samples, key=lambda x: -x[2])[: args.slowest]:
        print(f"  slow: {direction} at {at:6.2f} s into the load took {took * 1000:7.1f} ms")
    if args.slowest:
        buckets: dict[tuple[str, int], list[float]] = {}
        for direction, at, took in result.samples:
            buckets.setdefault((direction, int(at // 5) * 5), []).append(took)
        for (direction, start), values in sorted(buckets.items()):
            print(f"  {direction} {start:3d}-{start + 5:3d} s: p50 {_ms(values, 50)} ms")
    if result.samples:
        within = sum(1 for _, _, took in result.samples if took * 1000 < TARGET_MS)
        print(f"under {TARGET_MS:.0f} ms: {within / len(result.samples):.1%} of the messages")
    print(f"target (p99 < {TARGET_MS:.0f} ms each way, nothing missing, no echo): ", end="")
    print("met" if result.ok() else "NOT met")
    if args.record:
        record_section(RESULTS, SECTION, _section(result, args))
    return 0 if result.ok() else 1


if __name__ == "__main__":
    raise SystemExit(main())
