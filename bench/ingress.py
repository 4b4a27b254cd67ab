"""Benchmark: Slack's events through slackbridge to a product, as users run it, beside Bolt.

In one run on one machine: ``slackbridge serve`` (one process, a webhook endpoint configured)
delivers to a product in its own process (a bare ASGI app under uvicorn that answers 200 at once
and notes when each webhook arrived), and a minimal Bolt for Python app (``AsyncApp`` behind
uvicorn, one no-op ``message`` listener, acking before the listener runs, storing nothing) gets
the same requests. The load is signed ``event_callback`` message events from ``--concurrency``
keep-alive connections (a minimal HTTP/1.1 client on asyncio streams, requests signed ahead of
time). Scenarios:

- flat out over ``--channels`` channels, and flat out in one hot channel;
- paced at 100, 1,000 and 3,000 events/s over many channels, and at 500/s in one hot channel.

For each it reports acks/s, ack p50/p99, non-2xx answers, then waits until the product has
received every acked event (or stops making progress) and reports how many arrived, end-to-end
latency (the ack to the webhook's arrival, both on this machine's clock) p50/p99, delivered
events/s (from the first request to the last arrival) and whether each channel's webhooks
arrived in order (an event acked before another was sent must arrive first). Bolt's ack rate is
measured flat out in the same run. ``--database postgres`` runs slackbridge on PostgreSQL
(``--postgres-url``, a schema of its own, dropped afterwards).

With ``--record`` the result is written as the "## Ingress" section of bench/RESULTS.md (or
"## Ingress (PostgreSQL)").

    .venv/bin/python bench/ingress.py [--database sqlite|postgres] [--requests 20000]
        [--seconds 20] [--concurrency 32] [--channels 64] [--quick] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from _support import (
    cpu_seconds,
    free_port,
    load_line,
    machine,
    percentile,
    postgres_cpu_seconds,
    read_response,
    record_section,
    spawn,
)

RESULTS = Path(__file__).with_name("RESULTS.md")
SIGNING_SECRET = "bench-signing-secret-0123456789ab"
APP_ID = "A0BENCH001"
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

BOLT_APP = f"""
from slack_bolt.async_app import AsyncApp
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from starlette.applications import Starlette
from starlette.routing import Route


async def authorize(enterprise_id, team_id, logger):
    # No network: a fixed bot identity instead of auth.test.
    return AuthorizeResult(
        enterprise_id=enterprise_id, team_id=team_id,
        bot_token="xoxb-bench", bot_id="B0BENCH", bot_user_id="U0BENCHBOT",
    )


bolt = AsyncApp(signing_secret={SIGNING_SECRET!r}, authorize=authorize)


@bolt.event("message")
async def noop():
    pass


handler = AsyncSlackRequestHandler(bolt)


async def events(request):
    return await handler.handle(request)


app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
"""

# The product: answers every webhook 200 at once and notes (run, channel, n, arrival time) from
# the marker in the message text; GET /arrivals?run=X returns (and forgets) a run's notes.
PRODUCT_APP = r"""
import json
import re
import time

