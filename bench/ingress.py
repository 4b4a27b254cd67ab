"""Benchmark: signed Events API requests acked per second, slackbridge vs. a minimal Bolt app.

In the same run on the same machine, two servers each get the same stream of signed
``event_callback`` requests (a message event with a fresh event_id each) on 127.0.0.1 from
``--concurrency`` keep-alive connections (a minimal HTTP/1.1 client on asyncio streams, so the
load generator costs little CPU):

- ``slackbridge``: ``slackbridge serve`` (uvicorn, one process), durable: each 200 is answered
  only after the inbox row is committed to SQLite (WAL, group commit), with the inbox worker
  processing the rows meanwhile. After the run the inbox must hold one row per event acked;
- ``bolt``: Bolt for Python's ``AsyncApp`` behind uvicorn (Starlette adapter) with one no-op
  ``message`` listener, acking before the listener runs (Bolt's default), nothing stored.

Each phase is bounded in requests and time. It prints requests/s and p50/p99 ack latency for
both, and the ratio; with ``--record`` it writes them as the "## Ingress" section of
bench/RESULTS.md (other sections are left as they are). Exits 1 when slackbridge is below 2x
Bolt's throughput, its p99 is 20 ms or more, or any request failed.

    .venv/bin/python bench/ingress.py [--requests 20000] [--seconds 30] [--concurrency 32]
                                      [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import platform
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Ingress"
RATIO_TARGET = 2.0
P99_TARGET_MS = 20.0
SIGNING_SECRET = "bench-signing-secret-0123456789ab"
APP_ID = "A0BENCH001"

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


@dataclass
class Result:
    server: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    server_cpu: float | None = None
    stored: int | None = None  # slackbridge: inbox rows after the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _process(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


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


def _signed_request(port: int, n: int, run: str) -> bytes:
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
                "channel": "C0ACME0GEN",
                "channel_type": "channel",
                "user": "U0ACME0001",
                "text": f"benchmark message {n}",
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


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def _drive(
    name: str, port: int, *, requests: int, seconds: float, concurrency: int, run: str
) -> Result:
    result = Result(name)
    # Signed ahead of time (well within Slack's 5-minute window), so that the load generator
    # spends its CPU on sending, not on JSON and HMAC.
    prepared = [_signed_request(port, n, run) for n in range(1, requests + 1)]
    issued = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        nonlocal issued
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while issued < requests and time.perf_counter() < deadline:
                request = prepared[issued]
                issued += 1
                t0 = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                if status == 200:
                    result.latencies.append(time.perf_counter() - t0)
                else:
                    result.errors += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    result.requests = len(result.latencies)
    return result


async def _measure(
    name: str, proc: subprocess.Popen[bytes], port: int, args: argparse.Namespace
) -> Result:
    # Warm up code paths and connections first (not measured).
    await _drive(name, port, requests=1000, seconds=15, concurrency=args.concurrency, run="W")
    before = _cpu_seconds(proc.pid)
    result = await _drive(
        name,
        port,
        requests=args.requests,
        seconds=args.seconds,
        concurrency=args.concurrency,
        run="M",
    )
    after = _cpu_seconds(proc.pid)
    if before is not None and after is not None:
        result.server_cpu = after - before
    return result


async def _run_slackbridge(args: argparse.Namespace, work: Path) -> Result:
    port = _free_port()
    data = work / "slackbridge"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")}
    env.update(
        SLACKBRIDGE_DATA_DIR=str(data),
        SLACKBRIDGE_LOG_LEVEL="WARNING",
        SLACKBRIDGE_SLACK_API_URL="http://127.0.0.1:9/api/",  # never called: nothing to enrich
        SLACKBRIDGE_APPS=json.dumps(
            [{"name": "bench", "app_id": APP_ID, "signing_secret": SIGNING_SECRET}]
        ),
    )
    cmd = [sys.executable, "-m", "slackbridge.cli", "serve", "--port", str(port)]
    log = work / "slackbridge.log"
    with _process(cmd, env, log) as proc:
        await _wait_ready(port, proc, log)
        result = await _measure("slackbridge", proc, port, args)
    with contextlib.closing(sqlite3.connect(data / "slackbridge.db")) as db:
        stored = db.execute("SELECT count(*) FROM inbox WHERE dedupe_key LIKE 'ev:%:EvM%'")
        result.stored = int(stored.fetchone()[0])
    return result


async def _run_bolt(args: argparse.Namespace, work: Path) -> Result:
    port = _free_port()
    (work / "bolt_bench_app.py").write_text(BOLT_APP)
    env = {**os.environ, "PYTHONPATH": str(work)}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bolt_bench_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log = work / "bolt.log"
    with _process(cmd, env, log) as proc:
        await _wait_ready(port, proc, log)
        return await _measure("bolt", proc, port, args)


def _machine() -> str:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"nproc {os.cpu_count()}, {cpu or 'unknown CPU'}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def _load() -> str:
    with contextlib.suppress(OSError, AttributeError):
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min) at the end"
    return "load average unknown"


def _row(r: Result) -> str:
    cpu = f"{r.server_cpu / r.requests * 1e6:.0f}" if r.server_cpu and r.requests else "n/a"
    stored = "" if r.stored is None else str(r.stored)
    return (
        f"| {r.server} | {r.requests} | {r.errors} | {r.seconds:.2f} | {r.rate:,.0f} "
        f"| {r.percentile(50):.2f} | {r.percentile(99):.2f} | {cpu} | {stored} |"
    )


def _verdict(ours: Result, bolt: Result) -> tuple[bool, str]:
    ratio = ours.rate / bolt.rate if bolt.rate else float("inf")
    ok = (
        ratio >= RATIO_TARGET
        and ours.percentile(99) < P99_TARGET_MS
        and not ours.errors
        and not bolt.errors
        and ours.stored == ours.requests
    )
    return ok, f"{ratio:.2f}x"


def _section(ours: Result, bolt: Result, args: argparse.Namespace) -> str:
    ok, ratio = _verdict(ours, bolt)
    return (
        f"{SECTION}\n\n"
        "Signed Events API requests (a message event, a new event_id each) on 127.0.0.1 from "
        f"{args.concurrency} keep-alive connections (a minimal HTTP/1.1 client on asyncio "
        "streams, requests signed ahead of time), each server in its own process, one after "
        "the other in the same run: "
        "`slackbridge serve` (durable: the 200 is sent after the inbox row is committed to "
        "SQLite, group commit, inbox worker running) and Bolt for Python's AsyncApp behind "
        "uvicorn with one no-op `message` listener (acks before the listener runs, stores "
        "nothing). 1,000 warm-up requests each, not counted. Run with "
        "`.venv/bin/python bench/ingress.py --record`.\n\n"
        "| server | requests acked | errors | seconds | requests/s | p50 ms | p99 ms "
        "| server CPU µs/request | inbox rows |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        f"{_row(ours)}\n{_row(bolt)}\n\n"
        f"slackbridge / Bolt throughput: **{ratio}**. Target: at least {RATIO_TARGET:.0f}x with "
        f"p99 under {P99_TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}.\n\n"
        f"Machine: {_machine()}; the cores are shared by the server, the load generator and "
        f"whatever else runs ({_load()}). Recorded {time.strftime('%Y-%m-%d')}.\n\n"
        f"{_NOTES}"
    )


_NOTES = """\
Where the time goes (py-spy and /proc CPU on this machine). uvicorn with httptools costs about
35 µs of CPU per request by itself: a bare ASGI app answering the same requests the same way does
about 10,000 requests/s. On top of that slackbridge checks the signature, parses and queues the
row, writes it in a group commit (mostly in its writer thread, with the GIL released) and has the
inbox worker normalize and complete every row while the run goes on (that is counted: the worker
shares the process). Bolt spends 175 to 220 µs per request. Both servers and the load generator
share two cores with other work on the machine, and Bolt's own numbers move with that load (from
about 4,000 to 5,600 requests/s between runs), so the ratio moves too: with the settings shipped,
our runs gave 1.3x to 1.55x at about two thirds of Bolt's CPU per request, p99 17 to 23 ms.
**The 2x target is not met on this machine**; the server would need to spend about 90 µs per
request, durable write and processing included, with the load generator on the other core.