_MARK = re.compile(rb"bm:([A-Za-z0-9]+):([0-9]+):([0-9]+)")
_arrivals = {}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    now = time.time()
    out = b""
    if scope["method"] == "GET":
        run = scope["query_string"].decode().partition("=")[2]
        out = json.dumps(_arrivals.pop(run, [])).encode()
    else:
        found = _MARK.search(body)
        if found:
            _arrivals.setdefault(found[1].decode(), []).append(
                (int(found[2]), int(found[3]), now)
            )
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(out)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": out})
"""


@dataclass
class Scenario:
    name: str
    channels: int
    rate: float | None  # events/s offered; None: flat out
    requests: int
    seconds: float


@dataclass
class Sent:
    n: int
    channel: int
    sent: float  # time.time() the request was written
    acked: float | None = None  # time.time() of a 200


@dataclass
class Outcome:
    server: str
    scenario: Scenario
    acked: int = 0
    non_2xx: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    server_cpu: float | None = None
    #: CPU seconds from the first request to the last webhook's arrival: the gateway's, the
    #: product's, and the load generator's while it sent (None where not measured).
    server_cpu_total: float | None = None
    product_cpu: float | None = None
    #: The PostgreSQL server's CPU seconds over the same span, when it runs on this machine.
    database_cpu: float | None = None
    client_cpu: float | None = None
    delivered: int | None = None
    e2e: list[float] = field(default_factory=list)
    delivery_seconds: float = 0.0
    in_order: bool | None = None
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def ack_rate(self) -> float:
        return self.acked / self.seconds if self.seconds else 0.0

    @property
    def delivered_rate(self) -> float:
        return (self.delivered or 0) / self.delivery_seconds if self.delivery_seconds else 0.0


def _per_event_us(seconds: float | None, events: int | None) -> float | None:
    return seconds / events * 1e6 if seconds is not None and events else None


def _signed_request(port: int, run: str, n: int, channel: int) -> bytes:
    now = int(time.time())
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T0ACME0001",
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": f"Ev{run}{n:09d}",
            "event_time": now,
            "event": {
                "type": "message",
                "channel": f"C0BENCH{channel:03d}",
                "channel_type": "channel",
                "user": "U0ACME0001",
                "text": f"bm:{run}:{channel}:{n}",
                "ts": f"{now}.{n % 1_000_000:06d}",
            },
            "authorizations": [{"team_id": "T0ACME0001", "user_id": "U0BENCHBOT"}],
        },
        separators=(",", ":"),
    ).encode()
    base = f"v0:{now}:".encode() + body
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    head = (
        "POST /slack/events HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"X-Slack-Request-Timestamp: {now}\r\n"
        f"X-Slack-Signature: {signature}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _load(
    port: int, scenario: Scenario, run: str, concurrency: int
) -> tuple[list[Sent], float, dict[int, int], float]:
    """Send the scenario's requests (paced or flat out); returns what was sent, the seconds
    it took, the count of answers per status and the CPU seconds this process spent sending."""
    # Signed ahead of time (the load generator then spends its CPU on sending), unless the run
    # is longer than Slack's 5-minute window for a request's timestamp: then signed when sent.
    ahead = scenario.seconds <= 240
    prepared = [
        _signed_request(port, run, n, n % scenario.channels) if ahead else b""
        for n in range(scenario.requests)
    ]
    sent: list[Sent] = []
    statuses: dict[int, int] = {}
    issued = 0
    cpu_start = time.process_time()
    start = time.perf_counter()
    deadline = start + scenario.seconds

    async def worker() -> None:
        nonlocal issued
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while issued < len(prepared) and time.perf_counter() < deadline:
                n = issued
                issued += 1
                if scenario.rate is not None:
                    due = start + n / scenario.rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                record = Sent(n, n % scenario.channels, time.time())
                sent.append(record)
                writer.write(
                    prepared[n] if ahead else _signed_request(port, run, n, n % scenario.channels)
                )
                status, _body = await read_response(reader)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    record.acked = time.time()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent, time.perf_counter() - start, statuses, time.process_time() - cpu_start


async def _get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        _status, body = await read_response(reader)
        return body
    finally:
        writer.close()


async def _arrivals(
    product_port: int, run: str, expected: int, stall: float
) -> list[tuple[int, int, float]]:
    """Collect the product's arrivals for ``run`` until ``expected`` arrived or none came for
    ``stall`` seconds."""
    got: list[tuple[int, int, float]] = []
    last_progress = time.monotonic()
    while len(got) < expected and time.monotonic() - last_progress < stall:
        await asyncio.sleep(0.25)
        new = [tuple(x) for x in json.loads(await _get(product_port, f"/arrivals?run={run}"))]
        if new:
            got += new  # type: ignore[arg-type]
            last_progress = time.monotonic()
    return got


async def _run_scenario(
    server: str,
    proc: subprocess.Popen[bytes],
    port: int,
    product: tuple[subprocess.Popen[bytes], int] | None,
    scenario: Scenario,
    concurrency: int,
    stall: float,
    *,
    database_cpu: bool = False,
) -> Outcome:
    """One scenario against ``server``; ``database_cpu``: also count this machine's PostgreSQL
    server's CPU (the store's share of the work)."""
    run = uuid.uuid4().hex[:10]
    stalls = getattr(proc, "stalls", False)
    if stalls:
        proc.send_signal(signal.SIGUSR2)  # the stall report so far (warm-up, previous runs)
    before = cpu_seconds(proc.pid)
    product_before = cpu_seconds(product[0].pid) if product else None
    database_before = postgres_cpu_seconds() if database_cpu else None
    started = time.time()
    sent, seconds, statuses, client_cpu = await _load(port, scenario, run, concurrency)
    after = cpu_seconds(proc.pid)
    if stalls:
        proc.send_signal(signal.SIGUSR2)  # the stalls while the requests were sent
    out = Outcome(server, scenario, seconds=seconds, statuses=statuses, client_cpu=client_cpu)
    out.acked = sum(1 for s in sent if s.acked is not None)
    out.non_2xx = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    out.latencies = [s.acked - s.sent for s in sent if s.acked is not None]
    if before is not None and after is not None:
        out.server_cpu = after - before
    if product is None:
        out.server_cpu_total = out.server_cpu
        return out
    product_proc, product_port = product
    by_n = {s.n: s for s in sent}
    arrivals = await _arrivals(product_port, run, out.acked, stall)
    # CPU up to the last arrival (the polls of /arrivals cost the product a little too).
    end, product_end = cpu_seconds(proc.pid), cpu_seconds(product_proc.pid)
    if stalls:
        proc.send_signal(signal.SIGUSR2)  # the stalls while the backlog drained
    if before is not None and end is not None:
        out.server_cpu_total = end - before
    if product_before is not None and product_end is not None:
        out.product_cpu = product_end - product_before
    database_end = postgres_cpu_seconds() if database_before is not None else None
    if database_before is not None and database_end is not None:
        out.database_cpu = database_end - database_before
    out.delivered = len({n for _c, n, _t in arrivals})
    e2e = []
    for _channel, n, at in arrivals:
        record = by_n.get(n)
        if record is not None and record.acked is not None:
            e2e.append(max(0.0, at - record.acked))
    out.e2e = e2e
    if arrivals:
        out.delivery_seconds = max(at for _c, _n, at in arrivals) - started
    out.in_order = _ordered(by_n, arrivals)
    return out


def _ordered(by_n: dict[int, Sent], arrivals: list[tuple[int, int, float]]) -> bool:
    """Per channel, no webhook arrived after one whose request was sent after its own ack."""
    by_channel: dict[int, list[tuple[float, int]]] = {}
    for channel, n, at in arrivals:
        by_channel.setdefault(channel, []).append((at, n))
    for items in by_channel.values():
        items.sort()
        latest_sent = 0.0
        for _at, n in items:
            record = by_n.get(n)
            if record is None or record.acked is None:
                continue
            if record.acked < latest_sent:
                return False  # acked before an earlier-arrived event was even sent
            latest_sent = max(latest_sent, record.sent)
    return True


@contextlib.contextmanager
def _process(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out, spawn(cmd, out, env=env, grace=15) as proc:
        yield proc


async def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            tail = await asyncio.to_thread(log.read_text)
            raise SystemExit(f"server exited with {proc.returncode}:\n{tail[-3000:]}")
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"server on port {port} did not start within 60s")
        await asyncio.sleep(0.1)


def _uvicorn(module: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"{module}:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def _slackbridge_env(work: Path, product_port: int, database: str, schema: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")}
    env.update(
        SLACKBRIDGE_DATA_DIR=str(work / "slackbridge"),
        SLACKBRIDGE_LOG_LEVEL="WARNING",
        SLACKBRIDGE_SLACK_API_URL="http://127.0.0.1:9/api/",  # never reached: no install
        SLACKBRIDGE_APPS=json.dumps(
            [{"name": "bench", "app_id": APP_ID, "signing_secret": SIGNING_SECRET}]
        ),
        SLACKBRIDGE_WEBHOOK_URL=f"http://127.0.0.1:{product_port}/webhooks",
    )
    if database != "sqlite":
        env.update(SLACKBRIDGE_DATABASE_URL=database, SLACKBRIDGE_DATABASE_SCHEMA=schema)
    return env


async def _drop_schema(url: str, schema: str) -> None:
    import asyncpg  # the bench's own dependency on PostgreSQL runs only

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def _vacuum_if_autovacuum_is_off(url: str, schema: str) -> bool:
    """Between scenarios on PostgreSQL: if the server runs without autovacuum (this machine's
    test server does), ``VACUUM (ANALYZE)`` the schema's tables, as autovacuum would have
    by then on a server with its defaults. Without it every settled queue row leaves dead
    versions in the queues' indexes (40,000 deliveries: 53,000 dead rows) and each later
    scenario starts slower than the last, which no deployment with autovacuum on would see.
    Returns whether it vacuumed."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        if await conn.fetchval("SELECT current_setting('autovacuum')") == "on":
            return False
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
        for row in tables:
            await conn.execute(f'VACUUM (ANALYZE) "{schema}"."{row["tablename"]}"')
        return True
    finally:
        await conn.close()


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    paced_seconds = 5.0 if args.quick else 10.0
    many = args.channels
    out = [
        Scenario(f"flat out, {many} channels", many, None, args.requests, args.seconds),
        Scenario("flat out, 1 hot channel", 1, None, args.requests, args.seconds),
    ]
    for rate in (100, 1000, 3000):
        n = int(rate * paced_seconds)
        out.append(Scenario(f"paced {rate:,}/s, {many} channels", many, rate, n, paced_seconds * 2))
    out.append(
        Scenario("paced 500/s, 1 hot channel", 1, 500, int(500 * paced_seconds), paced_seconds * 2)
    )
    return [s for s in out if args.scenario in s.name]


async def _main(args: argparse.Namespace) -> tuple[list[Outcome], Outcome, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    database = "sqlite" if args.database == "sqlite" else args.postgres_url
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="slackbridge-bench-") as tmp:
        work = Path(tmp)
        (work / "bolt_bench_app.py").write_text(BOLT_APP)
        (work / "product_bench_app.py").write_text(PRODUCT_APP)
        pyenv = {**os.environ, "PYTHONPATH": str(work)}
        ours_port, bolt_port, product_port = free_port(), free_port(), free_port()
        ours_cmd = [sys.executable, "-m", "slackbridge.cli", "serve", "--port", str(ours_port)]
        if args.profile:
            # The gateway under cProfile (slower): where its CPU per event goes, by function;
            # SIGUSR1 writes the stats so far (sent once the scenarios ran).
            (work / "profiled_serve.py").write_text(PROFILED_SERVE)
            ours_cmd[1:3] = [str(work / "profiled_serve.py"), args.profile]
        elif args.stalls:
            # The event loop's lag and what runs while it is late (bench/loop_stalls.py).
            ours_cmd[1:3] = [str(Path(__file__).with_name("loop_stalls.py")), args.stalls]
        env = _slackbridge_env(work, product_port, database, schema)
        if args.no_product:
            del env["SLACKBRIDGE_WEBHOOK_URL"]  # the gateway alone: its acks' own cost
        try:
            with (
                _process(_uvicorn("product_bench_app", product_port), pyenv, work / "p.log") as pp,
                _process(ours_cmd, env, work / "slackbridge.log") as ours,
                _process(_uvicorn("bolt_bench_app", bolt_port), pyenv, work / "bolt.log") as bolt,
            ):
                await _wait_ready(product_port, pp, work / "p.log")
                await _wait_ready(ours_port, ours, work / "slackbridge.log")
                ours.stalls = bool(args.stalls)  # type: ignore[attr-defined]
                await _wait_ready(bolt_port, bolt, work / "bolt.log")
                product = None if args.no_product else (pp, product_port)
                warm = Scenario("warm-up", args.channels, None, 2000, 15)
                await _run_scenario(
                    "slackbridge", ours, ours_port, product, warm, args.concurrency, 20
                )
                await _run_scenario("bolt", bolt, bolt_port, None, warm, args.concurrency, 0)
                bolt_runs: list[Outcome] = []
                for scenario in _scenarios(args):
                    if database != "sqlite" and await _vacuum_if_autovacuum_is_off(
                        database, schema
                    ):
                        args.vacuumed = True  # said in the recorded section
                    if scenario.rate is None and scenario.channels > 1:
                        # Bolt flat out beside it, on the same stream of requests.
                        bolt_runs.append(
                            await _run_scenario(
                                "bolt", bolt, bolt_port, None, scenario, args.concurrency, 0
                            )
                        )
                    outcome = await _run_scenario(
                        "slackbridge",
                        ours,
                        ours_port,
                        product,
                        scenario,
                        args.concurrency,
                        args.stall,
                        database_cpu=database != "sqlite",
                    )
                    _print(outcome)
                    outcomes.append(outcome)
                bolt_runs.append(
                    await _run_scenario(
                        "bolt", bolt, bolt_port, None, _scenarios(args)[0], args.concurrency, 0
                    )
                )
                if args.profile:
                    _dump_profile(ours, Path(args.profile))
                log = (work / "slackbridge.log").read_text(errors="replace")
        finally:
            if database != "sqlite":
                await _drop_schema(database, schema)
    bolt_out = bolt_runs[0]
    bolt_out.acked = sum(o.acked for o in bolt_runs)
    bolt_out.seconds = sum(o.seconds for o in bolt_runs)
    bolt_out.latencies = [x for o in bolt_runs for x in o.latencies]
    bolt_out.non_2xx = sum(o.non_2xx for o in bolt_runs)
    return outcomes, bolt_out, log