What was done to get here (the first measurement was 615 requests/s, 0.28x Bolt, 1,130 µs of
CPU per request): the /slack/* routes are raw ASGI, before FastAPI's middleware (FastAPI alone
took a trivial route from about 9,800 to 4,300 requests/s here); signing secrets are cached with
a single-flight refresh instead of a query per request; SQLite inserts go through a dedicated
connection in one thread hop per group commit (the async driver needed about twenty hops per
transaction), with few one-step statements (the GIL is taken back after every step); new rows are
written already leased to the local inbox worker and handed over in memory (no claim query), which
completes them with one UPDATE per batch; one deadline watchdog replaces a timer per request; and
the group-commit window went from 2 ms to 0.1 ms (batches form anyway from the requests that
arrive while a commit is being written; the longer window cost 25% of the throughput).
"""


def _record(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n")


def _print(r: Result) -> None:
    cpu = f", server CPU {r.server_cpu / r.requests * 1e6:.0f} µs/request" if r.server_cpu else ""
    stored = f", {r.stored} inbox rows" if r.stored is not None else ""
    print(
        f"{r.server:>11}: {r.requests} acked in {r.seconds:.2f}s: {r.rate:,.0f} req/s, "
        f"p50 {r.percentile(50):.2f} ms, p99 {r.percentile(99):.2f} ms, {r.errors} errors"
        f"{cpu}{stored}"
    )


async def _main(args: argparse.Namespace) -> tuple[Result, Result]:
    with tempfile.TemporaryDirectory(prefix="slackbridge-bench-") as tmp:
        work = Path(tmp)
        ours = await _run_slackbridge(args, work)
        bolt = await _run_bolt(args, work)
    return ours, bolt


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="per server, at most")
    parser.add_argument("--seconds", type=float, default=30.0, help="per server, at most")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--record", action="store_true", help=f"write the result to {RESULTS}")
    args = parser.parse_args()
    if not (0 < args.requests <= 1_000_000 and 0 < args.seconds <= 600):
        parser.error("--requests must be 1..1000000 and --seconds 1..600")
    if not 1 <= args.concurrency <= 256:
        parser.error("--concurrency must be 1..256")
    ours, bolt = asyncio.run(_main(args))
    print(_machine())
    _print(ours)
    _print(bolt)
    ok, ratio = _verdict(ours, bolt)
    print(f"slackbridge / bolt: {ratio} ({'target met' if ok else 'target NOT met'})")
    if args.record:
        _record(_section(ours, bolt, args))
        print(f"recorded in {RESULTS}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