PROFILED_SERVE = """
import cProfile, signal, sys, time
from slackbridge.cli import main
# CPU time, not wall time: on shared cores, waiting for a core is not the gateway's cost.
profile, path = cProfile.Profile(time.process_time), sys.argv[1]
def dump(_signum, _frame):
    profile.disable()
    profile.dump_stats(path)
    profile.enable()
signal.signal(signal.SIGUSR1, dump)
sys.argv = ["slackbridge", *sys.argv[2:]]
profile.enable()
main()
"""


def _dump_profile(proc: subprocess.Popen[bytes], path: Path) -> None:
    """Ask the profiled gateway for its stats and wait for them (the scenarios are over)."""
    path.unlink(missing_ok=True)
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # let it finish writing
    print(f"profile written to {path}" if path.exists() else "no profile was written")


def _ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p):.1f}" if values else "n/a"


def _row(o: Outcome) -> str:
    offered = "flat out" if o.scenario.rate is None else f"{o.scenario.rate:,.0f}/s"
    per_event = _per_event_us(o.server_cpu_total, o.delivered if o.delivered else o.acked)
    cpu = f"{per_event:.0f}" if per_event is not None else "n/a"
    delivered = "" if o.delivered is None else f"{o.delivered}"
    rate = "" if o.delivered is None else f"{o.delivered_rate:,.0f}"
    order = "" if o.in_order is None else ("yes" if o.in_order else "**no**")
    return (
        f"| {o.server} | {o.scenario.name} | {offered} | {o.acked} | **{o.ack_rate:,.0f}** "
        f"| {_ms(o.latencies, 50)} | {_ms(o.latencies, 99)} | {o.non_2xx} | {delivered} "
        f"| {_ms(o.e2e, 50)} | {_ms(o.e2e, 99)} | {rate} | {order} | {cpu} |"
    )


def _budget(flat: Outcome, bolt: Outcome) -> tuple[str, list[tuple[str, bool]]]:
    """What the flat-out targets ask of the machine's CPU, against what each process spends.

    Acking at twice Bolt's rate B while delivering at B means the run's N events are acked in
    N/2B seconds and delivered within N/B: in that time the gateway (one process, one event
    loop: at most one core) has 1/B seconds of CPU per event, and the whole machine (2 cores:
    the load generator, the gateway, the product) 2/B."""
    gen = _per_event_us(flat.client_cpu, flat.acked)
    gateway = _per_event_us(flat.server_cpu_total, flat.delivered)
    sending = _per_event_us(flat.server_cpu, flat.acked)
    product = _per_event_us(flat.product_cpu, flat.delivered)
    bolt_ack = _per_event_us(bolt.server_cpu, bolt.acked)
    bolt_gen = _per_event_us(bolt.client_cpu, bolt.acked)
    database = _per_event_us(flat.database_cpu, flat.delivered)
    if None in (gen, gateway, product) or not bolt.ack_rate:
        return "", []
    assert gen is not None and gateway is not None and product is not None
    one_core = 1e6 / bolt.ack_rate
    machine_cores = 2 * one_core
    total = gen + gateway + product + (database or 0.0)
    server_row = (
        ""
        if database is None
        else f"| PostgreSQL server (per delivered event) | {database:.0f} |\n"
    )
    text = (
        "| process | CPU µs per event (flat out, spread) |\n|---|---:|\n"
        f"| load generator (sending, per request) | {gen:.0f} |\n"
        f"| slackbridge (ack to delivery, per delivered event) | {gateway:.0f} |\n"
        f"| slackbridge (while sending, per acked request) | {sending or 0:.0f} |\n"
        f"{server_row}"
        f"| product (per webhook) | {product:.0f} |\n"
        f"| Bolt (per ack; its load generator: {bolt_gen or 0:.0f}) | {bolt_ack or 0:.0f} |\n"
    )
    everyone = "load generator, gateway" + (", PostgreSQL server" if database else "")
    checks = [
        (
            f"CPU budget: the gateway's one event loop within 1/B = {one_core:.0f} µs per event "
            f"({gateway:.0f} µs)",
            gateway <= one_core,
        ),
        (
            f"CPU budget: the {everyone} and product within the 2 cores' "
            f"2/B = {machine_cores:.0f} µs per event ({total:.0f} µs)",
            total <= machine_cores,
        ),
    ]
    return text, checks


def _print(o: Outcome) -> None:
    print(_row(o), flush=True)


def _verdicts(outcomes: list[Outcome], bolt: Outcome, log: str) -> list[tuple[str, bool]]:
    flat = outcomes[0]
    paced_1000 = next(o for o in outcomes if o.scenario.rate == 1000)
    hot = next(o for o in outcomes if o.scenario.rate == 500)
    all_delivered = all(o.delivered == o.acked for o in outcomes)
    return [
        (
            f"flat out: acks at least 2x Bolt's ({flat.ack_rate:,.0f} vs {bolt.ack_rate:,.0f}/s)",
            flat.ack_rate >= 2 * bolt.ack_rate,
        ),
        (
            f"flat out: ack p99 under 20 ms ({_ms(flat.latencies, 99)} ms)",
            bool(flat.latencies and percentile(flat.latencies, 99) < 20),
        ),
        (
            f"no 503 in any scenario ({sum(o.statuses.get(503, 0) for o in outcomes)})",
            all(o.statuses.get(503, 0) == 0 for o in outcomes),
        ),
        ("every acked event delivered, in every scenario", all_delivered),
        (
            f"flat out: delivered/s at least Bolt's ack rate ({flat.delivered_rate:,.0f} vs "
            f"{bolt.ack_rate:,.0f}/s)",
            flat.delivered_rate >= bolt.ack_rate,
        ),
        (
            f"paced 1,000/s: end-to-end p99 under 100 ms ({_ms(paced_1000.e2e, 99)} ms)",
            bool(paced_1000.e2e and percentile(paced_1000.e2e, 99) < 100),
        ),
        (
            f"hot channel at 500/s: in order and delivered at 500/s ({hot.delivered_rate:,.0f}/s)",
            bool(hot.in_order) and hot.delivered == hot.acked and hot.delivered_rate >= 475,
        ),
        (
            "no `database is locked` and no error in the gateway's log",
            "database is locked" not in log and "ERROR" not in log,
        ),
    ]


def _section(
    heading: str, outcomes: list[Outcome], bolt: Outcome, log: str, args: argparse.Namespace
) -> str:
    verdicts = _verdicts(outcomes, bolt, log)
    engine = "SQLite (WAL)" if args.database == "sqlite" else "PostgreSQL (a schema of its own)"
    if getattr(args, "vacuumed", False):
        engine = (
            "PostgreSQL (a schema of its own; this machine's server runs with autovacuum off, "
            "so the bench runs `VACUUM (ANALYZE)` on the schema's tables before each scenario, "
            "as autovacuum would have by then)"
        )
    lines = "\n".join(f"- {text}: {'met' if ok else '**NOT met**'}" for text, ok in verdicts)
    budget, checks = _budget(outcomes[0], bolt)
    if budget:
        budget = (
            "What the flat-out targets ask of the CPU (B: Bolt's ack rate; N events acked at 2B "
            "and delivered at B leave the gateway's one event loop 1/B of CPU per event and the "
            "machine's two cores 2/B for everything):\n\n"
            + budget
            + "\n"
            + "\n".join(f"- {text}: {'fits' if ok else '**does not fit**'}" for text, ok in checks)
            + "\n\n"
        )
    return (
        f"{heading}\n\n"
        "Signed Events API message events on 127.0.0.1 from "
        f"{args.concurrency} keep-alive connections (a minimal HTTP/1.1 client on asyncio "
        "streams, requests signed ahead of time). `slackbridge serve` (one process, store: "
        f"{engine}) has a webhook endpoint configured: a product in its own process (a bare "
        "ASGI app under uvicorn answering 200 at once, noting each webhook's arrival). Bolt for "
        "Python's AsyncApp behind uvicorn with one no-op `message` listener (acks before the "
        "listener runs, stores nothing, delivers nothing) gets the same flat-out stream in the "
        "same run. Acks/s: acked requests over the sending time; e2e: from a request's ack to "
        "its webhook's arrival at the product; delivered/s: events that reached the product "
        "over the time from the first request to the last arrival; in order: per channel, "
        "no webhook arrived after one whose request was sent after its own ack. CPU: the "
        "gateway's CPU per event from the first request to the last webhook's arrival (per "
        "ack for Bolt). Run with `.venv/bin/python "
        f"bench/ingress.py --database {args.database} --record`.\n\n"
        "| server | scenario | offered | acked | acks/s | ack p50 ms | ack p99 ms | non-2xx "
        "| delivered | e2e p50 ms | e2e p99 ms | delivered/s | in order | CPU µs/event |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n"
        + "\n".join(_row(o) for o in outcomes)
        + f"\n{_row(bolt)}\n\n"
        f"Targets:\n{lines}\n\n{budget}"
        f"Machine: {machine()}; the two cores are shared by the gateway, the product, Bolt, the "
        f"load generator and whatever else runs ({load_line('at the end')}). "
        f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--requests", type=int, default=20_000, help="flat out, at most")
    parser.add_argument("--seconds", type=float, default=20.0, help="flat out, at most")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--channels", type=int, default=64, help="channels of the spread load")
    parser.add_argument("--stall", type=float, default=30.0, help="give up delivery after")
    parser.add_argument("--quick", action="store_true", help="shorter paced scenarios")
    parser.add_argument("--record", action="store_true", help=f"write the result to {RESULTS}")
    parser.add_argument(
        "--profile", metavar="FILE", help="run the gateway under cProfile, its stats to FILE"
    )
    parser.add_argument("--scenario", default="", help="only scenarios whose name has this")
    parser.add_argument(
        "--no-product",
        action="store_true",
        help="no webhook endpoint: the acks' own cost (not the targets' setting; not recorded)",
    )
    parser.add_argument(
        "--stalls",
        metavar="FILE",
        help="sample the gateway's event-loop lag and its stacks while late into FILE",
    )
    args = parser.parse_args()
    if not (0 < args.requests <= 1_000_000 and 0 < args.seconds <= 600):
        parser.error("--requests must be 1..1000000 and --seconds 1..600")
    if not 1 <= args.concurrency <= 256 or not 1 <= args.channels <= 999:
        parser.error("--concurrency must be 1..256 and --channels 1..999")
    if args.record and (args.profile or args.scenario or args.no_product):
        parser.error(
            "--record needs every scenario, a product, and no --profile (which slows it down)"
        )
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    if args.stalls:
        args.stalls = str(Path(args.stalls).resolve())
        Path(args.stalls).unlink(missing_ok=True)
    outcomes, bolt, log = asyncio.run(_main(args))
    print(machine())
    print(_row(bolt))
    budget, checks = _budget(outcomes[0], bolt)
    print(budget, end="")
    for text, ok in checks:
        print(f"{'fits' if ok else 'does not fit'}: {text}")
    if args.scenario:
        return 0  # the targets need every scenario
    verdicts = _verdicts(outcomes, bolt, log)
    for text, ok in verdicts:
        print(f"{'met' if ok else 'NOT met'}: {text}")
    median_cpu = statistics.median(
        [o.server_cpu / o.acked * 1e6 for o in outcomes if o.server_cpu and o.acked] or [0]
    )
    print(f"gateway CPU per acked event (median over scenarios): {median_cpu:.0f} µs")
    if args.record:
        heading = "## Ingress" if args.database == "sqlite" else "## Ingress (PostgreSQL)"
        record_section(RESULTS, heading, _section(heading, outcomes, bolt, log, args))
        print(f"recorded in {RESULTS}")
    return 0 if all(ok for _text, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
